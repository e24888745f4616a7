"""OpenAI-compatible chat completions through the official ``openai`` SDK.

Covers OpenAI itself and servers that speak its protocol (vLLM, Ollama, llama.cpp server, LM Studio)
through ``base_url``. Retries (429, 408, 409, 5xx, connection errors and timeouts, with exponential
backoff and ``Retry-After``) are the SDK's own; cairn sets how many.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cairn.models.base import (
    ApiModel,
    Completion,
    Model,
    ModelError,
    ModelTimeout,
    key_from_env,
    missing_extra,
    redact,
)

DEFAULT_MODEL = "gpt-4o"


class OpenAIModel(ApiModel):
    provider = "openai"
    sdk = "openai"
    default_model = DEFAULT_MODEL
    default_key_env = "OPENAI_API_KEY"

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.base_url: str | None = self.settings.get("base_url") or os.environ.get(
            "OPENAI_BASE_URL"
        )
        # api.openai.com wants max_completion_tokens (reasoning models refuse max_tokens); most
        # compatible servers still read max_tokens.
        default_param = "max_tokens" if self.base_url else "max_completion_tokens"
        self.max_tokens_param = str(self.settings.get("max_tokens_param", default_param))

    def _key(self) -> str:
        key = key_from_env(self.key_env)
        if key:
            return key
        if self.base_url:
            return "not-needed"  # local servers (Ollama, vLLM, llama.cpp) accept any key
        raise ModelError(
            f"no API key for {self.spec}: export {self.key_env}=... (cairn reads keys from the "
            "environment only), or set [providers.openai] base_url for a local server"
        )

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 2000,
        timeout: float = 600,
    ) -> Completion:
        try:
            import openai
        except ImportError:
            raise missing_extra("openai", "openai") from None
        client = openai.OpenAI(
            api_key=self._key(),
            base_url=self.base_url or None,
            timeout=timeout,
            max_retries=self.max_retries,
        )
        messages: list[dict[str, str]] = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": prompt})
        kwargs: dict[str, Any] = {self.max_tokens_param: max_tokens}
        try:
            resp = client.chat.completions.create(
                model=self.name,
                messages=messages,  # type: ignore[arg-type]
                **kwargs,
            )
        except openai.APITimeoutError as exc:
            raise ModelTimeout(
                f"{self.spec} did not answer within {timeout:g} s (after {self.max_retries} "
                "retries); raise [reviews] timeout or try later"
            ) from exc
        except openai.AuthenticationError as exc:
            raise ModelError(
                f"{self.spec} refused the API key (HTTP 401): check {self.key_env}; "
                + redact(str(exc), self.secrets())
            ) from None
        except openai.APIStatusError as exc:
            raise ModelError(
                f"{self.spec} answered HTTP {exc.status_code} (after retries): "
                + redact(str(exc), self.secrets())
            ) from None
        except openai.APIConnectionError as exc:
            where = self.base_url or "api.openai.com"
            raise ModelError(
                f"cannot reach {where} for {self.spec} ({type(exc).__name__}); check the network "
                "or [providers.openai] base_url"
            ) from None
        finally:
            client.close()
        if not resp.choices:
            raise ModelError(f"{self.spec} returned no choices")
        text = resp.choices[0].message.content or ""
        usage = resp.usage
        return Completion(
            text=text,
            input_tokens=usage.prompt_tokens if usage else None,
            output_tokens=usage.completion_tokens if usage else None,
            model=resp.model or self.name,
            provider=self.provider,
            raw=resp.model_dump(mode="json"),
        )


def create(model: str, settings: Mapping[str, Any]) -> Model:
    return OpenAIModel(model, settings)
