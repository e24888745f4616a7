"""Ask a model: one interface over hosted APIs, agent CLIs, people and a structural checklist.

Models are addressed as ``provider:model``. Every provider, built in or not, goes through
:func:`register_provider`, so the path a test's fake model takes is the path ``openai`` takes.
Vendor SDKs are imported only when a model of theirs is used.

Settings, in ``.cairn/config.toml`` (API keys come from the environment only; a key in the file is
refused)::

    [reviews]
    default = "codex"                  # or "openai:gpt-4o", "anthropic:claude-sonnet-4-6", "human";
                                       # $CAIRN_REVIEWER overrides it; "checklist" when unset
    context_max_tokens = 24000         # cap on the context files sent, in tokens, with a stated cut
    timeout = 600                      # seconds a reviewer may take
    max_tokens = 2000                  # reply length asked for

    [providers.openai]                 # OPENAI_API_KEY; OPENAI_BASE_URL also read
    base_url = "http://localhost:8000/v1"   # vLLM, Ollama, llama.cpp server, LM Studio
    api_key_env = "OPENAI_API_KEY"     # the variable holding the key
    max_retries = 3                    # the SDK's retries on 429, 408, 409, 5xx, timeouts

    [providers.ollama]                 # any name: an OpenAI-compatible server as its own provider
    type = "openai"
    base_url = "http://localhost:11434/v1"

    [providers.anthropic]              # ANTHROPIC_API_KEY; base_url, api_version, max_retries
    [providers.codex]                  # command = "codex", args = [...], max_retries, retry_delay
    [providers.claude]                 # command = "claude", args = [...], max_retries, retry_delay

The same ``[providers.*]`` tables serve ``cairn agent run --model provider:model``
(:mod:`cairn.models.agent_adapter`): one provider (:mod:`cairn.models.providers`: base URL, key
variable, retries) under the review's wire format and the agent's.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cairn.core.errors import UsageError
from cairn.models.base import (
    Completion,
    MissingExtra,
    Model,
    ModelError,
    ModelTimeout,
    ProviderFactory,
    env_secrets,
    redact,
    scrub,
)
from cairn.models.providers import ApiModel, provider_settings

if TYPE_CHECKING:
    from cairn.core.config import Config

DEFAULT_REVIEWER = "checklist"

_REGISTRY: dict[str, ProviderFactory] = {}

# Built-in providers: name -> "module:factory", imported on first use.
_BUILTINS = {
    "openai": "cairn.models.openai_chat:create",
    "anthropic": "cairn.models.anthropic_messages:create",
    "codex": "cairn.models.cli_provider:create_codex",
    "claude": "cairn.models.cli_provider:create_claude",
    "human": "cairn.models.local:create_human",
    "file": "cairn.models.local:create_file",
    "checklist": "cairn.models.local:create_checklist",
}


def _lazy(target: str) -> ProviderFactory:
    module_name, func = target.split(":")

    def factory(model: str, settings: Mapping[str, Any]) -> Model:
        made: Model = getattr(importlib.import_module(module_name), func)(model, settings)
        return made

    return factory


def register_provider(name: str, factory: ProviderFactory, *, replace: bool = True) -> None:
    """Make ``name:model`` resolvable. ``factory(model, settings)`` returns a :class:`Model`."""
    if not name or ":" in name or not name.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"provider name {name!r} must be letters, digits, '-' or '_'")
    if not replace and name in _REGISTRY:
        raise UsageError(f"provider {name!r} is already registered")
    _REGISTRY[name] = factory


def unregister_provider(name: str) -> None:
    _REGISTRY.pop(name, None)


def _ensure_builtins() -> None:
    for name, target in _BUILTINS.items():
        if name not in _REGISTRY:
            register_provider(name, _lazy(target))


def providers() -> list[str]:
    _ensure_builtins()
    return sorted(_REGISTRY)


def parse_spec(spec: str) -> tuple[str, str]:
    """``"openai:gpt-4o"`` -> ``("openai", "gpt-4o")``; ``"codex"`` -> ``("codex", "")``.

    Only the first ``:`` separates: model names may hold more (``ollama:llama3:8b``).
    """
    spec = (spec or "").strip()
    if not spec or "\x00" in spec or len(spec) > 200:
        raise UsageError(
            f"reviewer {spec!r} is not of the form provider:model (e.g. openai:gpt-4o, codex)"
        )
    provider, _, model = spec.partition(":")
    return provider.strip(), model.strip()


def resolve(spec: str, config: Config | Mapping[str, Any] | None = None) -> Model:
    """The model for ``provider:model``, with that provider's settings from ``[providers.NAME]``.

    A configured provider may name a built-in one as its ``type``:
    ``[providers.ollama] type = "openai"  base_url = "http://localhost:11434/v1"`` makes
    ``ollama:llama3`` an OpenAI-compatible model at that address.
    """
    _ensure_builtins()
    provider, model = parse_spec(spec)
    kind, settings = provider_settings(provider, config)
    factory = _REGISTRY.get(kind)
    if factory is None:
        known = ", ".join(sorted(_REGISTRY))
        raise UsageError(
            f"no model provider {kind!r}; known providers: {known}. Configure another under "
            f'[providers.{provider}] with type = "openai" and a base_url'
        )
    made = factory(model, settings)
    if kind != provider:
        made.provider = provider
        if isinstance(made, ApiModel):
            made.api.name = provider  # errors name the table to fix: [providers.ollama]
    return made


__all__ = [
    "DEFAULT_REVIEWER",
    "Completion",
    "MissingExtra",
    "Model",
    "ModelError",
    "ModelTimeout",
    "ProviderFactory",
    "env_secrets",
    "parse_spec",
    "providers",
    "redact",
    "register_provider",
    "resolve",
    "scrub",
    "unregister_provider",
]
