"""What the page shows at a glance, computed without Gradio: the options' one-line summary and
the cost line as the visitor's backend will really charge it.

The options sit folded under the prompt; their summary (``"gpt-image-2 · high · 1536x1024 · webp ·
×4"``) is the fold's label, so what differs from a model's defaults is visible without opening it.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from dalle3.models.edit_rules import rules_for
from dalle3.models import MODELS, resolve
from dalle3.views.status import inert

OPTIONS_TITLE = "Options"
FREE_NOTE = "free in the offline simulator"


def options_summary(model_id: Any, quality: Any = None, size: Any = None, *, style: Any = None,
                    output_format: Any = None, n: Any = 1, extras: Mapping[str, Any] | None = None) -> str:
    """``"Options · gpt-image-2 · high · 1536x1024 · webp · ×4"``: the model, then quality and size,
    then only what differs from the model's defaults (style, a format other than png, extras, ``n`` > 1)."""
    profile = resolve(model_id) if isinstance(model_id, str) else None
    if profile is None:
        return f"{OPTIONS_TITLE} · {inert(str(model_id or '?'))}"
    parts = [profile.id, str(quality or profile.default_quality), str(size or profile.default_size)]
    if profile.styles and style:
        parts.append(str(style))
    if profile.output_formats and output_format and output_format != "png":
        parts.append(str(output_format))
    for name, value in (extras or {}).items():
        if name in profile.extras and value and value != profile.extra_defaults.get(name, ""):
            parts.append(f"{name} {value}")
    count = n if isinstance(n, (int, float)) and not isinstance(n, bool) else 1
    if count > 1:
        parts.append(f"×{int(count)}")
    return " · ".join([OPTIONS_TITLE, *parts])


def as_charged(cost: str, free: bool) -> str:
    """The cost line for a backend that charges nothing (the simulator) says so before any price.

    ``cost`` is the line :func:`dalle3.views.studio_view.cost_text` builds ("This image: $0.040 · This session: …")
    and marks with this; the OpenAI price stays, marked as what the same request would cost there.
    """
    if not free or FREE_NOTE in cost:
        return cost
    label, sep, rest = cost.partition(": ")
    if not sep:
        return cost
    this, dot, session = rest.partition(" · ")
    return f"{label}: {FREE_NOTE} (on OpenAI: {this}){dot}{session}"


def editing_model(model_id: Any) -> tuple[str, str | None]:
    """The model an edit goes to: ``model_id`` when it edits, else the first of its successors that
    does (or the first GPT Image model of the table), with the sentence saying so."""
    profile = resolve(model_id) if isinstance(model_id, str) else None
    if profile is not None and rules_for(profile).edits:
        return profile.id, None
    seen: set[str] = set()
    candidate = profile
    while candidate is not None and candidate.successor and candidate.successor not in seen:
        seen.add(candidate.successor)
        candidate = resolve(candidate.successor)
        if candidate is not None and rules_for(candidate).edits:
            break
    else:
        candidate = None
    if candidate is None:
        candidate = next(p for p in MODELS.values() if rules_for(p).edits)
    shown = inert(str(model_id))
    return candidate.id, f"{shown} cannot edit images, so the model is now {inert(candidate.id)}."


def size_for_aspect(model_id: Any, width: int, height: int) -> str | None:
    """The model's preset size nearest to a ``width`` x ``height`` reference's aspect (None: keep)."""
    profile = resolve(model_id) if isinstance(model_id, str) else None
    if profile is None or width <= 0 or height <= 0:
        return None
    presets = [s for s in profile.sizes if "x" in s]
    if not presets:
        return None
    wanted = math.log(width / height)

    def distance(size: str) -> float:
        w, _, h = size.partition("x")
        return abs(math.log(int(w) / int(h)) - wanted)

    best = min(presets, key=distance)
    return best if distance(best) < 0.05 or "auto" not in profile.sizes else "auto"


def mode_line(settings: Any, url: str) -> str:
    """The terminal's line at start: where the page is and where its images come from."""
    if settings.offline:
        mode = "offline simulator (DALLE3_OFFLINE=1): nothing is sent to OpenAI"
    elif not settings.api_key:
        mode = "offline simulator (no OPENAI_API_KEY); visitors may paste their own key"
    else:
        mode = f"server key configured, images from {settings.base_url_shown}"
    return f"dalle3 studio: Running on {url} — {mode}"
