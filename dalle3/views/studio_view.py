"""What the page shows, computed without Gradio.

``app.py`` turns these plain values into component updates; everything here
can be tested with ordinary function calls. Labels, hints and the choices
offered per model all come from the model table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Mapping

from dalle3.models import lifecycle, pricing
from dalle3.errors import ValidationError
from dalle3.models import (COMPRESSION_FORMATS, DEFAULT_STYLE, MODELS,
                           TRANSPARENT_FORMATS, ModelProfile, closest_quality_and_size, deployments, is_experimental,
                           resolve, rule_confidence, size_problem)
from dalle3.params import profile_for
from dalle3.edits.index import wanted_hashes
from dalle3.views.glance import as_charged
from dalle3.views.session import SessionState
from dalle3.models import (EXTRA_NAMES, nearest_size)
from dalle3.models.choice import start_model  # noqa: F401 - the page starts on it
from dalle3.params import GenerationRequest
from dalle3.settings import Settings
from dalle3.views.status import cost_line, inert, session_total

QUALITY_HINTS = {
    "standard": "standard: the usual detail, cheaper",
    "hd": "hd: finer detail and more consistency, costs more",
    "low": "low: fastest and cheapest, for drafts",
    "medium": "medium: balanced detail and cost",
    "high": "high: most detail, slowest and dearest",
    "xhigh": "xhigh: more detail than high, several times the tokens",
    "max": "max: the most the model can do, dearest by far",
    "auto": "auto: the model picks (cost known only after)",
}
STYLE_HINTS = {
    "natural": "natural: more natural, less hyper-real",
    "vivid": "vivid: hyper-real and dramatic",
}
EXTRA_HINTS = {
    "background": "transparent needs png or webp output; in preview for gpt-image-2",
    "moderation": "low: less restrictive content filtering",
    "complexity": "how much detail the model plans (2.6 models; OpenAI's default high)",
}
NO_PARAMETERS = "No dalle3 studio settings found in that file (it is not an image made by this app)."
PREVIEW_CHOICES = ("off", "1", "2", "3")
# One preview by default: a first look about halfway through a call that can take a minute or
# two, for about 100 extra output tokens; more previews cost more and arrive closer together.
PREVIEW_DEFAULT = "1"
PREVIEWS_INFO = "rough images while it is being made (GPT Image models); each adds a little to the cost"


@dataclass(frozen=True)
class Click:
    """What one click adds to a model's one-image price: ``n`` images, the references (their sizes as
    uploaded) at their input fidelity, and whether the backend charges nothing (the simulator)."""

    n: int = 1
    references: tuple[tuple[int, int], ...] = ()
    fidelity: str | None = None
    free: bool = False


ONE_IMAGE = Click()


@dataclass(frozen=True)
class ExtraView:
    """One extra setting's control for one model: hidden where the model lacks it."""

    visible: bool
    choices: tuple[str, ...]
    value: str


@dataclass(frozen=True)
class ModelView:
    """Every control that depends on the model, as it should look: choices, values, note, cost."""

    profile: ModelProfile
    quality: str
    size: str
    style: str
    note: str
    cost: str
    extras: Mapping[str, ExtraView]
    output: OutputView
    successor: str | None = None  # set when the model is shut down: the one-click switch, offered before any call

    @property
    def style_visible(self) -> bool:
        return bool(self.profile.styles)

    @property
    def previews_visible(self) -> bool:
        return self.profile.streams

    @property
    def quality_info(self) -> str:
        return " · ".join(QUALITY_HINTS.get(q, q) for q in self.profile.qualities)


def model_label(profile: ModelProfile, offered: Mapping[str, dict[str, Any]] | None = None, *,
                today: date | None = None) -> str:
    """``"DALL·E 3 (dall-e-3) — retired 2026-05-12"``: status on ``today``, from the table and the endpoint (short:
    it must fit a phone's dropdown; the model note says who retired it)."""
    label = f"{profile.label} ({profile.id})" if profile.label != profile.id else profile.id
    listed = (offered or {}).get(profile.id)
    shutdown = lifecycle.shutdown_of(profile, listed)
    if lifecycle.status(profile, listed, today=today) == lifecycle.RETIRED:
        label += f" — retired {shutdown}"
    elif shutdown:
        label += f" — retires {shutdown}"
    if offered is not None and listed is None and not profile.deployment_of:  # Azure lists models, not deployments
        label += " — not offered by this endpoint"
    if profile.assumed_from or profile.deployment_of:
        label += f" — {profile.note}"
    return label


