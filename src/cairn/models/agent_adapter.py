"""``provider:model`` to a pydantic-ai model for the agent runtime, over cairn's providers.

The provider is the one a review uses (:mod:`cairn.models.providers`): ``[providers.NAME]`` of
``.cairn/config.toml`` gives its ``type``, ``base_url``, ``api_key_env`` and ``max_retries``, so
``cairn agent run --model ollama:llama3`` reaches the server a review of ``ollama:llama3`` reaches.
Only the wire format differs: pydantic-ai's models, which speak tools and multi-turn messages.

* ``openai`` kinds: Chat Completions (what every OpenAI-compatible server speaks) when the provider
  has a base URL, else pydantic-ai's default for api.openai.com, the Responses API; ``api = "chat"``
  or ``"responses"`` in the table, or the spec ``openai-chat:`` / ``openai-responses:``, choose.
* ``anthropic`` kinds: the Messages API.
* ``scripted:<suite>``: the deterministic scripted model (:mod:`cairn.models.scripted`), suites from
  :mod:`cairn.models.scripted_suites` and ``[providers.scripted] suites``.
* any other provider pydantic-ai knows (``google-gla:``, ``groq:``, ...): its own inference, keys
  from the environment, when no ``[providers.NAME]`` table configures it.

Retries: the SDK's (``max_retries``, with ``Retry-After``) inside each request, then
:class:`ResilientModel` around requests (``[agent] retries``), which records each retry.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError
from pydantic_ai.models.wrapper import WrapperModel

from cairn.core.errors import UsageError
from cairn.models.base import ModelError
from cairn.models.providers import API_PROVIDERS, AnthropicApi, ApiProvider, provider_settings

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic_ai.messages import ModelMessage, ModelResponse
    from pydantic_ai.models import Model, ModelRequestParameters
    from pydantic_ai.settings import ModelSettings

    from cairn.core.config import Config

# pydantic-ai's names for a wire format of a provider cairn configures: (provider, api).
_ALIASES = {"openai-chat": ("openai", "chat"), "openai-responses": ("openai", "responses")}
_APIS = ("chat", "responses")


def agent_model(
    spec: str | Model,
    config: Config | Mapping[str, Any] | None = None,
    root: Path | None = None,
) -> Model:
    """The pydantic-ai model for ``spec``, with its provider's settings; errors say what to set."""
    from pydantic_ai.models import Model

    if isinstance(spec, Model):
        return spec
    if not isinstance(spec, str) or ":" not in spec:
        raise UsageError(
            f"model {spec!r} is not provider:model; e.g. openai:gpt-4o, "
            "anthropic:claude-sonnet-4-5, or scripted:demo for the scripted model"
        )
    provider, name = (part.strip() for part in spec.split(":", 1))
    if provider == "scripted":
        from cairn.models.scripted import scripted_model
        from cairn.models.scripted_suites import get_suite, suites_from_config

        suites_from_config(config, root)
        return scripted_model(get_suite(name), name)
    provider, api = _ALIASES.get(provider, (provider, None))
    kind, settings = provider_settings(provider, config)
    made = API_PROVIDERS.get(kind)
    if made is not None:
        try:
            return _api_model(made(provider, settings), spec, name, api)
        except ModelError as exc:  # no key: the message names the variable to export
            raise UsageError(f"model {spec}: {exc}") from None
        except ImportError as exc:
            raise UsageError(f"model {spec}: {exc}; pip install 'cairn-agent[{made.sdk}]'") from exc
    from cairn import models as registry

    if kind in registry.providers():
        raise UsageError(
            f"model {spec}: the {kind!r} provider answers reviews, not agent runs; use an API "
            'model (openai:..., anthropic:..., or a [providers.NAME] with type = "openai")'
        )
    if settings:
        raise UsageError(
            f"[providers.{provider}] configures a provider the agent runtime cannot use; set "
            'type = "openai" for an OpenAI-compatible server (or "anthropic")'
        )
    return _inferred(spec, provider)


def _api_model(api: ApiProvider, spec: str, name: str, wire: str | None) -> Model:
    from pydantic_ai.settings import ModelSettings

    api.check(spec)
    # The SDK's retries, as for a review; cairn's own come on top (ResilientModel).
    settings = ModelSettings(max_retries=api.max_retries)
    if isinstance(api, AnthropicApi):
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        return AnthropicModel(
            name,
            provider=AnthropicProvider(api_key=api.key(spec), base_url=api.base_url),
            settings=settings,
        )
    from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider

    wire = wire or str(api.settings.get("api", "chat" if api.base_url else "responses"))
    if wire not in _APIS:
        raise UsageError(f'[providers.{api.name}] api is {wire!r}; use "chat" or "responses"')
    provider = OpenAIProvider(base_url=api.base_url, api_key=api.key(spec))
    if wire == "chat":
        return OpenAIChatModel(name, provider=provider, settings=settings)
    return OpenAIResponsesModel(name, provider=provider, settings=settings)


def _inferred(spec: str, provider: str) -> Model:
    from pydantic_ai.exceptions import UserError
    from pydantic_ai.models import infer_model

    try:
        return infer_model(spec)
    except ImportError as exc:
        raise UsageError(f"model {spec}: {exc}; install the SDK for {provider}") from exc
    except UserError as exc:
        raise UsageError(
            f"model {spec}: {exc} (set the provider's API key in the environment, or use "
            "--model scripted:demo)"
        ) from exc


class ProviderFailed(ModelAPIError):
    """The provider kept failing after the retries; the phase fails, its progress is kept."""


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, ModelHTTPError):
        return exc.status_code in (408, 409, 425, 429) or exc.status_code >= 500
    return isinstance(exc, ModelAPIError | TimeoutError | ConnectionError)


class ResilientModel(WrapperModel):
    """Retries rate limits, server errors and timeouts with backoff; bounds each request in time."""

    def __init__(
        self,
        wrapped: Model,
        *,
        retries: int = 3,
        base_delay: float = 1.0,
        timeout: float | None = 300.0,
        on_retry: Any = None,
    ) -> None:
        super().__init__(wrapped)
        self.retries = retries
        self.base_delay = base_delay
        self.timeout = timeout
        self.on_retry = on_retry

    @property
    def model_name(self) -> str:
        return str(self.wrapped.model_name)

    @property
    def system(self) -> str:
        return str(self.wrapped.system)

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        attempt = 0
        while True:
            try:
                call = self.wrapped.request(messages, model_settings, model_request_parameters)
                if self.timeout:
                    return await asyncio.wait_for(call, self.timeout)
                return await call
            except Exception as exc:
                if not retryable(exc):
                    raise
                attempt += 1
                what = (
                    f"timed out after {self.timeout:g} s"
                    if isinstance(exc, TimeoutError)
                    else f"{type(exc).__name__}: {exc}"
                )
                if attempt > self.retries:
                    raise ProviderFailed(
                        self.model_name,
                        f"the provider failed {attempt} times in a row, last: {what}",
                    ) from exc
                if self.on_retry is not None:
                    self.on_retry(attempt, what)
                delay = self.base_delay * (2 ** (attempt - 1))
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
