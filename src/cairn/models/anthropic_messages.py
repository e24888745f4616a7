"""Anthropic's Messages wire format, for a review: one request, one reply.

Spoken to an :class:`~cairn.models.providers.AnthropicApi` provider (``base_url``, key variable and
the SDK's retries, 429, 408, 409, 5xx incl. 529 overloaded, come from there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cairn.models.base import Completion, Model
from cairn.models.providers import AnthropicApi, ApiModel

DEFAULT_MODEL = "claude-sonnet-4-6"
API_VERSION = "2023-06-01"


class AnthropicMessages(ApiModel):
    provider = "anthropic"
    api_class = AnthropicApi
    default_model = DEFAULT_MODEL

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.api_version = str(self.settings.get("api_version", API_VERSION))

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 2000,
        timeout: float = 600,
    ) -> Completion:
        client = self.api.client(self.spec, timeout)
        sdk = self.api.sdk_module()
        # cairn speaks the documented protocol whatever the SDK release: the API key in x-api-key
        # (some releases send it as a bearer token) and a pinned anthropic-version, the one whose
        # response shape cairn reads ([providers.anthropic] api_version changes it).
        kwargs: dict[str, Any] = {
            "extra_headers": {
                "X-Api-Key": self.api.key(self.spec),
                "Authorization": sdk.omit,
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
        except Exception as exc:
            self.api.reraise(exc, self.spec, timeout)
        finally:
            client.close()
        content = getattr(resp, "content", None)
        if not isinstance(content, list) or getattr(resp, "usage", None) is None:
            raise self.bad_reply(client, "/v1/messages", resp, "an Anthropic message")
        text = "".join(getattr(block, "text", "") for block in content if block.type == "text")
        return Completion(
            text=text,
            input_tokens=resp.usage.input_tokens,
            output_tokens=resp.usage.output_tokens,
            model=resp.model or self.name,
            provider=self.provider,
            raw=resp.model_dump(mode="json"),
        )


def create(model: str, settings: Mapping[str, Any]) -> Model:
    return AnthropicMessages(model, settings)