def model_choices(offered: Mapping[str, dict[str, Any]] | None = None, *,
                  today: date | None = None) -> list[tuple[str, str]]:
    """The configured deployments, every table model, then endpoint models of a known family that the table lacks."""
    ids = [p.id for p in deployments()] + list(MODELS)
    ids += sorted(m for m in (offered or {}) if m not in ids and resolve(m) is not None)
    return [(model_label(resolve(m), offered, today=today), m) for m in ids]  # type: ignore[arg-type]


def model_view(model_id: str, quality: str | None, size: str | None, state: SessionState, *,
               style: str | None = None, extras: Mapping[str, str] | None = None,
               output_format: str | None = None, compression: int | None = None,
               remapped: bool = True, click: Click = ONE_IMAGE, today: date | None = None) -> ModelView:
    """The controls for ``model_id``, keeping the nearest quality/size (and style, extras) given;
    the cost is ``click``'s line (:func:`cost_text`) at that quality and size.

    With ``remapped``, the note says which of the person's choices had to change; without it
    (typing in a control, restoring a PNG) the note only describes the model, so an old
    remapping note clears.
    """
    profile = profile_for(model_id)
    new_quality, new_size = closest_quality_and_size(profile, quality or profile.default_quality,
                                             size or profile.default_size)
    model = inert(profile.id)  # the note is Markdown; ids from a PNG or the endpoint are shown, never read
    notes = []
    if remapped and quality and new_quality != quality:
        notes.append(f"Quality {inert(str(quality))} → {inert(new_quality)}.")
    if remapped and size and new_size != size:
        notes.append(f"Size {inert(str(size))} → {inert(new_size)}.")
    if not profile.styles:
        notes.append(f"{model} has no style setting (it is a DALL·E 3 option), so none is sent.")
    if profile.custom_size:
        notes.append(f"Size: pick a preset or type {profile.custom_size.describe()}.")
    unsure = [what for rule, what in (("qualities", "xhigh/max"), ("custom_size", "custom sizes"))
              if rule_confidence(profile, rule) == "unconfirmed"]
    if unsure:
        notes.append(f"On {profile.id}, {' and '.join(unsure)} come from third-party guides, not OpenAI's "
                     "SDK (unconfirmed): if the API refuses one, pick another.")
    successor = None
    if lifecycle.status(profile, today=today) == lifecycle.RETIRED:
        successor = lifecycle.usable_successor(profile.id, today=today)
        notes.append(f"OpenAI retired {model} on {profile.shutdown}; it works only on endpoints that "
                     "still serve it." + (f" Its successor is {inert(successor)}." if successor else ""))
    if profile.assumed_from:
        notes.append(f"{model}: {inert(profile.note)}.")
    chosen = extras or {}
    extra_views = {}
    for name in EXTRA_NAMES:
        allowed = profile.extras.get(name, ())
        value = chosen.get(name)
        extra_views[name] = ExtraView(
            visible=bool(allowed), choices=allowed or ("",),
            value=value if value in allowed else profile.extra_defaults.get(name, ""))
    background = extra_views["background"].value if "background" in extra_views else None
    output = output_view(profile.id, output_format, compression, background)
    if output.note:
        notes.append(output.note)
    return ModelView(
        profile, new_quality, new_size, style if style in profile.styles else DEFAULT_STYLE,
        " ".join(notes), cost_text(profile.id, new_quality, new_size, state, click=click), extra_views, output, successor)


def starting_view(settings: Settings, *, today: date | None = None) -> ModelView:
    """The view the page opens with: the configured model, or its successor when it is shut down (the note says so);
    its cost line is one image's, free where the page starts in the simulator."""
    start, why = start_model(settings.default_model, None, by_calendar=lifecycle.calendar_decides(settings),
                             today=today)
    view = model_view(start, None, None, SessionState(), click=Click(free=settings.simulated), today=today)
    return replace(view, note=f"{inert(why)} {view.note}".strip()) if why else view


def style_info() -> str:
    return " · ".join(STYLE_HINTS.values())


