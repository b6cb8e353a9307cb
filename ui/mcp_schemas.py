"""The JSON schemas of the MCP tools: typed inputs with enums, and the facts each call returns.

Read from the model table (choices, ranges) and from :func:`dalle3.views.status.facts` (what a call
returns); :mod:`ui.mcp_tools` puts them on Gradio's server. No Gradio import here.
"""

from __future__ import annotations

from typing import Any, Callable

from dalle3.models import ALL_EXTRAS, ALL_QUALITIES, ALL_SIZES, ALL_STYLES, MODELS
from dalle3.params import SEED_MAX
from dalle3.results import OPENAI, SIMULATOR

_STRINGS = {"type": "array", "items": {"type": "string"}}
_MAYBE = {"type": ["string", "null"]}
LIBRARY_PAGE_MAX = 50

_FACTS = {
    "model": {"type": "string"}, "size": {"type": "string"}, "quality": {"type": "string"},
    "style": {**_MAYBE, "description": "dall-e-3 only; null for other models"},
    "seed": {"type": "integer"}, "extras": {"type": "object", "additionalProperties": {"type": "string"}},
    "revised_prompt": {**_MAYBE, "description": "the prompt as the model rewrote it, verbatim"},
    "cost_usd": {"type": "number", "description": "what this call cost (0 when cached or simulated)"},
    "cost_exact": {"type": "boolean", "description": "false: an estimate (no bill came back)"},
    "request_id": _MAYBE, "cached": {"type": "boolean"},
    "backend": {"type": "string", "enum": [OPENAI, SIMULATOR]},
    "file": {"type": "string", "description": "the first image's saved name (date/name), never a server path"},
    "seconds": {"type": "number"}, "output_format": {"type": "string"},
    "output_compression": {"type": ["integer", "null"]}, "file_bytes": {"type": "integer"},
    "n": {"type": "integer"}, "files": {**_STRINGS, "description": "every image of the batch, in order"},
}
GENERATE_FACTS: dict[str, Any] = {"type": "object", "properties": _FACTS, "required": list(_FACTS)}
EDIT_FACTS: dict[str, Any] = {
    "type": "object",
    "properties": {**_FACTS, "references": {**_STRINGS, "description": "sha256 of each reference image"},
                   "mask": {"type": "string"}, "markup": {"type": "string"}, "input_fidelity": {"type": "string"}},
    "required": [*_FACTS, "references"],
}
LIBRARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "total": {"type": "integer", "description": "images matching, on all pages"},
        "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "images": {"type": "array", "items": {"type": "object", "properties": {
            "file": {"type": "string"}, "created": {"type": "string"}, "model": _MAYBE, "size": _MAYBE,
            "quality": _MAYBE, "seed": {"type": ["integer", "null"]}, "cost_usd": {"type": ["number", "null"]},
            "cost_exact": {"type": "boolean"}, "prompt": {"type": "string"}, "revised_prompt": _MAYBE},
            "required": ["file", "created", "model", "size", "prompt"]}},
    },
    "required": ["total", "page", "per_page", "images"],
}

_ENUMS: dict[str, tuple[str, ...]] = {
    "quality": ALL_QUALITIES, "style": ALL_STYLES, **ALL_EXTRAS,
    "output_format": tuple(dict.fromkeys(f for p in MODELS.values() for f in p.output_formats)),
    "input_fidelity": tuple(dict.fromkeys(f for p in MODELS.values() for f in p.input_fidelity)),
}
_INTEGERS = {"seed": (0, SEED_MAX), "n": (1, max(p.max_images for p in MODELS.values())),
             "output_compression": (0, 100)}
_FILE_TEXT = "a data:image/png;base64,... URL (http(s) URLs are refused: this server downloads nothing)"


def refine_property(name: str, prop: dict[str, Any]) -> dict[str, Any]:
    """One parameter as an agent should see it: typed, with its fixed choices as an enum.

    "Empty" in the shared descriptions means "left out" here: a parameter left out takes the
    model's default (an enum does not list the empty string).
    """
    text = str(prop.get("description", "")).replace("Empty: ", "Left out: ", 1)
    if name in _INTEGERS:
        low, high = _INTEGERS[name]
        return {"type": "integer", "minimum": low, "maximum": high, "description": text}
    if _ENUMS.get(name):
        return {"type": "string", "enum": list(_ENUMS[name]), "description": text}
    if name in ("mask", "markup"):
        return {"type": "string", "description": f"{text} As {_FILE_TEXT}."}
    if name == "images":
        return {"type": "array", "minItems": 1, "maxItems": 16, "items": {"type": "string", "description": _FILE_TEXT},
                "description": text}
    refined: dict[str, Any] = {"type": "string", "description": text}
    if name == "size":
        refined["examples"] = list(ALL_SIZES)
    elif name == "model":
        refined["examples"] = list(MODELS)
    return refined


def refined_schemas(get_input_schema: Callable) -> Callable:
    def refined(tool_name: str, parameters: dict[str, str] | None = None) -> tuple[dict[str, Any], list]:
        schema, positions = get_input_schema(tool_name, parameters)
        props = {name: refine_property(name, prop) for name, prop in schema.get("properties", {}).items()}
        return {"type": "object", "properties": props, "required": schema.get("required", []),
                "additionalProperties": False}, positions

    return refined
