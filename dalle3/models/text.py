"""The model table as text: ``--list-models`` blocks and the README's Markdown table.

Both are rendered from the same rows, so the README's table (kept equal to
:func:`models_markdown` by a test) and the CLI never disagree.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping, NamedTuple

from dalle3.models import lifecycle
from dalle3.models import (COMPRESSION_FORMATS, COMPRESSION_RANGE, MODELS, NOT_OFFERED_FORMATS, TABLE_CHECKED,
                           ModelProfile, deployments, display_date, resolve, rule_confidence)
from dalle3.models.pricing import format_usd


class ModelRow(NamedTuple):
    """One model as the table shows it; every field is display text."""

    id: str
    label: str
    lifecycle: str
    successor: str
    qualities: str
    sizes: str
    price: str
    note: str
    endpoint: str = ""
    output: str = ""  # "offered" / "not offered ..." once an endpoint was asked


def _price_range(prices: Mapping[tuple[str, str], float], quality: str) -> str:
    figures = sorted(usd for (q, _), usd in prices.items() if q == quality)
    if not figures:
        return ""
    low, high = format_usd(figures[0]), format_usd(figures[-1])
    return f"{quality} {low}" if low == high else f"{quality} {low}–{high}"


def price_text(profile: ModelProfile) -> str:
    """Per-image figures by quality, and token prices where the bill is by tokens."""
    ranges = "; ".join(filter(None, (_price_range(profile.image_prices, q) for q in profile.qualities)))
    tokens = profile.token_prices
    if profile.billing == "image":
        return f"{ranges} per image"
    text = f"≈ {ranges} per image (estimate)"
    if tokens is None:
        return text + "; token prices unconfirmed"
    return (f"{text}; billed by tokens, per 1M: ${tokens.text_input:g} text in, "
            f"${tokens.image_input:g} image in, ${tokens.image_output:g} image out")


def _unsure(profile: ModelProfile, rule: str) -> str:
    return " (unconfirmed)" if rule_confidence(profile, rule) == "unconfirmed" else ""


def _sizes_text(profile: ModelProfile) -> str:
    text = ", ".join(profile.sizes)
    rule = profile.custom_size
    if rule:
        text += f", or {rule.describe()}"
        text += _unsure(profile, "custom_size")
    return text


def _qualities_text(profile: ModelProfile) -> str:
    extra = [q for q in ("xhigh", "max") if q in profile.qualities]
    if extra and _unsure(profile, "qualities"):
        return ", ".join(profile.qualities) + f" ({' and '.join(extra)} unconfirmed)"
    return ", ".join(profile.qualities)


def output_text(profile: ModelProfile) -> str:
    """Formats, compression, transparency and n for one model, one line."""
    if not profile.output_formats:
        return f"PNG only; n {profile.max_images}"
    low, high = COMPRESSION_RANGE
    text = (f"{', '.join(profile.output_formats)}; compression {low}–{high} for {' and '.join(COMPRESSION_FORMATS)}; "
            f"n 1–{profile.max_images}")
    backgrounds = profile.extras.get("background", ())
    if "transparent" in backgrounds:
        preview = " (preview)" if "transparent" in profile.preview.get("background", ()) else ""
        text += f"; transparent background{preview}{_unsure(profile, 'background')} with png or webp"
    return text


def not_offered_text() -> str:
    return "; ".join(f"{fmt}: {why}" for fmt, why in NOT_OFFERED_FORMATS.items())


def _lifecycle_text(profile: ModelProfile, listed: Mapping[str, Any] | None, today: date | None) -> str:
    shutdown = lifecycle.shutdown_of(profile, listed)
    state = lifecycle.status(profile, listed, today=today)
    if state == lifecycle.RETIRED:
        return f"retired {shutdown}"
    return f"{state}, retires {shutdown}" if shutdown else state


def model_row(profile: ModelProfile, offered: Mapping[str, Mapping[str, Any]] | None = None,
              where: str = "", *, today: date | None = None) -> ModelRow:
    """The row for ``profile``; with ``offered`` (an endpoint's listing) it says whether it is there."""
    listed = (offered or {}).get(profile.id)
    endpoint = ""
    if offered is not None:
        endpoint = "offered" if listed is not None else f"not offered by {where or 'this endpoint'}"
    return ModelRow(
        id=profile.id, label=profile.label, lifecycle=_lifecycle_text(profile, listed, today),
        successor=profile.successor or "", qualities=_qualities_text(profile),
        sizes=_sizes_text(profile), price=price_text(profile), note=profile.note, endpoint=endpoint,
        output=output_text(profile),
    )


def _is_image_model(model_id: str) -> bool:
    return model_id.startswith("dall-e") or "image" in model_id


def other_models_text(offered: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Image models the endpoint offers that the table lacks, one line each."""
    lines = []
    for model_id in sorted(m for m in offered if m not in MODELS and _is_image_model(m)):
        shutdown = display_date(offered[model_id].get("shutdown_date"))
        when = f", retires {shutdown}" if shutdown else ""
        profile = resolve(model_id)
        how = (f"{profile.note}." if profile else
               "not in the table and of no family it knows: this app cannot drive it.")
        lines.append(f"  {model_id}{when}: {how}")
    return lines


def models_text(offered: Mapping[str, Mapping[str, Any]] | None = None, where: str = "",
                problem: str | None = None, *, today: date | None = None) -> str:
    """``--list-models``: the table, a block per model (status on ``today``), then what the endpoint offers besides."""
    blocks = []
    for profile in MODELS.values():
        row = model_row(profile, offered, where, today=today)
        lines = [f"{row.id} ({row.label})" if row.label != row.id else row.id,
                 f"  status:    {row.lifecycle}" + (f", successor {row.successor}" if row.successor else "")]
        if row.endpoint:
            lines.append(f"  endpoint:  {row.endpoint}")
        lines += [f"  quality:   {row.qualities}", f"  sizes:     {row.sizes}", f"  output:    {row.output}",
                  f"  price:     {row.price}"]
        if row.note:
            lines.append(f"  note:      {row.note}")
        blocks.append("\n".join(lines))
    if named := deployments():
        lines = ["Deployments (DALLE3_DEPLOYMENTS), sent under their own names:"]
        for profile in named:
            there = "" if offered is None else (" · offered" if profile.id in offered else " · not in the listing")
            lines.append(f"  {profile.id} → {profile.deployment_of} (its rules and prices){there}")
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks) + (f"\n\nNot offered: {not_offered_text()}.\n"
                                  f"Table checked {TABLE_CHECKED}; sources and confidence in dalle3/models/table.py.")
    if problem:
        text += f"\n\n{problem}"
    elif offered is not None:
        others = other_models_text(offered)
        text += (f"\n\nAlso offered by {where or 'this endpoint'}, not in the table:\n" + "\n".join(others)
                 if others else f"\n\n{where or 'The endpoint'} offers no image model beyond the table.")
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or "—"


def models_markdown() -> str:
    """The model table as Markdown, for the README (no endpoint asked; status as on the day it was checked)."""
    checked = date.fromisoformat(TABLE_CHECKED)
    head = ["Model", "Status", "Successor", "Quality", "Sizes", "Output", "Price", "Note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for profile in MODELS.values():
        row = model_row(profile, today=checked)
        cells = [f"`{row.id}`", row.lifecycle, row.successor and f"`{row.successor}`", row.qualities,
                 row.sizes, row.output, row.price, row.note]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    lines.append(f"Not offered: {not_offered_text()}.")
    lines.append("")
    lines.append(f"Checked {TABLE_CHECKED}; each rule's source and confidence is in `dalle3/models/table.py`.")
    return "\n".join(lines)


