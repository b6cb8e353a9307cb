"""What an image costs: a per-image figure before the click, the bill after.

DALL·E 3 has a flat price per image. GPT Image models bill by tokens: before
the click we can only estimate from the table; after it the response's
``usage`` gives the exact figure. Both come from ``models`` — no price lives
anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

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


def charged(profile: ModelProfile, quality: str, size: str, usage: Mapping[str, Any] | None) -> Price:
    """What one finished image cost: the bill where there is one, else the table's figure."""
    return from_usage(profile, usage) or estimate(profile, quality, size) or Price(0.0, estimate=True)


# A token bill can be several times the table's estimate for the quality asked
# (a ``low`` image billed like a ``medium`` one): the cap reserves the highest
# quality's figure for the size, times this.
TOKEN_HEADROOM = 2.0


def worst_case(profile: ModelProfile, quality: str, size: str, prompt: str = "") -> float:
    """The most one image may cost: what the spend cap reserves before the call.

    DALL·E's flat per-image price is exact. For every other model the figure is
    the highest quality's estimate for ``size`` (for ``auto``, the largest
    preset) × :data:`TOKEN_HEADROOM`, plus the prompt's text tokens counted as at
    most one per UTF-8 byte (a tokenizer never makes more). ``quality`` matters
    only for DALL·E: for the others a bill does not follow the quality asked.
    """
    if profile.billing == "image":
        exact = estimate(profile, quality, size)
        return exact.usd if exact else max(profile.image_prices.values(), default=1.0)
    sizes = [s for s in profile.sizes if s != "auto"] if size == "auto" else [size]
    figures = [p.usd for q in profile.qualities for s in sizes if (p := estimate(profile, q, s)) is not None]
    highest = max(figures, default=max(profile.image_prices.values(), default=1.0))
    text = len(prompt.encode("utf-8")) * profile.token_prices.text_input / 1_000_000 if profile.token_prices else 0.0
    return highest * TOKEN_HEADROOM + text
