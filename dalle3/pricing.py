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


def from_usage(profile: ModelProfile, usage: Mapping[str, Any] | None) -> Price | None:
    """The exact bill from a GPT Image response's ``usage`` × the model's token prices."""
    prices = profile.token_prices
    if prices is None or not usage:
        return None
    details = usage.get("input_tokens_details") or {}
    text_in = int(details.get("text_tokens", usage.get("input_tokens", 0)) or 0)
    image_in = int(details.get("image_tokens", 0) or 0)
    out_details = usage.get("output_tokens_details") or {}
    image_out = int(out_details.get("image_tokens", usage.get("output_tokens", 0)) or 0)
    text_out = int(out_details.get("text_tokens", 0) or 0)
    usd = (text_in * prices.text_input + image_in * prices.image_input
           + image_out * prices.image_output + text_out * prices.text_output) / 1_000_000
    return Price(usd)


def charged(profile: ModelProfile, quality: str, size: str, usage: Mapping[str, Any] | None) -> Price:
    """What one finished image cost: the bill where there is one, else the table's figure."""
    return from_usage(profile, usage) or estimate(profile, quality, size) or Price(0.0, estimate=True)


def worst_case(profile: ModelProfile, quality: str, size: str) -> float:
    """The most one image may cost: what the spend cap reserves before the call."""
    top = "high" if quality == "auto" and "high" in profile.qualities else quality
    price = estimate(profile, top, size) or estimate(profile, top, profile.default_size)
    # Token bills can exceed the table's estimate; reserve with headroom.
    return price.usd * (1.5 if price.estimate else 1.0) if price else 1.0
