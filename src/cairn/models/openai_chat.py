"""The OpenAI Chat Completions wire format, for a review: one request, one reply.

Spoken to any :class:`~cairn.models.providers.OpenAIApi` provider: OpenAI itself, or a server that
speaks its protocol (vLLM, Ollama, llama.cpp server, LM Studio) through ``base_url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cairn.models.base import Completion, Model, ModelError
from cairn.models.providers import ApiModel, OpenAIApi

DEFAULT_MODEL = "gpt-4o"


class OpenAIChat(ApiModel):
    provider = "openai"
    api_class = OpenAIApi
    default_model = DEFAULT_MODEL

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        # api.openai.com wants max_completion_tokens (reasoning models refuse max_tokens); most
        # compatible servers still read max_tokens.
        default_param = "max_tokens" if self.api.base_url else "max_completion_tokens"
        self.max_tokens_param = str(self.settings.get("max_tokens_param", default_param))

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 2000,
        timeout: float = 600,
    ) -> Completion:
        client = self.api.client(self.spec, timeout)
        messages: list[dict[str, str]] = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": prompt})
        kwargs: dict[str, Any] = {self.max_tokens_param: max_tokens}
        try:
            resp = client.chat.completions.create(model=self.name, messages=messages, **kwargs)
        except Exception as exc:
            self.api.reraise(exc, self.spec, timeout)
        finally:
            client.close()
        choices = getattr(resp, "choices", None)
        message = (
            getattr(choices[0], "message", None) if isinstance(choices, list) and choices else None
        )
        if choices == []:
            raise ModelError(f"{self.spec} returned no choices")
        if message is None:
            raise self.bad_reply(client, "/chat/completions", resp, "an OpenAI chat completion")
        text = message.content or ""
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
    return OpenAIChat(model, settings)
