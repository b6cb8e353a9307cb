"""One validated request, and the checks that make it.

Values reach us from dropdowns, from ``gradio_client``, from the CLI and from
PNGs people drop in; none of them is trusted. Validation runs before any
network call and answers with a sentence a person can act on. The result is a
frozen, hashable value: it is also the result-cache key.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from dalle3.models.edit_rules import EDIT_OMITS, rules_for
from dalle3.errors import ValidationError
from dalle3.models import (COMPRESSION_RANGE, DEFAULT_MODEL, DEFAULT_STYLE, EXTRA_NAMES, ModelProfile, output_problem,
                           quoted, resolve, size_problem)

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
    n: int = 1  # images per call (one batch)
    output_format: str | None = None  # None: the model has no choice (DALL·E: PNG)
    output_compression: int | None = None  # None: the API's default (100)
    # Per browser session, never stored; not part of equality, so the result cache stays shared.
    safety_identifier: str | None = field(default=None, compare=False, repr=False)
    # False when the caller left the model to us: it may then run on the endpoint's successor
    # (dalle3.models.choice); a model named explicitly is never replaced.
    model_named: bool = field(default=True, compare=False, repr=False)

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
        if self.output_format is not None:
            data["output_format"] = self.output_format
        if self.output_compression is not None:
            data["output_compression"] = self.output_compression
        if self.n != 1:
            data["n"] = self.n
        return data

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> GenerationRequest:
        """The request stored parameters describe (a PNG's, a history entry's), checked again.

        The inverse of :meth:`parameters`, and the one way back from them: restoring into the
        page, copy-as-code and the library all read stored parameters through here. Raises
        :class:`ValidationError` when they no longer describe a valid request.
        """
        return validate(
            parameters.get("prompt"), seed=parameters.get("seed", 0), quality=parameters.get("quality"),
            style=parameters.get("style"), size=parameters.get("size"), model=parameters.get("model"),
            extras={name: parameters[name] for name in EXTRA_NAMES if isinstance(parameters.get(name), str)},
            output_format=parameters.get("output_format"), output_compression=parameters.get("output_compression"),
            n=parameters.get("n", 1))


_QUALITY_HINTS = {"hd": " (hd is closest to high)", "standard": " (standard is closest to medium)"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_WHOLE_TEXT = re.compile(r"[0-9]{1,18}")


def whole_number(value: Any) -> int | None:
    """The one reading of a whole number that comes from outside; None when ``value`` is not one.

    Accepted: ints; floats that are whole and finite (Gradio's Number sends 7.0); text of
    1-18 ASCII digits, spaces around allowed ("7" from API callers and other tools' PNGs).
    Not numbers here: booleans (``True`` is an int to Python), NaN, infinities, fractions
    (never rounded), and any other digits — ``str.isdigit`` and ``int()`` take "²", "₂",
    "②", "２" or "٣" (the first three then fail inside ``int``). Never raises: each caller
    checks its own range and says its own sentence.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str) and _WHOLE_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    return None


def parse_seed(seed: Any) -> int:
    """An int in 0..2147483647.

    Accepted: ints; floats that are whole numbers (Gradio's Number sends 7.0);
    text of ASCII digits (API callers and PNGs from other tools write "7").
    Refused with a message: booleans (``True`` is an int to Python, not a
    seed), NaN and infinities, fractional numbers (never rounded), any other
    digits (superscript, fullwidth, Arabic-Indic) and anything else.
    """
    if isinstance(seed, bool):
        raise ValidationError(f"Seed must be a whole number from 0 to {SEED_MAX}, not a yes/no value.")
    number = whole_number(seed)
    if number is None or not 0 <= number <= SEED_MAX:
        raise ValidationError(f"Seed must be a whole number from 0 to {SEED_MAX}; got {quoted(seed)}.")
    return number


def parse_n(n: Any, profile: ModelProfile) -> int:
    """Images per click: a whole number from 1 to the model's maximum (dall-e-3: only 1)."""
    top = rules_for(profile).max_n
    number = whole_number(n)
    if number is None or not 1 <= number <= top:
        if top == 1:
            raise ValidationError(f"{profile.id} makes one image per request; set the number of images to 1.")
        raise ValidationError(f"Number of images must be a whole number from 1 to {top} for {profile.id}; "
                              f"got {quoted(n)}.")
    return number


def _choice(name: str, value: Any, allowed: tuple[str, ...], model: str, hint: str = "") -> str:
    if value not in allowed:
        raise ValidationError(
            f"{name.capitalize()} {quoted(value)} is not available for {model}. "
            f"Choose one of: {', '.join(allowed)}.{hint}"
        )
    return value


_SAFETY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def parse_compression(value: Any) -> int | None:
    """Blank -> None (the API's default); else a whole number in 0..100 (ASCII digits, as for seeds)."""
    if _blank(value):
        return None
    low, high = COMPRESSION_RANGE
    problem = f"Output compression must be a whole number from {low} to {high}; got {quoted(value)}."
    number = whole_number(value)
    if number is None or not low <= number <= high:
        raise ValidationError(problem)
    return number


def profile_for(model: Any) -> ModelProfile:
    """The profile for a model id, or a ValidationError naming the known ones."""
    profile = resolve(model) if isinstance(model, str) else None
    if profile is None:
        from dalle3.models import MODELS

        raise ValidationError(f"Unknown model {quoted(model)}. Known models: {', '.join(MODELS)}.")
    return profile


def validate(
    prompt: Any,
    *,
    seed: Any = 0,
    quality: Any = None,
    style: Any = None,
    size: Any = None,
    model: Any = None,
    extras: Mapping[str, Any] | None = None,
    output_format: Any = None,
    output_compression: Any = None,
    safety_identifier: str | None = None,
    n: Any = 1,
) -> GenerationRequest:
    """Check raw inputs against ``model``'s rules and return the request to send.

    ``None``/blank quality, size and extras take the model's default, so the
    request is explicit about every parameter. ``style`` is ignored for models
    that have none (it is a DALL·E 3 setting the page hides), never sent.
    """
    profile = profile_for(model or DEFAULT_MODEL)
    prompt = _checked_prompt(prompt, profile)
    seed = parse_seed(seed)
    quality = profile.default_quality if _blank(quality) else quality
    hint = _QUALITY_HINTS.get(quality, "") if isinstance(quality, str) else ""
    quality = _choice("quality", quality, profile.qualities, profile.id, hint)
    if profile.styles:
        style = _choice("style", profile.default_style if _blank(style) else style, profile.styles, profile.id)
    else:
        style = None
    size = profile.default_size if _blank(size) else size
    if not isinstance(size, str):
        raise ValidationError(f"Size must be text like 1024x1024; got {quoted(size)}.")
    if problem := size_problem(profile, size):
        raise ValidationError(problem)
    chosen = _checked_extras(extras or {}, profile)
    fmt = None if _blank(output_format) else output_format
    if fmt is not None and not isinstance(fmt, str):
        raise ValidationError(f"Output format must be text such as png; got {quoted(fmt)}.")
    compression = parse_compression(output_compression)
    if problem := output_problem(profile, fmt, compression, chosen.get("background")):
        raise ValidationError(problem)
    if safety_identifier is not None and not _SAFETY_ID.fullmatch(safety_identifier):
        raise ValidationError("The safety identifier must be 1-64 letters, digits, '-' or '_'.")
    return GenerationRequest(
        prompt=prompt, seed=seed, quality=quality, style=style, size=size,
        model=profile.id, extras=tuple(sorted(chosen.items())), n=parse_n(1 if n is None else n, profile),
        output_format=(fmt or "png") if profile.output_formats else None, output_compression=compression,
        safety_identifier=safety_identifier if profile.safety_identifier else None,
        model_named=not _blank(model),
    )


def _checked_prompt(prompt: Any, profile: ModelProfile) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValidationError("Write a prompt first: it is empty.")
    if len(prompt) > profile.prompt_limit:
        raise ValidationError(
            f"The prompt has {len(prompt):,} characters; {profile.id} takes at most "
            f"{profile.prompt_limit:,}. Shorten it by {len(prompt) - profile.prompt_limit:,}."
        )
    return prompt


def _checked_extras(extras: Mapping[str, Any], profile: ModelProfile) -> dict[str, str]:
    """The model's extra parameters: its defaults, overridden by what was given (blank: the default)."""
    chosen: dict[str, str] = dict(profile.extra_defaults)
    for name, value in extras.items():
        if _blank(value):
            continue
        if name not in profile.extras:
            raise ValidationError(f"{name.capitalize()} is not a setting of {profile.id}; leave it empty.")
        chosen[name] = _choice(name, value, profile.extras[name], profile.id)
    return chosen


def request_body(request: GenerationRequest, profile: ModelProfile) -> dict[str, Any]:
    """The JSON body for POST /images/generations: every parameter explicit, never a seed.

    ``safety_identifier`` goes only here, never into :meth:`GenerationRequest.parameters`.
    """
    body: dict[str, Any] = {"model": request.model, "prompt": request.prompt, "n": request.n,
                            "size": request.size, "quality": request.quality}
    if request.style is not None:
        body["style"] = request.style
    if profile.response_format:
        body["response_format"] = "b64_json"
    else:
        body["output_format"] = request.output_format or "png"
    if request.output_compression is not None:
        body["output_compression"] = request.output_compression
    if request.safety_identifier and profile.safety_identifier:
        body["safety_identifier"] = request.safety_identifier
    body.update(request.extras)
    return body


def for_edit(request: GenerationRequest) -> GenerationRequest:
    """``request`` without the generation-only parameters the edits endpoint does not take."""
    extras = tuple((name, value) for name, value in request.extras if name not in EDIT_OMITS)
    return request if extras == request.extras else replace(request, extras=extras)


def edit_fields(request: GenerationRequest, profile: ModelProfile, input_fidelity: str | None = None) -> dict[str, str]:
    """The text fields of the multipart POST /images/edits: the same parameters as a generation.

    Multipart carries text, so numbers go as digits, as the ``openai`` SDK sends
    them; ``input_fidelity`` only when set (checked against the model before).
    """
    fields = {name: str(value) for name, value in request_body(for_edit(request), profile).items()}
    if input_fidelity:
        fields["input_fidelity"] = input_fidelity
    return fields
