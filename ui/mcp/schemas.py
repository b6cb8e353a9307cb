"""The JSON schemas of the MCP tools: typed inputs with enums, and the facts each call returns.

Read from the model table (choices, ranges), from :func:`dalle3.views.status.facts` (what an image
call returns), from the job record (:meth:`dalle3.jobs.store.JobRecord.public`) and from a chat
turn's facts (:func:`ui.chat_api.facts`); :mod:`ui.mcp.tools` puts them on Gradio's server. A
parameter is refined by its name, and by its tool where one name means different things (a chat's
``model`` is the mainline model, not an image model). No Gradio import here.
"""

from __future__ import annotations

from typing import Any, Callable

from dalle3.chat.request import ACTIONS
from dalle3.jobs.batch import BATCH_STATES
from dalle3.jobs.store import FINISHED, PENDING
from dalle3.models import ALL_EXTRAS, ALL_QUALITIES, ALL_SIZES, ALL_STYLES, MODELS
from dalle3.models.table import CHAT_MODELS
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
_NUMBER, _INTEGER, _MAYBE_INTEGER = {"type": "number"}, {"type": "integer"}, {"type": ["integer", "null"]}
_JOB = {
    "id": {"type": "string", "description": "the job's id (job-...), to ask where it stands or to cancel it"},
    "kind": {"type": "string", "enum": ["now", "batch"]},
    "status": {"type": "string", "enum": list(dict.fromkeys((*PENDING, *BATCH_STATES, *FINISHED)))},
    "count": {**_INTEGER, "description": "requests (rows) in the job"},
    "done": _INTEGER, "failed": _INTEGER, "left": _INTEGER,
    "created": {**_NUMBER, "description": "seconds since the epoch"}, "updated": _NUMBER,
    "estimate_usd": _NUMBER, "reserved_usd": _NUMBER,
    "spent_usd": {**_NUMBER, "description": "what the rows done so far cost"},
    "axes": _STRINGS, "endpoint": {"type": "string"}, "batch_id": _MAYBE, "input_file_id": _MAYBE,
    "output_file_id": _MAYBE, "error_file_id": _MAYBE,
    "message": {"type": "string", "description": "why it failed or what is left to do, in plain words"},
    "settled": {"type": "boolean"}, "sheet": {**_MAYBE, "description": "the contact sheet's saved name"},
    "results": {"type": "array", "description": "once the job has ended: each row, in order", "items": {
        "type": "object", "required": ["custom_id", "ok", "files"], "properties": {
            "custom_id": _MAYBE, "ok": {"type": "boolean"}, "error": _MAYBE, "cost_usd": _NUMBER,
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "files": {**_STRINGS, "description": "saved names (date/name), never server paths"}}}},
    "results_truncated": {"type": "boolean"},
    "edit": {"type": ["object", "null"], "description": "a job of edits: what each image records of the references "
             "(content hashes, names, mask), their input tokens, and a Batch's uploaded file ids; null otherwise"},
}
_JOB_REQUIRED = ["id", "kind", "status", "count", "done", "failed", "left", "spent_usd", "message"]
JOB_SCHEMA: dict[str, Any] = {"type": "object", "properties": _JOB, "required": _JOB_REQUIRED}
BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {**_JOB, "estimate_now_usd": {**_NUMBER, "description": "the job at full price, run now"},
                   "estimate_batch_usd": {**_NUMBER, "description": "the job as a Batch, at half price"}},
    "required": [*_JOB_REQUIRED, "estimate_now_usd", "estimate_batch_usd"],
}
STATUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {**_JOB, "jobs": {"type": "array", "description": "without job_id: every job you may see",
                                    "items": JOB_SCHEMA}},
    "anyOf": [{"required": _JOB_REQUIRED}, {"required": ["jobs"]}],
}
CHAT_FACTS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "conversation": {"type": "string", "description": "the id to continue the conversation with"},
        "turn": _INTEGER, "parent": {**_MAYBE_INTEGER, "description": "the turn this one continues"},
        "answer": {"type": "string"}, "revised_prompt": _MAYBE, "note": _MAYBE, "response_id": _MAYBE,
        "cost_usd": {**_NUMBER, "description": "what this turn cost: the mainline model's tokens and the image"},
        "cost_exact": {"type": "boolean", "description": "false: an estimate"},
        "backend": {"type": "string", "enum": [OPENAI, SIMULATOR]},
        "file": {**_MAYBE, "description": "the turn's image, saved name (date/name); null for a text-only answer"},
    },
    "required": ["conversation", "turn", "parent", "answer", "cost_usd", "cost_exact", "backend", "file"],
}

