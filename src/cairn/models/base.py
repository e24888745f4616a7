"""The model interface: one ``complete`` call, whatever answers it.

A provider turns settings (auth, base URL, command) into a :class:`Model`; the model speaks one wire
format. Models are addressed as ``provider:model`` (``openai:gpt-4o``, ``codex``, ``checklist``).
"""

from __future__ import annotations

import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cairn.core.errors import CairnError, UsageError


class ModelError(CairnError):
    """A model call failed (HTTP error, non-zero exit, unreadable output). No verdict was given."""


class ModelTimeout(ModelError):
    """A model call ran past its time limit."""


class MissingExtra(UsageError):
    """An optional SDK is not installed; the message names the exact ``pip install``."""


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int | None
    output_tokens: int | None
    model: str
    provider: str
    raw: Any = field(default=None, repr=False)
    tokens_exact: bool = True  # False when the counts are cairn's estimates, not the provider's


class Model(ABC):
    """Base class of every model. Subclasses set ``provider`` and implement :meth:`complete`."""

    provider: str = ""
    #: True for reviewers that answer later (a person, a file): ``complete`` is never called.
    deferred: bool = False

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.settings: dict[str, Any] = dict(settings or {})

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.name}" if self.name else self.provider

    @abstractmethod
    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 2000,
        timeout: float = 600,
    ) -> Completion:
        """Ask the model once and return its reply with the usage it reported."""

    def check(self) -> None:  # noqa: B027 - a hook with nothing to check by default
        """Raise if this model cannot be asked at all (SDK missing, no key, no executable), so that
        nothing is recorded for a request that could never be answered."""

    def secrets(self) -> list[str]:
        """Values (API keys) that must never appear in anything cairn writes."""
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"


ProviderFactory = Callable[[str, Mapping[str, Any]], Model]


def missing_extra(package: str, extra: str) -> MissingExtra:
    return MissingExtra(
        f"the {package!r} package is not installed, and this model needs it; run "
        f"`pip install 'cairn-agent[{extra}]'` (or `pip install {package}`)"
    )


def require_module(module: str, extra: str) -> None:
    """Fail with the install command when an optional SDK is missing, without importing it."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise missing_extra(module, extra)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (and its long prefixes/suffixes, as servers echo them) with ``***``."""
    for s in secrets:
        if not s or len(s) < 8:
            continue
        text = text.replace(s, "***")
        # Servers echo keys partly ("sk-abc...wxyz"); hide any 8+ character slice of the key too.
        for n in (12, 8):
            if len(s) > n:
                text = text.replace(s[:n], "***").replace(s[-n:], "***")
    return text


_SECRET_VAR = re.compile(r"(API_KEY|_TOKEN|_SECRET|SECRET_ACCESS_KEY)$")


def env_secrets() -> list[str]:
    """The values of environment variables that hold credentials (``*_API_KEY``, ``*_TOKEN``, ...):
    what the agent runtime's providers read their keys from, so what an echoing server may quote."""
    return [v for k, v in os.environ.items() if _SECRET_VAR.search(k.upper()) and len(v) >= 8]


def key_from_env(var: str) -> str | None:
    value = os.environ.get(var, "").strip()
    return value or None


# Keys a provider has read (from whatever variable its api_key_env names): masked by scrub() like
# the environment's *_API_KEY values, since a server may quote them in any error.
_KNOWN_SECRETS: set[str] = set()


def remember_secret(value: str) -> None:
    if value and len(value) >= 8:
        _KNOWN_SECRETS.add(value)


def scrub(text: str) -> str:
    """``text`` with every credential masked: the environment's (``*_API_KEY``, ``*_TOKEN``, ...)
    and every key a provider has read. Providers echo keys in errors, and nothing cairn writes
    may hold one."""
    return redact(text, [*env_secrets(), *sorted(_KNOWN_SECRETS, key=len, reverse=True)])


T = TypeVar("T")


def with_retries(
    call: Callable[[], T],
    *,
    retries: int,
    retryable: Callable[[BaseException], bool],
    base_delay: float = 0.5,
    max_delay: float = 8.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``; on a retryable error wait ``base_delay * 2**n`` (capped) and try again."""
    attempt = 0
    while True:
        try:
            return call()
        except BaseException as exc:
            if attempt >= retries or not retryable(exc):
                raise
            sleep(min(base_delay * (2**attempt), max_delay))
            attempt += 1
