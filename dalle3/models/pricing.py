"""What an image costs: a per-image figure before the click, the bill after.

DALL·E 3 has a flat price per image. GPT Image models bill by tokens: before
the click we can only estimate from the table; after it the response's
``usage`` gives the exact figure. Both come from ``models`` — no price lives
anywhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from dalle3.models import ModelProfile, parse_size

_PRESET_PIXELS = 1024 * 1024


@dataclass(frozen=True)
class Price:
    """A cost in USD; ``estimate`` marks figures not read from a bill."""

    usd: float
    estimate: bool = False

    def __str__(self) -> str:
        return f"≈ ${self.usd:.3f}" if self.estimate else format_usd(self.usd)


def format_usd(usd: float) -> str:
    """$0.040 for per-image figures; more digits only when a token bill needs them."""
    return f"${usd:.3f}" if round(usd, 3) == round(usd, 6) else f"${usd:.4f}"


def estimate(profile: ModelProfile, quality: str, size: str) -> Price | None:
    """The price shown before the click; None when the table cannot say (quality ``auto``)."""
    exact = profile.image_prices.get((quality, size))
    if exact is not None:
        return Price(exact, estimate=profile.billing != "image")
    if profile.token_prices is None:
        return None
    if size == "auto":
        size = "1024x1024"
    parsed = parse_size(size)
    base = profile.image_prices.get((quality, "1024x1024"))
    if parsed is None or base is None:
        return None
    # Output tokens grow roughly with the pixel count; scale from the square preset.
    return Price(base * parsed[0] * parsed[1] / _PRESET_PIXELS, estimate=True)


class _BadUsage(Exception):
    pass


def _tokens(value: Any) -> int:
    """A token count from the answer: a whole, non-negative number, or the bill is unreadable."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _BadUsage
    return value


def from_usage(profile: ModelProfile, usage: Mapping[str, Any] | None) -> Price | None:
    """The exact bill from a GPT Image response's ``usage`` × the model's token prices.

    None when there is no usage or it is not made of whole, non-negative counts
    (a negative bill must never lower the spend ledger's total).
    """
    prices = profile.token_prices
    if prices is None or not usage:
        return None
    try:
        details = usage.get("input_tokens_details") or {}
        out_details = usage.get("output_tokens_details") or {}
        text_in = _tokens(details.get("text_tokens", usage.get("input_tokens")))
        image_in = _tokens(details.get("image_tokens"))
        image_out = _tokens(out_details.get("image_tokens", usage.get("output_tokens")))
        text_out = _tokens(out_details.get("text_tokens"))
    except (_BadUsage, AttributeError):
        return None
    usd = (text_in * prices.text_input + image_in * prices.image_input
           + image_out * prices.image_output + text_out * prices.text_output) / 1_000_000
    return Price(usd)


def charged(profile: ModelProfile, quality: str, size: str, usage: Mapping[str, Any] | None,
            n: int = 1, input_tokens: int = 0) -> Price:
    """What a finished call of ``n`` images cost: the bill where there is one, else the table's figure."""
    if bill := from_usage(profile, usage):
        return bill
    each = estimate(profile, quality, size)
    if each is None:
        return Price(0.0, estimate=True)
    return Price(each.usd * n + input_cost(profile, input_tokens), estimate=each.estimate or input_tokens > 0)


# A token bill can be several times the table's estimate for the quality asked
# (a ``low`` image billed like a ``medium`` one): the cap reserves the highest
# quality's figure for the size, times this.
TOKEN_HEADROOM = 2.0


def worst_case(profile: ModelProfile, quality: str, size: str, prompt: str = "", n: int = 1,
               input_tokens: int = 0) -> float:
    """The most a call of ``n`` images (and ``input_tokens`` of reference images) may cost: what the
    spend cap reserves before the call, for the whole batch.

    DALL·E's flat per-image price is exact. For every other model the figure is
    the highest quality's estimate for ``size`` (for ``auto``, the largest
    preset) × :data:`TOKEN_HEADROOM`, plus the prompt's text tokens counted as at
    most one per UTF-8 byte (a tokenizer never makes more). ``quality`` matters
    only for DALL·E: for the others a bill does not follow the quality asked.
    """
    if profile.billing == "image":
        exact = estimate(profile, quality, size)
        return n * (exact.usd if exact else max(profile.image_prices.values(), default=1.0))
    sizes = [s for s in profile.sizes if s != "auto"] if size == "auto" else [size]
    figures = [p.usd for q in profile.qualities for s in sizes if (p := estimate(profile, q, s)) is not None]
    highest = max(figures, default=max(profile.image_prices.values(), default=1.0))
    text = len(prompt.encode("utf-8")) * profile.token_prices.text_input / 1_000_000 if profile.token_prices else 0.0
    return highest * TOKEN_HEADROOM * n + text + TOKEN_HEADROOM * input_cost(profile, input_tokens)


# Input images, as OpenAI's vision guide ("Calculating costs") states it for GPT Image 1:
# scale to fit 2048 x 2048, then the shortest side down to 512; count 512-px tiles;
# 65 base tokens + 129 per tile with input fidelity low; high fidelity adds 4096
# tokens for a square image, 6144 otherwise. OpenAI publishes no formula for the
# gpt-image-2 family, so there the same count is an estimate; the bill comes from usage.
_INPUT_BASE_TOKENS, _INPUT_TILE_TOKENS, _INPUT_TILE = 65, 129, 512
_HIGH_FIDELITY_EXTRA = (4096, 6144)  # square, other
_UNKNOWN_IMAGE_INPUT_USD = 10.0  # per 1M: the dearest image-input price in the table, when a model has none


def input_image_tokens(width: int, height: int, fidelity: str | None = None) -> int:
    """Estimated image-input tokens for one reference of ``width`` x ``height`` (as uploaded)."""
    w, h = float(width), float(height)
    fit = min(1.0, 2048 / max(w, h))
    w, h = w * fit, h * fit
    short = min(1.0, _INPUT_TILE / min(w, h))
    w, h = w * short, h * short
    tokens = _INPUT_BASE_TOKENS + _INPUT_TILE_TOKENS * math.ceil(w / _INPUT_TILE) * math.ceil(h / _INPUT_TILE)
    if fidelity == "high":
        tokens += _HIGH_FIDELITY_EXTRA[width != height]
    return tokens


def input_cost(profile: ModelProfile, tokens: int) -> float:
    """USD for ``tokens`` image-input tokens on ``profile``."""
    per_million = profile.token_prices.image_input if profile.token_prices else _UNKNOWN_IMAGE_INPUT_USD
    return tokens * per_million / 1_000_000


def batch_estimate(profile: ModelProfile, quality: str, size: str, n: int = 1,
                   inputs: Sequence[tuple[int, int]] = (), fidelity: str | None = None) -> Price | None:
    """The price before the click of ``n`` images (each billed), plus the reference images (billed once)."""
    each = estimate(profile, quality, size)
    if each is None:
        return None
    tokens = sum(input_image_tokens(w, h, fidelity) for w, h in inputs)
    return Price(each.usd * n + input_cost(profile, tokens), estimate=each.estimate or bool(inputs))
