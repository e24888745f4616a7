"""``provider:model`` to a pydantic-ai model, with retries and a per-request time limit.

``scripted:<suite>`` is the deterministic scripted model (:mod:`cairn.models.scripted`); every other
spec (``openai:gpt-4o``, ``anthropic:claude-sonnet-4-5``, ``ollama:llama3``, ...) goes to pydantic-ai's
own model inference, so no HTTP is written here.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any

from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError
from pydantic_ai.models.wrapper import WrapperModel

from cairn.core.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic_ai.messages import ModelMessage, ModelResponse
    from pydantic_ai.models import Model, ModelRequestParameters
    from pydantic_ai.settings import ModelSettings

    from cairn.core.config import Config

_SDK_HINT = {
    "openai": "pip install 'cairn-agent[openai]'",
    "anthropic": "pip install 'cairn-agent[anthropic]'",
}


def resolve_model(
    spec: str | Model, config: Config | None = None, root: Path | None = None
) -> Model:
    """The pydantic-ai model for ``spec``; errors say what to install or set."""
    from pydantic_ai.exceptions import UserError
    from pydantic_ai.models import Model, infer_model

    if isinstance(spec, Model):
        return spec
    if not isinstance(spec, str) or ":" not in spec:
        raise UsageError(
            f"model {spec!r} is not provider:model; e.g. openai:gpt-4o, "
            "anthropic:claude-sonnet-4-5, or scripted:demo for the scripted model"
        )
    provider, name = spec.split(":", 1)
    if provider == "scripted":
        from cairn.models.scripted import scripted_model
        from cairn.models.scripted_suites import get_suite, suites_from_config

        suites_from_config(config, root)
        return scripted_model(get_suite(name), name)
    try:
        return infer_model(spec)
    except ImportError as exc:
        hint = _SDK_HINT.get(provider, f"install the SDK for {provider}")
        raise UsageError(f"model {spec}: {exc}; {hint}") from exc
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
