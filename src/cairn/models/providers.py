"""Providers: where a model is reached and how, apart from what is said on the wire.

A provider is a ``[providers.NAME]`` table of ``.cairn/config.toml`` (or none, for the defaults):
its ``type`` (a built-in kind), the base URL, the variable holding the key, the SDK's retries,
the SDK to install. The same provider serves a review (``cairn.models.openai_chat``,
``anthropic_messages``: one ``complete`` call) and an agent run (``cairn.models.agent_adapter``:
pydantic-ai's models over the same base URL, key and retries), so a local server configured once
is used by both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from cairn.core.errors import UsageError
from cairn.models.base import (
    Model,
    ModelError,
    ModelTimeout,
    key_from_env,
    missing_extra,
    redact,
    remember_secret,
    require_module,
    scrub,
)

if TYPE_CHECKING:
    from cairn.core.config import Config


def providers_table(config: Config | Mapping[str, Any] | None) -> dict[str, Any]:
    if config is None:
        return {}
    section = (
        config.get("providers", {}) if isinstance(config, Mapping) else config.section("providers")
    )
    return section if isinstance(section, dict) else {}


def provider_settings(
    provider: str, config: Config | Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """``(kind, settings)`` of ``[providers.<provider>]``: the kind is its ``type``, else its name."""
    settings = providers_table(config).get(provider, {})
    if not isinstance(settings, dict):
        raise UsageError(f"[providers.{provider}] in config.toml must be a table")
    if "api_key" in settings:
        raise UsageError(
            f"[providers.{provider}] holds api_key; cairn reads keys from the environment only. "
            "Remove it from config.toml and export the key (e.g. OPENAI_API_KEY), or name the "
            "variable with api_key_env"
        )
    return str(settings.get("type", provider)), settings


class ApiProvider:
    """A hosted API reached through its vendor SDK (an optional extra of the same name).

    The key comes from an environment variable only (``api_key_env``); retries are the SDK's own
    (``max_retries``, default 3, with backoff and ``Retry-After``).
    """

    kind = ""
    sdk = ""
    client_class = ""
    default_key_env = ""
    default_host = ""

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        self.name = name or self.kind
        self.settings: dict[str, Any] = dict(settings or {})
        self.key_env = str(self.settings.get("api_key_env", self.default_key_env))
        self.max_retries = int(self.settings.get("max_retries", 3))
        self.base_url: str | None = self.settings.get("base_url") or None

    @property
    def where(self) -> str:
        return self.base_url or self.default_host

    def key(self, spec: str) -> str:
        """The API key, or an error that says which variable to export."""
        key = key_from_env(self.key_env)
        if not key:
            raise ModelError(
                f"no API key for {spec}: export {self.key_env}=... (cairn reads keys from the "
                "environment only)"
            )
        remember_secret(key)
        return key

    def check(self, spec: str) -> None:
        require_module(self.sdk, self.sdk)
        self.key(spec)

    def secrets(self) -> list[str]:
        key = key_from_env(self.key_env)
        if key:
            remember_secret(key)
        return [key] if key else []

    def client(self, spec: str, timeout: float) -> Any:
        """The SDK's synchronous client (``openai.OpenAI``, ``anthropic.Anthropic``)."""
        return getattr(self.sdk_module(), self.client_class)(
            api_key=self.key(spec),
            base_url=self.base_url,
            timeout=timeout,
            max_retries=self.max_retries,
        )

    def sdk_module(self) -> Any:
        import importlib

        try:
            return importlib.import_module(self.sdk)
        except ImportError:
            raise missing_extra(self.sdk, self.sdk) from None

    def reraise(self, exc: BaseException, spec: str, timeout: float) -> NoReturn:
        """Raise the SDK's exception as cairn's error, with keys masked and no chained cause that
        could still hold one; anything else is raised as it is.

        The OpenAI and Anthropic SDKs share their exception classes' names."""
        sdk = self.sdk_module()
        if isinstance(exc, sdk.APITimeoutError):
            raise ModelTimeout(
                f"{spec} did not answer within {timeout:g} s (after {self.max_retries} "
                "retries); raise [reviews] timeout or try later"
            ) from exc
        if isinstance(exc, sdk.AuthenticationError):
            raise ModelError(
                f"{spec} refused the API key (HTTP 401): check {self.key_env}; "
                + redact(str(exc), self.secrets())
            ) from None
        if isinstance(exc, sdk.APIStatusError):
            raise ModelError(
                f"{spec} answered HTTP {exc.status_code} (after retries): "
                + redact(str(exc), self.secrets())
            ) from None
        if isinstance(exc, sdk.APIConnectionError):
            raise ModelError(
                f"cannot reach {self.where} for {spec} ({type(exc).__name__}); check the network "
                f"or [providers.{self.name}] base_url"
            ) from None
        raise exc


class OpenAIApi(ApiProvider):
    """OpenAI, or a server that speaks its protocol (vLLM, Ollama, llama.cpp server, LM Studio)."""

    kind = "openai"
    sdk = "openai"
    client_class = "OpenAI"
    default_key_env = "OPENAI_API_KEY"
    default_host = "api.openai.com"

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.base_url = self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    def key(self, spec: str) -> str:
        key = key_from_env(self.key_env)
        if key:
            remember_secret(key)
            return key
        if self.base_url:
            return "not-needed"  # local servers (Ollama, vLLM, llama.cpp) accept any key
        raise ModelError(
            f"no API key for {spec}: export {self.key_env}=... (cairn reads keys from the "
            f"environment only), or set [providers.{self.name}] base_url for a local server"
        )


class AnthropicApi(ApiProvider):
    kind = "anthropic"
    sdk = "anthropic"
    client_class = "Anthropic"
    default_key_env = "ANTHROPIC_API_KEY"
    default_host = "api.anthropic.com"


API_PROVIDERS: dict[str, type[ApiProvider]] = {"openai": OpenAIApi, "anthropic": AnthropicApi}


class ApiModel(Model):
    """A model whose wire format is spoken to an :class:`ApiProvider`."""

    api_class: type[ApiProvider]
    default_model: str

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name or str((settings or {}).get("model", self.default_model)), settings)
        self.api = self.api_class(self.provider, self.settings)

    @property
    def max_retries(self) -> int:
        return self.api.max_retries

    def check(self) -> None:
        self.api.check(self.spec)

    def secrets(self) -> list[str]:
        return self.api.secrets()

    def bad_reply(self, client: Any, path: str, got: Any, expected: str) -> ModelError:
        """The error for a body that is not the API's JSON (a captive portal's page, a proxy's
        error, another service on the port): one line naming the provider, the URL and what came
        back, clipped and with keys masked, where the SDK would hand back a string or a hollow
        object and the caller would fail on a missing attribute."""
        if isinstance(got, bytes):
            text = got.decode(errors="replace")
        elif isinstance(got, str):
            text = got
        else:
            try:
                text = json.dumps(got.model_dump(mode="json", exclude_unset=True), default=str)
            except Exception:  # a hollow SDK object may not dump; its repr still says what it is
                text = repr(got)
        text = " ".join(scrub(redact(text, self.secrets())).split())
        shown = f"{text[:200]}... ({len(text)} characters)" if len(text) > 200 else text
        base = str(getattr(client, "base_url", "") or self.api.where).rstrip("/")
        return ModelError(
            f"{self.spec}: {base}{path} did not answer with {expected}; it sent "
            + (f"'{shown}'" if shown else "an empty body")
        )
