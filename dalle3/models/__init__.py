"""The model table's logic: resolving ids, checking sizes and output rules.

The rules themselves are data in :mod:`dalle3.models.table` (re-exported here,
so callers import from one place). An id the endpoint offers that is not
listed but starts with a known family's prefix is served with that family's
rules, labelled so.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import date, datetime, timezone
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from dalle3.models.table import (  # noqa: F401 - re-exported: the table's names live here too
    COMPRESSION_DEFAULT, COMPRESSION_FORMATS, COMPRESSION_RANGE, DALLE3, DEPRECATIONS, FAMILY_PREFIXES,
    NOT_DRIVEN, GPT_IMAGE_2, MODELS, NOT_OFFERED_FORMATS, OUTPUT_FORMATS, SPEC, TRANSPARENT_FORMATS,
    Citation, CustomSizeRule, GenerationTime, ModelProfile, TokenPrices,
)
from dalle3.models.profile import TABLE_CHECKED  # noqa: F401 - re-exported with the table

DEFAULT_MODEL = DALLE3.id
DEFAULT_STYLE = DALLE3.default_style or "natural"

# Every value any model takes: the page's Radio/Dropdown choices must accept
# all of them (Gradio checks inputs against declared choices before our code).
ALL_QUALITIES: tuple[str, ...] = tuple(dict.fromkeys(q for p in MODELS.values() for q in p.qualities))
ALL_SIZES: tuple[str, ...] = tuple(dict.fromkeys(s for p in MODELS.values() for s in p.sizes))
ALL_STYLES: tuple[str, ...] = DALLE3.styles
ALL_EXTRAS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    name: tuple(dict.fromkeys(v for p in MODELS.values() for v in p.extras.get(name, ())))
    for name in dict.fromkeys(n for p in MODELS.values() for n in p.extras)
})
#: The extra parameters' names, in the order every door lists them.
EXTRA_NAMES: tuple[str, ...] = tuple(ALL_EXTRAS)


# What an id outside the table may look like (OpenAI's ids are lower-case letters,
# digits, dots, dashes): model ids come from PNGs people drop in and from the
# endpoint's listing, and end up in labels and status text.
MODEL_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.+\-Z]{0,40})?")
_LAST_DAY = datetime(9999, 12, 31, tzinfo=timezone.utc).timestamp()


def display_date(value: Any) -> str | None:
    """A listed ``shutdown_date`` as ``YYYY-MM-DD``, or None when it is absent or not a date.

    OpenAI's ``Model`` type (openai SDK 3.57.0) says a string; older and
    compatible endpoints send a Unix time in seconds. Anything else (junk, a
    bool, an impossible date) is ignored rather than shown.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not 0 <= value <= _LAST_DAY:  # also refuses NaN
            return None
        return datetime.fromtimestamp(value, tz=timezone.utc).date().isoformat()
    if isinstance(value, str) and len(value) <= 64 and (match := _ISO_DATE.fullmatch(value.strip())):
        try:
            return date(*map(int, match.groups())).isoformat()
        except ValueError:
            return None
    return None


# Deployment name -> table model (see dalle3.http.deployments): set once at start from the settings.
_DEPLOYMENTS: dict[str, ModelProfile] = {}


def use_deployments(mapping: Mapping[str, str]) -> None:
    """Serve each deployment name with its model's rules and prices (the request sends the name).

    A deployment's host decides its life, not OpenAI's calendar: it carries no shutdown date.
    """
    _DEPLOYMENTS.clear()
    for name, model in mapping.items():
        base = MODELS[model]
        _DEPLOYMENTS[name] = replace(
            base, id=name, label=name, lifecycle="active", shutdown=None, successor=None,
            deployment_of=model, note=f"a deployment of {model}: its rules and prices")


def deployments() -> tuple[ModelProfile, ...]:
    return tuple(_DEPLOYMENTS.values())


def shown_name(model_id: str) -> str:
    """How a model is named to people: ``my-image-deploy (gpt-image-2)`` for a deployment, else its id."""
    profile = _DEPLOYMENTS.get(model_id)
    return f"{model_id} ({profile.deployment_of})" if profile else model_id


