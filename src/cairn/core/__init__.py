"""Pure values and rules: the model, names, config, tokens, templates, atomic file writes.

Nothing here opens a store or renders the readable tree; every other layer may import it.
"""
