"""Anthropic's Messages API through the official ``anthropic`` SDK.

Retries (429, 408, 409, 5xx incl. 529 overloaded, connection errors, with backoff and
``Retry-After``) are the SDK's own; cairn sets how many.
"""

from __future__ import annotations

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

DEFAULT_MODEL = "claude-sonnet-4-6"
API_VERSION = "2023-06-01"


class AnthropicModel(ApiModel):
    provider = "anthropic"
    sdk = "anthropic"
    default_model = DEFAULT_MODEL
    default_key_env = "ANTHROPIC_API_KEY"

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.base_url: str | None = self.settings.get("base_url") or None
        self.api_version = str(self.settings.get("api_version", API_VERSION))

    def _key(self) -> str:
        key = key_from_env(self.key_env)
        if not key:
            raise ModelError(
                f"no API key for {self.spec}: export {self.key_env}=... (cairn reads keys from "
                "the environment only)"
            )
        return key

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 2000,
        timeout: float = 600,
    ) -> Completion:
        try:
            import anthropic
        except ImportError:
            raise missing_extra("anthropic", "anthropic") from None
        key = self._key()
        client = anthropic.Anthropic(
            api_key=key, base_url=self.base_url, timeout=timeout, max_retries=self.max_retries
        )
        # cairn speaks the documented protocol whatever the SDK release: the API key in x-api-key
        # (some releases send it as a bearer token) and a pinned anthropic-version, the one whose
        # response shape cairn reads ([providers.anthropic] api_version changes it).
        kwargs: dict[str, Any] = {
            "extra_headers": {
                "X-Api-Key": key,
                "Authorization": anthropic.omit,
                "anthropic-version": self.api_version,
            }
        }
        if system:
            kwargs["system"] = system
        try:
            resp = client.messages.create(
                model=self.name,
                max_tokens=max_tokens,
                messages=[{"role": "user", "content": prompt}],
                **kwargs,
            )
        except anthropic.APITimeoutError as exc:
            raise ModelTimeout(
                f"{self.spec} did not answer within {timeout:g} s (after {self.max_retries} "
                "retries); raise [reviews] timeout or try later"
            ) from exc
        except anthropic.AuthenticationError as exc:
            raise ModelError(
                f"{self.spec} refused the API key (HTTP 401): check {self.key_env}; "
                + redact(str(exc), self.secrets())
            ) from None
        except anthropic.APIStatusError as exc:
            raise ModelError(
                f"{self.spec} answered HTTP {exc.status_code} (after retries): "
                + redact(str(exc), self.secrets())
            ) from None
        except anthropic.APIConnectionError as exc:
            raise ModelError(
                f"cannot reach {self.base_url or 'api.anthropic.com'} for {self.spec} "
                f"({type(exc).__name__}); check the network or [providers.anthropic] base_url"
            ) from None
        finally:
            client.close()
        text = "".join(getattr(block, "text", "") for block in resp.content if block.type == "text")
        return Completion(
            text=text,
            input_tokens=resp.usage.input_tokens,
            output_tokens=resp.usage.output_tokens,
            model=resp.model or self.name,
            provider=self.provider,
            raw=resp.model_dump(mode="json"),
        )


def create(model: str, settings: Mapping[str, Any]) -> Model:
    return AnthropicModel(model, settings)
