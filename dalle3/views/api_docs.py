"""What ``/generate`` takes, in words read from the model table: its API docs and MCP schema.

One line per argument, in order; a new extra setting in the table is a new argument with
its description, with no edit in the page or the API.
"""

from __future__ import annotations

from typing import Mapping

from dalle3.models import (EXTRA_NAMES, COMPRESSION_DEFAULT, COMPRESSION_FORMATS, COMPRESSION_RANGE, DEFAULT_MODEL, MODELS,
                           TRANSPARENT_FORMATS, ModelProfile)
from dalle3.models.edit_rules import MAX_REFERENCES

#: The header that carries an API caller's own OpenAI key (never an input: Gradio could print or store it).
KEY_HEADER = "X-OpenAI-Api-Key"


def _by_model(values: Mapping[str, tuple[str, ...]]) -> str:
    """``"standard | hd (dall-e-3); low | medium | high | auto (GPT Image models)"``, from per-model values."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for model_id, allowed in values.items():
        if allowed:
            groups.setdefault(allowed, []).append(model_id)
    gpt = [m for m, p in MODELS.items() if p.gpt_image]
    return "; ".join(f"{' | '.join(a)} ({'GPT Image models' if ids == gpt else ', '.join(ids)})"
                     for a, ids in groups.items())


def api_arguments() -> dict[str, str]:
    """One line per ``/generate`` argument, in order, read from the model table (API docs and MCP)."""
    table = MODELS.values()

    def sizes(p: ModelProfile) -> tuple[str, ...]:
        return (", ".join(p.sizes) + (f" or {p.custom_size.describe()}" if p.custom_size else ""),)

    args = {
        "prompt": "What to draw, at most: " + _by_model({p.id: (f"{p.prompt_limit:,} characters",) for p in table}),
        "seed": "0 to 2147483647 (default 0). Not sent to OpenAI (it has no seed); stored in the image. "
                "New seed, new image.",
        "quality": "Empty: the model's default. " + _by_model({p.id: p.qualities for p in table}),
        "style": "Empty: the model's default. " + _by_model({p.id: p.styles for p in table})
                 + "; ignored for models without a style.",
        "size": "Empty: the model's default. " + _by_model({p.id: sizes(p) for p in table}),
        "model": f"Empty: the page's model ({DEFAULT_MODEL}, or its successor when the endpoint lacks it or it "
                 f"is shut down). One of {', '.join(MODELS)}, a configured deployment name, or another id of "
                 "those families the endpoint offers.",
    }
    for name in EXTRA_NAMES:
        args[name] = ("Empty: the model's default. " + _by_model({p.id: p.extras.get(name, ()) for p in table})
                      + "; other models take none.")
    low, high = COMPRESSION_RANGE
    args["output_format"] = ("Empty: png. " + _by_model({p.id: p.output_formats for p in table})
                             + f"; transparent backgrounds need {' or '.join(TRANSPARENT_FORMATS)}.")
    args["output_compression"] = (f"Empty: {COMPRESSION_DEFAULT}. {low} to {high}, for "
                                  f"{' and '.join(COMPRESSION_FORMATS)} only (GPT Image models).")
    args["n"] = "Empty: 1. Images per call: " + _by_model(
        {p.id: (f"1 to {p.max_images}" if p.max_images > 1 else "1 only",) for p in table}) + "."
    return args


def edit_arguments() -> dict[str, str]:
    """``/edit``'s arguments: ``/generate``'s, then the images, the mask or markup, the input fidelity."""
    fidelity = _by_model({p.id: p.input_fidelity for p in MODELS.values()})
    markup = ", ".join(p.id for p in MODELS.values() if p.markup)
    return {
        **api_arguments(),
        "images": f"1 to {MAX_REFERENCES} reference images (PNG, JPEG or WebP; files, or data:image/...;base64 URLs). "
                  "The first is the one a mask or markup applies to.",
        "mask": "Optional PNG the size (or shape) of the first image: transparent where it may change. "
                "Not with a markup.",
        "markup": f"Optional transparent PNG of strokes on the first image to guide the edit ({markup}). "
                  "Not with a mask.",
        "input_fidelity": f"Empty: the model's default. {fidelity or 'none'}; other models take none.",
    }
