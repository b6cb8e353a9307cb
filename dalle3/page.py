"""What the page shows, computed without Gradio.

``app.py`` turns these plain values into component updates; everything here
can be tested with ordinary function calls. Labels, hints and the choices
offered per model all come from the model table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dalle3 import pricing
from dalle3.errors import ValidationError
from dalle3.models import ALL_EXTRAS, MODELS, ModelProfile, closest_settings, is_experimental, resolve
from dalle3.params import profile_for, validate
from dalle3.session import SessionState
from dalle3.settings import Settings
from dalle3.status import cost_line, inert

QUALITY_HINTS = {
    "standard": "standard: the usual detail, cheaper",
    "hd": "hd: finer detail and more consistency, costs more",
    "low": "low: fastest and cheapest, for drafts",
    "medium": "medium: balanced detail and cost",
    "high": "high: most detail, slowest and dearest",
    "auto": "auto: the model picks (cost known only after)",
}
STYLE_HINTS = {
    "natural": "natural: more natural, less hyper-real",
    "vivid": "vivid: hyper-real and dramatic",
}
EXTRA_HINTS = {
    "background": "transparent needs a PNG (always used here); in preview for gpt-image-2",
    "moderation": "low: less restrictive content filtering",
    "complexity": "how much detail the model plans (2.6 models; OpenAI's default high)",
}
EXTRA_NAMES = tuple(ALL_EXTRAS)  # background, moderation, complexity: from the model table


@dataclass(frozen=True)
class ModelView:
    """The controls as they should look for one model."""

    profile: ModelProfile
    quality: str
    size: str
    note: str

    @property
    def style_visible(self) -> bool:
        return bool(self.profile.styles)

    @property
    def custom_size(self) -> bool:
        return self.profile.custom_size is not None


def model_label(profile: ModelProfile, offered: Mapping[str, dict[str, Any]] | None = None) -> str:
    """``"DALL·E 3 (dall-e-3) — retired by OpenAI 2026-05-12"``: status from the table and the endpoint."""
    label = f"{profile.label} ({profile.id})" if profile.label != profile.id else profile.id
    listed = (offered or {}).get(profile.id)
    shutdown = (listed or {}).get("shutdown_date") or profile.shutdown
    if profile.lifecycle == "retired":
        label += f" — retired by OpenAI {profile.shutdown}"
    elif shutdown:
        label += f" — retires {shutdown}"
    if offered is not None and listed is None:
        label += " — not offered by this endpoint"
    if profile.assumed_from:
        label += f" — {profile.note}"
    return label


def model_choices(offered: Mapping[str, dict[str, Any]] | None = None) -> list[tuple[str, str]]:
    """Every table model, plus endpoint models of a known family that the table lacks."""
    ids = list(MODELS)
    ids += sorted(m for m in (offered or {}) if m not in MODELS and resolve(m) is not None)
    return [(model_label(resolve(m), offered), m) for m in ids]  # type: ignore[arg-type]


def model_view(model_id: str, quality: str | None, size: str | None) -> ModelView:
    """Switching model keeps prompt and seed and the nearest quality/size; says what changed."""
    profile = profile_for(model_id)
    new_quality, new_size = closest_settings(profile, quality or profile.default_quality,
                                             size or profile.default_size)
    model = inert(profile.id)  # the note is Markdown; ids from a PNG or the endpoint are shown, never read
    notes = []
    if not profile.styles:
        notes.append(f"{model} has no style setting (it is a DALL·E 3 option), so none is sent.")
    if quality and new_quality != quality:
        notes.append(f"Quality {inert(str(quality))} → {inert(new_quality)}.")
    if size and new_size != size:
        notes.append(f"Size {inert(str(size))} → {inert(new_size)}.")
    if profile.custom_size:
        notes.append("Size: pick a preset or type WIDTHxHEIGHT (multiples of 16, up to 3840, 1:3 to 3:1).")
    if profile.lifecycle == "retired":
        notes.append(f"OpenAI retired {model} on {profile.shutdown}; it works only on endpoints that "
                     f"still serve it. Its successor is {inert(profile.successor or '')}.")
    if profile.assumed_from:
        notes.append(f"{model}: {inert(profile.note)}.")
    return ModelView(profile, new_quality, new_size, " ".join(notes))


def quality_info(model_id: str) -> str:
    profile = resolve(model_id) or MODELS["dall-e-3"]
    return " · ".join(QUALITY_HINTS[q] for q in profile.qualities)


def style_info() -> str:
    return " · ".join(STYLE_HINTS.values())


def cost_text(model_id: str, quality: str, size: str, state: SessionState) -> str:
    """The live "This image / This session" line."""
    profile = resolve(model_id)
    price = pricing.estimate(profile, quality, size) if profile else None
    text = cost_line(price, state.spent_usd, state.images)
    if profile and is_experimental(profile, size):
        text += " · sizes above 2560x1440 are experimental"
    return text


@dataclass(frozen=True)
class Restored:
    """Controls recovered from a PNG's settings (each checked against the table)."""

    prompt: str
    seed: int
    model: str
    quality: str
    style: str | None
    size: str
    extras: dict[str, str]


def restore(settings: Mapping[str, Any] | None) -> Restored | None:
    """Settings read from a PNG, made safe for the controls; None when unusable."""
    if not settings:
        return None
    extras = {k: settings[k] for k in EXTRA_NAMES if isinstance(settings.get(k), str)}
    try:
        request = validate(settings.get("prompt"), settings.get("seed", 0), settings.get("quality"),
                           settings.get("style"), settings.get("size"),
                           settings.get("model") or "dall-e-3", extras)
    except ValidationError:
        return None
    return Restored(request.prompt, request.seed, request.model, request.quality,
                    request.style, request.size, request.options)



def banner_text(settings: Settings) -> str:
    """The line under the title: where images come from, and how to get real ones."""
    if settings.offline:
        return ("**Offline simulator** (DALLE3_OFFLINE=1): images are stand-ins drawn locally; nothing "
                "is sent to OpenAI and nothing is charged. Unset DALLE3_OFFLINE to use the API.")
    if not settings.api_key:
        return ("**Offline simulator** — no API key is configured, so images are stand-ins drawn "
                "locally and nothing is charged. Put `OPENAI_API_KEY` in `.env` (or the Space's "
                "secrets), or paste your own key under *Your OpenAI API key* below.")
    cap = f" Spending cap: ${settings.max_spend_usd:.2f}." if settings.max_spend_usd is not None else ""
    return f"Server key configured — images are made by {inert(settings.base_url_shown)}.{cap}"


def switch_label(successor: str, quality: str, size: str) -> str:
    """The one-click offer after a retired model's answer, naming the settings it will use."""
    new_quality, new_size = closest_settings(profile_for(successor), quality, size)
    return f"Switch to {successor} (quality {new_quality}, size {new_size}; style has no counterpart)"