def resolve(model_id: str) -> ModelProfile | None:
    """The profile for ``model_id``: listed, a configured deployment, or borrowed from its family by prefix.

    An id outside the table must match :data:`MODEL_ID_PATTERN` as a whole, so
    text such as ``gpt-image-2 ![x](http://host/p.png)`` is never a model.
    """
    if not isinstance(model_id, str):
        return None
    if model_id in MODELS:
        return MODELS[model_id]
    if model_id in _DEPLOYMENTS:
        return _DEPLOYMENTS[model_id]
    if not MODEL_ID_PATTERN.fullmatch(model_id):
        return None
    for prefix, base_id in FAMILY_PREFIXES:
        if model_id.startswith(prefix):
            base = MODELS[base_id]
            # A family whose model is shut down takes its unlisted snapshots with it
            # (gpt-image-1.5-2025-12-16 went with gpt-image-1.5); a live family's new ids are live.
            return replace(
                base, id=model_id, label=model_id, lifecycle=base.lifecycle if base.shutdown else "active",
                assumed_from=base.family, note=f"rules assumed from the {base.family} family",
            )
    return None


def image_models(listing: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The entries of a ``GET /models`` listing that this app can drive.

    Each keeps only what the app shows, checked: its ``id`` (see :func:`resolve`)
    and its ``shutdown_date`` as YYYY-MM-DD (see :func:`display_date`).
    """
    offered: dict[str, dict[str, Any]] = {}
    for entry in listing:
        model_id = entry.get("id")
        if not isinstance(model_id, str) or resolve(model_id) is None:
            continue
        offered[model_id] = {"id": model_id}
        if shutdown := display_date(entry.get("shutdown_date")):
            offered[model_id]["shutdown_date"] = shutdown
    return offered


def closest_quality_and_size(profile: ModelProfile, quality: str, size: str) -> tuple[str, str]:
    """The settings on ``profile`` nearest to another model's, for a one-click switch."""
    mapping = {"hd": "high", "standard": "medium", "xhigh": "high", "max": "high"}
    new_quality = quality if quality in profile.qualities else mapping.get(quality, profile.default_quality)
    if new_quality not in profile.qualities:
        new_quality = profile.default_quality
    new_size = size if size_problem(profile, size) is None else profile.default_size
    return new_quality, new_size


def quoted(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: outside values go into messages bounded."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's 4300-digit conversion limit
        return f"a {type(value).__name__} too long to show"
    return text if len(text) <= limit else text[:limit] + "…"


_SIZE_PATTERN = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")


def parse_size(size: str) -> tuple[int, int] | None:
    """``"1536x864"`` -> (1536, 864); None when it is not ``WxH`` in ASCII digits.

    ``str.isdigit`` would pass superscript, fullwidth and Arabic-Indic digits
    (which ``int`` then rejects or silently converts); five digits bound the edge.
    """
    match = _SIZE_PATTERN.fullmatch(size) if isinstance(size, str) else None
    return (int(match[1]), int(match[2])) if match else None


def _nearest_custom(rule: CustomSizeRule, w: int, h: int) -> tuple[int, int] | None:
    """The allowed ``WxH`` closest to ``w``x``h`` (squared distance; a tie goes to the larger).

    For each allowed width the allowed heights form one interval of multiples, so the best
    height is ``h`` clamped into it: one pass over the widths, no search over pairs.
    """
    m, best, best_distance = rule.multiple, None, None
    for width in range(m, rule.max_edge + 1, m):
        low = max(m, math.ceil(width / rule.max_ratio), math.ceil(rule.min_pixels / width))
        high = min(rule.max_edge, math.floor(width * rule.max_ratio), rule.max_pixels // width)
        low, high = -(-low // m) * m, high // m * m
        if low > high:
            continue
        height = min(high, max(low, math.floor(h / m + 0.5) * m))
        distance = (width - w) ** 2 + (height - h) ** 2
        if best_distance is None or distance < best_distance:
            best, best_distance = (width, height), distance
    return best


def nearest_size(profile: ModelProfile, size: str) -> str | None:
    """The allowed size nearest to ``size`` (a ``WxH`` that is not allowed), for a suggestion; None
    when ``size`` is allowed or not ``WxH`` at all. Never applied by itself: a person takes it."""
    parsed = parse_size(size)
    if parsed is None or size in profile.sizes:
        return None
    w, h = parsed
    rule = profile.custom_size
    if rule is not None:
        found = _nearest_custom(rule, w, h)
        return f"{found[0]}x{found[1]}" if found and f"{found[0]}x{found[1]}" != size else None
    presets = [p for p in (parse_size(s) for s in profile.sizes) if p is not None]
    if not presets:
        return None
    pw, ph = min(presets, key=lambda p: ((p[0] - w) ** 2 + (p[1] - h) ** 2, -p[0] * p[1]))
    return f"{pw}x{ph}"


def size_problem(profile: ModelProfile, size: str) -> str | None:
    """Why ``size`` is not allowed for ``profile``, or None when it is; names the nearest allowed size."""
    problem = _size_rule_broken(profile, size)
    if problem is None:
        return None
    nearest = nearest_size(profile, size)
    return f"{problem} {nearest} is the nearest allowed." if nearest else problem


def _size_rule_broken(profile: ModelProfile, size: str) -> str | None:
    if size in profile.sizes:
        return None
    allowed = ", ".join(profile.sizes)
    rule = profile.custom_size
    if rule is None:
        return f"Size {quoted(size)} is not available for {profile.id}. Choose one of: {allowed}."
    parsed = parse_size(size)
    if parsed is None:
        return (f"Size {quoted(size)} is not a preset ({allowed}) or a custom size written WIDTHxHEIGHT "
                "in digits 0-9, e.g. 1536x864.")
    w, h = parsed
    if w % rule.multiple or h % rule.multiple:
        return f"Size {size}: width and height must both be multiples of {rule.multiple}."
    if max(w, h) > rule.max_edge:
        return f"Size {size}: the long edge may be at most {rule.max_edge} pixels."
    if max(w, h) > rule.max_ratio * min(w, h):
        return f"Size {size}: the aspect ratio must be between 1:3 and 3:1."
    if not rule.min_pixels <= w * h <= rule.max_pixels:
        return (f"Size {size}: {w * h:,} pixels; {profile.id} takes "
                f"{rule.min_pixels:,} to {rule.max_pixels:,} pixels.")
    return None


def is_experimental(profile: ModelProfile, size: str) -> bool:
    """Sizes above 2560x1440 are labelled experimental by OpenAI."""
    parsed = parse_size(size)
    rule = profile.custom_size
    return bool(rule and parsed and parsed[0] * parsed[1] > rule.experimental_above)


def rule_confidence(profile: ModelProfile, rule: str) -> str:
    """How sure the table is of ``rule`` on ``profile`` (``confirmed`` when it names no source)."""
    source = profile.rules.get(rule)
    return source.confidence if source else "confirmed"


def output_problem(profile: ModelProfile, output_format: str | None, compression: int | None,
                   background: str | None) -> str | None:
    """Why this output format / compression / background mix is refused, or None."""
    if output_format is not None and output_format in NOT_OFFERED_FORMATS:
        return f"Output format {quoted(output_format)} is not offered here: {NOT_OFFERED_FORMATS[output_format]}."
    if not profile.output_formats:
        if output_format not in (None, "png") or compression is not None:
            return f"{profile.id} always returns PNG; leave output format and compression empty."
        return None
    fmt = output_format or "png"
    if fmt not in profile.output_formats:
        return (f"Output format {quoted(fmt)} is not available for {profile.id}. "
                f"Choose one of: {', '.join(profile.output_formats)}.")
    if compression is not None and fmt not in COMPRESSION_FORMATS:
        return (f"Output compression applies to {' and '.join(COMPRESSION_FORMATS)} only; {fmt} is lossless. "
                "Leave compression empty, or pick jpeg or webp.")
    if background == "transparent" and fmt not in TRANSPARENT_FORMATS:
        return (f"A transparent background needs {' or '.join(TRANSPARENT_FORMATS)} output; {fmt} has no "
                "transparency. Pick png or webp, or an opaque background.")
    return None


def refusal_hint(model_id: str | None, param: str | None) -> str:
    """A sentence for an API 400 on ``param``: where the table is unsure of that rule, say so."""
    profile = resolve(model_id) if model_id else None
    rule = {"quality": "qualities", "size": "custom_size"}.get(param or "", param or "")
    if profile is None or rule_confidence(profile, rule) == "confirmed":
        return ""
    source = profile.rules[rule]
    return (f" This app offers that {param} for {profile.id} on unconfirmed evidence ({source.where}); "
            f"the API says no, so pick another {param}.")