def cost_text(model_id: str, quality: str, size: str, state: SessionState, *, click: Click = ONE_IMAGE) -> str:
    """The cost line, the only text the page's cost line shows; an invalid size is explained, not priced.

    It prices the whole ``click``: "This image" for one image with no references, else "This click
    (n images from k references)" with the references' input tokens; on a free backend the price
    is marked as what OpenAI would charge (:func:`~dalle3.views.glance.as_charged`).
    """
    profile = resolve(model_id)
    problem = size_problem(profile, size) if profile and isinstance(size, str) else None
    if problem:
        return as_charged(f"This image: no price — {problem} · {session_total(state.spent_usd, state.images)}",
                          click.free)
    n, references = click.n, click.references
    price = pricing.batch_estimate(profile, quality, size, n, references, click.fidelity) if profile else None
    label = "This image"
    if n > 1 or references:
        label = f"This click ({n} image{'s' if n != 1 else ''}" + (
            f" from {len(references)} reference{'s' if len(references) != 1 else ''})" if references else ")")
    text = cost_line(price, state.spent_usd, state.images, label)
    if profile and is_experimental(profile, size):
        text += " · sizes above 2560x1440 are experimental"
    return as_charged(text, click.free)


def size_offer(model_id: str, size: Any) -> str | None:
    """The allowed size nearest to a refused ``size``, for the page's one-click button (never applied unasked)."""
    profile = resolve(model_id)
    if profile is None or not isinstance(size, str) or size_problem(profile, size) is None:
        return None
    return nearest_size(profile, size)


def size_offer_label(nearest: str) -> str:
    return f"Use {nearest}, the nearest allowed size"


@dataclass(frozen=True)
class OutputView:
    """The output-format and compression controls for one model and the values they hold."""

    visible: bool  # the model has a format choice (GPT Image); DALL·E 3 always returns PNG
    formats: tuple[str, ...]
    output_format: str | None
    compression_visible: bool  # jpeg and webp only
    compression: int | None
    note: str


def output_view(model_id: str, output_format: str | None, compression: int | None,
                background: str | None = None) -> OutputView:
    """What the format controls show after a change of model, format or background.

    A format the model lacks falls back to png; compression is kept only where it
    applies; transparent with jpeg is not changed silently but explained (validation
    refuses it with the same words).
    """
    profile = profile_for(model_id)
    if not profile.output_formats:
        return OutputView(False, (), None, False, None, "")
    fmt = output_format if output_format in profile.output_formats else "png"
    lossy = fmt in COMPRESSION_FORMATS
    note = ""
    if background == "transparent" and fmt not in TRANSPARENT_FORMATS:
        note = f"A transparent background needs {' or '.join(TRANSPARENT_FORMATS)}; {fmt} has no transparency."
    return OutputView(True, profile.output_formats, fmt, lossy, compression if lossy else None, note)


@dataclass(frozen=True)
class Restored:
    """What a PNG's parameters give back: the request (checked against the table) and its references."""

    request: GenerationRequest
    references: tuple[str, ...] = ()  # sha256 of an edit's references: find them with Studio.find_references


def restore(parameters: Mapping[str, Any] | None) -> Restored | None:
    """The parameters read from a PNG, made safe for the controls; None when unusable."""
    if not parameters:
        return None
    try:
        request = GenerationRequest.from_parameters(parameters)
    except ValidationError:
        return None
    return Restored(request, wanted_hashes(parameters))



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


def switched_text(before: ModelView, after: ModelView) -> str:
    """The status after a one-click switch: which model, and which settings changed."""
    changes = [f"{name} {old} → {new}" for name, old, new in (
        ("quality", before.quality, after.quality), ("size", before.size, after.size)) if old != new]
    if before.style_visible and not after.style_visible:
        changes.append(f"style {before.style} dropped ({after.profile.id} has none)")
    what = "; ".join(changes) if changes else "the other settings are unchanged"
    return f"Switched to {after.profile.id}: {what}. Click Generate to try again."


def switch_label(successor: str, quality: str, size: str) -> str:
    """The one-click offer after a retired model's answer, naming the settings it will use."""
    new_quality, new_size = closest_quality_and_size(profile_for(successor), quality, size)
    return f"Switch to {successor} (quality {new_quality}, size {new_size}; style has no counterpart)"
