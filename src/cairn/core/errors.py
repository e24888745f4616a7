"""One small error hierarchy. Every message says what happened and what to do next."""

from __future__ import annotations


class CairnError(Exception):
    """A failure the user can act on. The CLI prints it on one line and exits 1."""

    exit_code = 1


class UsageError(CairnError):
    """The command or call was malformed (bad name, illegal transition, missing argument). Exit 2."""

    exit_code = 2


class NotAWorkspace(CairnError):
    """No `.cairn/` was found at or above the given folder."""


class StoreError(CairnError):
    """The store cannot be used as it is: corrupt, truncated, or written by a newer cairn."""


class ValidationError(UsageError):
    """A name, path or piece of content failed validation; nothing was written."""


class NotFound(UsageError):
    """A task, phase, checkpoint or review that does not exist was named."""


class TransitionError(UsageError):
    """A phase transition that the rules forbid; the message lists what is legal."""
