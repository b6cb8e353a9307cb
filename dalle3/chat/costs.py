"""What a turn costs: the mainline model's tokens plus the image tool's, before and after.

Before the turn everything is an estimate (≈): the image from the model table,
as in the studio, and the mainline model's tokens from the conversation so far.
After it, the bill comes from the response's ``usage`` (mainline) and
``tool_usage.image_gen`` (the image tool), each × its prices; a part the answer
does not bill falls back to the estimate and stays marked ≈.

The spend cap reserves the worst case of a turn: the image tool's worst case as
for a studio image (one image at most: the request sets ``max_tool_calls`` 1),
plus the mainline model reading the whole conversation so far (with headroom)
and writing its longest answer (``max_output_tokens``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dalle3.models import pricing
from dalle3.chat.answer import Answer
from dalle3.chat.models import prices
from dalle3.chat.request import MAX_OUTPUT_TOKENS, Turn
from dalle3.models.table import CHAT_MODELS
from dalle3.params import profile_for
from dalle3.models.pricing import Price

TYPICAL_OUTPUT_TOKENS = 400  # a short reply and the tool call, for the estimate
IMAGE_CONTEXT_TOKENS = 1600  # an earlier turn's image, read again by the mainline model (≈ a 1024² image)
CONTEXT_HEADROOM = 2.0


@dataclass(frozen=True)
class Bill:
    """A turn's cost in its two parts; ``total`` is marked estimate when either part is."""

    mainline: Price
    tool: Price

    @property
    def total(self) -> Price:
        return Price(self.mainline.usd + self.tool.usd, self.mainline.estimate or self.tool.estimate)


def _input_tokens(turn: Turn) -> int:
    if turn.inputs is None:
        return 0
    return sum(pricing.input_image_tokens(*r.size, turn.inputs.input_fidelity) for r in turn.inputs.images)


def _mainline_usd(model: str, fresh_in: int, cached_in: int, out: int) -> float:
    p = prices(model)
    return (fresh_in * p.text_input + cached_in * p.cached_input + out * p.text_output) / 1_000_000


def estimate(turn: Turn, context_tokens: int) -> Bill:
    """The figure shown before the turn (≈): ``context_tokens`` is what the conversation so far holds."""
    profile = profile_for(turn.image.model)
    sizes = [r.size for r in turn.inputs.images] if turn.inputs else []
    image = pricing.batch_estimate(profile, turn.image.quality, turn.image.size, 1, sizes,
                                   turn.inputs.input_fidelity if turn.inputs else None)
    tokens_in = context_tokens + max(1, len(turn.text) // 4) + _input_tokens(turn)
    mainline = _mainline_usd(turn.chat_model, tokens_in, 0, TYPICAL_OUTPUT_TOKENS)
    return Bill(Price(mainline, True), Price(image.usd if image else 0.0, True))


def worst_case(turn: Turn, context_tokens: int) -> float:
    """What the spend cap reserves for ``turn`` (USD)."""
    profile = profile_for(turn.image.model)
    inputs = _input_tokens(turn)
    image = pricing.worst_case(profile, turn.image.quality, turn.image.size, turn.text, 1, inputs)
    tokens_in = int(CONTEXT_HEADROOM * (context_tokens + inputs)) + len(turn.text.encode("utf-8"))
    return image + _mainline_usd(turn.chat_model, tokens_in, 0, MAX_OUTPUT_TOKENS)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def mainline_bill(model: str, usage: Mapping[str, Any] | None) -> Price | None:
    """The mainline model's bill from ``usage``; None when there is none or it is not whole counts."""
    if not usage:
        return None
    given = usage.get("input_tokens_details")
    details: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    tokens_in, out = _count(usage.get("input_tokens")), _count(usage.get("output_tokens"))
    cached = _count(details.get("cached_tokens", 0))
    if tokens_in is None or out is None or cached is None or cached > tokens_in:
        return None
    return Price(_mainline_usd(model, tokens_in - cached, cached, out), estimate=model not in CHAT_MODELS)


def bill(turn: Turn, result: Answer) -> Bill:
    """What the turn cost, from the answer's two bills (each part ≈ where the answer gave none)."""
    before = estimate(turn, 0)
    mainline = mainline_bill(turn.chat_model, result.usage) or before.mainline
    profile = profile_for(turn.image.model)
    tool = pricing.from_usage(profile, result.tool_usage) if result.tool_usage else None
    if tool is None:
        tool = pricing.charged(profile, turn.image.quality, turn.image.size, None, result.image_calls,
                               _input_tokens(turn)) if result.image_calls else Price(0.0)
        tool = Price(tool.usd, tool.estimate or bool(result.image_calls))
    return Bill(mainline, tool)


def context_after(result: Answer) -> int:
    """What the conversation holds after this turn, in tokens: what the next turn's model reads again."""
    usage = result.usage or {}
    tokens = (_count(usage.get("input_tokens")) or 0) + (_count(usage.get("output_tokens")) or 0)
    return tokens + (IMAGE_CONTEXT_TOKENS if result.image else 0)
