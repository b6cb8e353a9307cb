"""What an endpoint offers, as data a program can plan with: each model's choices, rules and prices.

The model table as JSON, marked with what the endpoint lists (when it was asked), so an agent
or a script picks a model, a quality and a size, and knows the price, before it spends
anything. :data:`CATALOG_SCHEMA` describes the value (MCP's ``outputSchema``); a test holds
every value to it.
"""

from __future__ import annotations

from typing import Any, Mapping

from dalle3.models.edit_rules import rules_for
from dalle3.models import MODELS, ModelProfile, resolve

_STRINGS = {"type": "array", "items": {"type": "string"}}
_MAYBE_STRING = {"type": ["string", "null"]}

MODEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "label": {"type": "string"},
        "lifecycle": {"type": "string", "enum": ["active", "deprecated", "retired"]},
        "shutdown": _MAYBE_STRING, "successor": _MAYBE_STRING,
        "offered": {"type": ["boolean", "null"], "description": "listed by this endpoint; null: not known"},
        "qualities": _STRINGS, "default_quality": {"type": "string"},
        "styles": _STRINGS, "sizes": _STRINGS, "default_size": {"type": "string"},
        "custom_size": {**_MAYBE_STRING, "description": "the rule for WIDTHxHEIGHT sizes; null: presets only"},
        "extras": {"type": "object", "additionalProperties": _STRINGS},
        "extra_defaults": {"type": "object", "additionalProperties": {"type": "string"}},
        "output_formats": _STRINGS, "max_n": {"type": "integer"}, "prompt_limit": {"type": "integer"},
        "edits": {"type": "boolean"}, "markup": {"type": "boolean"}, "input_fidelity": _STRINGS,
        "prices": {"type": "array", "description": "USD per image for each preset quality and size",
                   "items": {"type": "object", "properties": {
                       "quality": {"type": "string"}, "size": {"type": "string"}, "usd": {"type": "number"},
                       "estimate": {"type": "boolean"}},
                       "required": ["quality", "size", "usd", "estimate"]}},
    },
    "required": ["id", "label", "lifecycle", "shutdown", "successor", "offered", "qualities", "default_quality",
                 "styles", "sizes", "default_size", "custom_size", "extras", "extra_defaults", "output_formats",
                 "max_n", "prompt_limit", "edits", "markup", "input_fidelity", "prices"],
}

CATALOG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "endpoint": {"type": "string", "description": "where images come from"},
        "listing": {"type": "string", "description": "listed, not asked (offline), or why the listing failed"},
        "default_model": {"type": "string", "description": "the model used when a call names none"},
        "models": {"type": "array", "items": MODEL_SCHEMA},
    },
    "required": ["endpoint", "listing", "default_model", "models"],
}


def _prices(profile: ModelProfile) -> list[dict[str, Any]]:
    estimate = profile.billing != "image"
    return [{"quality": quality, "size": size, "usd": round(usd, 6), "estimate": estimate}
            for (quality, size), usd in profile.image_prices.items()]


def describe(profile: ModelProfile, offered: Mapping[str, Any] | None) -> dict[str, Any]:
    """One model as data; ``offered`` None when the endpoint's listing is not known."""
    rules = rules_for(profile)
    return {
        "id": profile.id, "label": profile.label, "lifecycle": profile.lifecycle, "shutdown": profile.shutdown,
        "successor": profile.successor, "offered": None if offered is None else profile.id in offered,
        "qualities": list(profile.qualities), "default_quality": profile.default_quality,
        "styles": list(profile.styles), "sizes": list(profile.sizes), "default_size": profile.default_size,
        "custom_size": profile.custom_size.describe() if profile.custom_size else None,
        "extras": {name: list(values) for name, values in profile.extras.items()},
        "extra_defaults": dict(profile.extra_defaults), "output_formats": list(profile.output_formats),
        "max_n": profile.max_images, "prompt_limit": profile.prompt_limit, "edits": rules.edits,
        "markup": profile.markup, "input_fidelity": list(profile.input_fidelity), "prices": _prices(profile),
    }


def catalog(*, endpoint: str, listing: str, default_model: str, offered: Mapping[str, Any] | None,
            only: str | None = None) -> dict[str, Any]:
    """The table's models and any other id of their families the endpoint lists; ``only``: one id."""
    ids = list(MODELS) + [m for m in (offered or {}) if m not in MODELS]
    profiles = [p for p in (resolve(m) for m in ids) if p is not None]
    if only:
        profiles = [p for p in profiles if p.id == only]
    return {"endpoint": endpoint, "listing": listing, "default_model": default_model,
            "models": [describe(p, offered) for p in profiles]}
