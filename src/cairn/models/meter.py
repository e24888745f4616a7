"""Measuring what is in a model's context, offline, with the model's tokenizer where it is public."""

from __future__ import annotations

import json
from typing import Any

from cairn.core.tokens import count


def part_text(p: Any) -> str:
    from pydantic_ai.messages import (
        RetryPromptPart,
        ToolCallPart,
        ToolReturnPart,
    )

    if isinstance(p, ToolCallPart):
        return f"{p.tool_name}({p.args_as_json_str()})"
    if isinstance(p, ToolReturnPart):
        return p.model_response_str()
    if isinstance(p, RetryPromptPart):
        return p.model_response()
    content = getattr(p, "content", None)
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    try:
        return json.dumps(content, default=str)
    except (TypeError, ValueError):
        return str(content)


def message_text(m: Any) -> str:
    return "\n".join(part_text(p) for p in getattr(m, "parts", ()))


class Meter:
    """Counts tokens of messages, each message once (messages are immutable once sent)."""

    def __init__(self, model: str | None) -> None:
        self.model = model
        self.exact = count("x", model).exact
        self._cache: dict[int, tuple[Any, int]] = {}

    def text(self, text: str) -> int:
        return count(text, self.model).tokens

    def message(self, m: Any) -> int:
        hit = self._cache.get(id(m))
        if hit is not None and hit[0] is m:
            return hit[1]
        n = self.text(message_text(m)) + 4  # role and framing
        self._cache[id(m)] = (m, n)
        return n

    def messages(self, msgs: list[Any]) -> int:
        return sum(self.message(m) for m in msgs)

    def forget(self, keep: list[Any]) -> None:
        ids = {id(m) for m in keep}
        self._cache = {k: v for k, v in self._cache.items() if k in ids}


def overhead_tokens(meter: Meter, system: str, tools: list[Any]) -> int:
    """Tokens of the system prompt and the tools' definitions, sent with every request."""
    defs = [
        {
            "name": t.tool_def.name,
            "description": t.tool_def.description,
            "parameters": t.tool_def.parameters_json_schema,
        }
        for t in tools
    ]
    return meter.text(system) + meter.text(json.dumps(defs))