_ENUMS: dict[str, tuple[str, ...]] = {
    "quality": ALL_QUALITIES, "style": ALL_STYLES, **ALL_EXTRAS,
    "output_format": tuple(dict.fromkeys(f for p in MODELS.values() for f in p.output_formats)),
    "input_fidelity": tuple(dict.fromkeys(f for p in MODELS.values() for f in p.input_fidelity)),
}
_INTEGERS = {"seed": (0, SEED_MAX), "n": (1, max(p.max_images for p in MODELS.values())),
             "output_compression": (0, 100)}
_IMAGE_TOOL_MODELS = [m for m, p in MODELS.items() if p.billing != "image"]
# Where a name means something else in one tool: the chat's models and choices, a job's mode.
_BY_TOOL: dict[str, dict[str, dict[str, Any]]] = {
    "batch": {"mode": {"type": "string", "enum": ["batch", "now"]}},
    "chat": {"model": {"type": "string", "examples": list(CHAT_MODELS)},
             "image_model": {"type": "string", "examples": _IMAGE_TOOL_MODELS},
             "quality": {"type": "string", "enum": list(dict.fromkeys(
                 q for m in _IMAGE_TOOL_MODELS for q in MODELS[m].qualities))},
             "from_turn": {"type": "integer", "minimum": 1, "maximum": 9999},
             "action": {"type": "string", "enum": list(ACTIONS)}},
}
_REQUIRED = {"chat": ["text"]}
_FILE_TEXT = "a data:image/png;base64,... URL (http(s) URLs are refused: this server downloads nothing)"


def refine_property(name: str, prop: dict[str, Any], endpoint: str = "generate") -> dict[str, Any]:
    """One parameter of ``endpoint``'s tool as an agent should see it: typed, fixed choices as an enum.

    "Empty" in the shared descriptions means "left out" here: a parameter left out takes the
    model's default (an enum does not list the empty string).
    """
    text = str(prop.get("description", "")).replace("Empty: ", "Left out: ", 1)
    text = text.replace("(empty:", "(left out:").replace("; empty:", "; left out:")
    if name in _BY_TOOL.get(endpoint, {}):
        return {**_BY_TOOL[endpoint][name], "description": text}
    if name in _INTEGERS:
        low, high = _INTEGERS[name]
        return {"type": "integer", "minimum": low, "maximum": high, "description": text}
    if _ENUMS.get(name):
        return {"type": "string", "enum": list(_ENUMS[name]), "description": text}
    if name in ("mask", "markup"):
        return {"type": "string", "description": f"{text.rstrip('.')}. As {_FILE_TEXT}."}
    if name == "images":
        return {"type": "array", "minItems": 1, "maxItems": 16, "items": {"type": "string", "description": _FILE_TEXT},
                "description": text}
    refined: dict[str, Any] = {"type": "string", "description": text}
    if name == "size":
        refined["examples"] = list(ALL_SIZES)
    elif name == "model":
        refined["examples"] = list(MODELS)
    return refined


def refined_schemas(get_input_schema: Callable, endpoint_of: Callable[[str], str]) -> Callable:
    """``get_input_schema`` refined for every tool; ``endpoint_of`` names a (possibly prefixed) tool's endpoint."""
    def refined(tool_name: str, parameters: dict[str, str] | None = None) -> tuple[dict[str, Any], list]:
        schema, positions = get_input_schema(tool_name, parameters)
        endpoint = endpoint_of(tool_name)
        props = {name: refine_property(name, prop, endpoint) for name, prop in schema.get("properties", {}).items()}
        return {"type": "object", "properties": props, "required": schema.get("required") or _REQUIRED.get(endpoint, []),
                "additionalProperties": False}, positions

    return refined
