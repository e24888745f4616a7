"""``cairn ui``: a local, read-only, live dashboard of one workspace (Starlette and uvicorn).

Nothing here is imported by the rest of cairn; the CLI imports :mod:`cairn.ui.server` only when
``cairn ui`` runs, so the other commands never pay for the web stack.
"""
