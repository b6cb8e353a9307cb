"""One validated request, and the checks that make it.

Values reach us from dropdowns, from ``gradio_client``, from the CLI and from
PNGs people drop in; none of them is trusted. Validation runs before any
network call and answers with a sentence a person can act on. The result is a
frozen, hashable value: it is also the result-cache key.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from dalle3.errors import ValidationError
from dalle3.models import DEFAULT_MODEL, DEFAULT_STYLE, ModelProfile, quoted, resolve, size_problem

SEED_MAX = 2_147_483_647


@dataclass(frozen=True)
class GenerationRequest:
    """Everything that decides an image. ``style`` is None for models without one."""

    prompt: str
    seed: int = 0
    quality: str = "standard"
    style: str | None = DEFAULT_STYLE
    size: str = "1024x1024"
    model: str = DEFAULT_MODEL
    extras: tuple[tuple[str, str], ...] = ()  # sorted (name, value) pairs

    @property
    def options(self) -> dict[str, str]:
        return dict(self.extras)

    def parameters(self) -> dict[str, Any]:
        """The request as plain data: what a PNG stores and a history entry keeps."""
        data: dict[str, Any] = {
            "prompt": self.prompt, "seed": self.seed, "model": self.model,
            "quality": self.quality, "size": self.size,
        }
        if self.style is not None:
            data["style"] = self.style
        data.update(self.extras)
        return data


_QUALITY_HINTS = {"hd": " (hd is closest to high)", "standard": " (standard is closest to medium)"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_SEED_TEXT = re.compile(r"[0-9]{1,10}")


def parse_seed(seed: Any) -> int:
    """An int in 0..2147483647.

    Accepted: ints; floats that are whole numbers (Gradio's Number sends 7.0);
    text of ASCII digits (API callers and PNGs from other tools write "7").
    Refused with a message: booleans (``True`` is an int to Python, not a
    seed), NaN and infinities, fractional numbers (never rounded), any other
    digits (superscript, fullwidth, Arabic-Indic) and anything else.
    """
    problem = f"Seed must be a whole number from 0 to {SEED_MAX}; got {quoted(seed)}."
    if isinstance(seed, bool):
        raise ValidationError(f"Seed must be a whole number from 0 to {SEED_MAX}, not a yes/no value.")
    if isinstance(seed, float):
        if not math.isfinite(seed) or not seed.is_integer():
            raise ValidationError(problem)
        seed = int(seed)
    elif isinstance(seed, str):
        if not _SEED_TEXT.fullmatch(seed.strip()):
            raise ValidationError(problem)
        seed = int(seed.strip())
    if not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ValidationError(problem)
    return seed


def _choice(name: str, value: Any, allowed: tuple[str, ...], model: str, hint: str = "") -> str:
    if value not in allowed:
        raise ValidationError(
            f"{name.capitalize()} {quoted(value)} is not available for {model}. "
            f"Choose one of: {', '.join(allowed)}.{hint}"
        )
    return value


def profile_for(model: Any) -> ModelProfile:
    """The profile for a model id, or a ValidationError naming the known ones."""
    profile = resolve(model) if isinstance(model, str) else None
    if profile is None:
        from dalle3.models import MODELS

        raise ValidationError(f"Unknown model {quoted(model)}. Known models: {', '.join(MODELS)}.")
    return profile


def validate(
    prompt: Any,
    seed: Any = 0,
    quality: Any = None,
    style: Any = None,
    size: Any = None,
    model: Any = None,
    extras: Mapping[str, Any] | None = None,
) -> GenerationRequest:
    """Check raw inputs against ``model``'s rules and return the request to send.

    ``None``/blank quality, size and extras take the model's default, so the
    request is explicit about every parameter. ``style`` is ignored for models
    that have none (it is a DALL·E 3 setting the page hides), never sent.
    """
    profile = profile_for(model or DEFAULT_MODEL)
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValidationError("Write a prompt first: it is empty.")
    if len(prompt) > profile.prompt_limit:
        raise ValidationError(
            f"The prompt has {len(prompt):,} characters; {profile.id} takes at most "
            f"{profile.prompt_limit:,}. Shorten it by {len(prompt) - profile.prompt_limit:,}."
        )
    seed = parse_seed(seed)
    quality = profile.default_quality if _blank(quality) else quality
    quality = _choice("quality", quality, profile.qualities, profile.id, _QUALITY_HINTS.get(quality, "") if isinstance(quality, str) else "")
    if profile.styles:
        style = _choice("style", profile.default_style if _blank(style) else style, profile.styles, profile.id)
    else:
        style = None
    size = profile.default_size if _blank(size) else size
    if not isinstance(size, str):
        raise ValidationError(f"Size must be text like 1024x1024; got {quoted(size)}.")
    if problem := size_problem(profile, size):
        raise ValidationError(problem)
    chosen: dict[str, str] = dict(profile.extra_defaults)
    for name, value in (extras or {}).items():
        if _blank(value):
            continue
        if name not in profile.extras:
            raise ValidationError(f"{name.capitalize()} is not a setting of {profile.id}; leave it empty.")
        chosen[name] = _choice(name, value, profile.extras[name], profile.id)
    return GenerationRequest(
        prompt=prompt, seed=seed, quality=quality, style=style, size=size,
        model=profile.id, extras=tuple(sorted(chosen.items())),
    )


def request_body(request: GenerationRequest, profile: ModelProfile) -> dict[str, Any]:
    """The JSON body for POST /images/generations: every parameter explicit, never a seed."""
    body: dict[str, Any] = {"model": request.model, "prompt": request.prompt, "n": 1,
                            "size": request.size, "quality": request.quality}
    if request.style is not None:
        body["style"] = request.style
    if profile.response_format:
        body["response_format"] = "b64_json"
    else:
        body["output_format"] = "png"
    body.update(request.extras)
    return body
