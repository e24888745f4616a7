"""Token estimates for transcript content, cheap enough to run on every record of a 100 MB file.

Three methods, each labelled in the report:

- ``calibrated`` (default): UTF-8 bytes / 3.6. Measured with o200k on this repository's code, its
  design notes and command output (git log -p, ls -la): 2.3-4.5 bytes a token, 3.46 overall. Good to
  about ±20 % on mixed tool output, no vocabulary loaded.
- ``upper``: :func:`cairn.core.tokens.upper_bound`, 1.3-2.1x the exact count and never below it on
  ordinary text; slower (it walks the pre-tokenizer's pieces).
- ``exact``: the o200k vocabulary via :func:`cairn.core.tokens.count` (loaded once, ~0.3 s). Exact for
  OpenAI models; for Claude it is still an estimate, as Claude's tokenizer is not public.

Images in tool results count a flat :data:`IMAGE_TOKENS`, the size of a ~1.15 megapixel image.
"""

from __future__ import annotations

from collections.abc import Callable

from cairn.core.errors import UsageError

METHODS = ("calibrated", "upper", "exact")
BYTES_PER_TOKEN_X10 = 36  # 3.6 bytes a token
IMAGE_TOKENS = 1600

_LABELS = {
    "calibrated": "estimate: UTF-8 bytes / 3.6 (calibrated on o200k, about ±20%)",
    "upper": "upper bound: cairn.core.tokens.upper_bound (1.3-2.1x the exact count)",
    "exact": "o200k count (exact for OpenAI models, an estimate for Claude)",
}


def _calibrated(text: str) -> int:
    if not text:
        return 0
    n = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return (n * 10 + BYTES_PER_TOKEN_X10 - 1) // BYTES_PER_TOKEN_X10


def _upper(text: str) -> int:
    from cairn.core.tokens import upper_bound

    return upper_bound(text)


def _exact_factory() -> Callable[[str], int]:
    from cairn.core.tokens import count

    count("warm-up")  # load the vocabulary once, up front

    def exact(text: str) -> int:
        return count(text).tokens if text else 0

    return exact


class Estimator:
    """Counts the tokens of one piece of text with the chosen method."""

    def __init__(self, method: str = "calibrated") -> None:
        if method not in METHODS:
            raise UsageError(f"unknown estimate method {method!r}; use one of {', '.join(METHODS)}")
        self.method = method
        self.label = _LABELS[method]
        if method == "calibrated":
            self._fn: Callable[[str], int] = _calibrated
        elif method == "upper":
            self._fn = _upper
        else:
            self._fn = _exact_factory()

    def __call__(self, text: str) -> int:
        return self._fn(text)

    def describe(self) -> dict[str, str]:
        return {"method": self.method, "label": self.label}
