"""JSON-Schema validators built from OpenAI's published OpenAPI entry for ``POST /images/generations``.

The fake server and the tests both validate against the *vendored public spec*
(``tests/reference/openai-images-generations.openapi.json``, copied from
openai/openai-openapi, MIT licence) rather than
against hand-written expectations, so that the fake cannot silently drift away
from what the real API documents.

The spec is OpenAPI 3.0 flavoured: it marks optional-null fields with
``nullable: true``, which plain JSON Schema ignores.  :func:`_openapi_to_jsonschema`
rewrites those into ``anyOf: [<schema>, {"type": "null"}]`` so that ``null`` is
accepted exactly where the spec allows it (and nowhere else).  Nothing else is
tightened: in particular no ``additionalProperties: false`` is added, because the
spec does not say so (the real API has parameters, e.g. ``complexity``, that
this spec revision does not list).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

__all__ = [
    "SPEC_PATH",
    "load_spec",
    "schema_for",
    "validator_for",
    "validate_create_image_request",
    "validate_images_response",
    "validate_error_response",
]

#: The vendored spec, inside the repository (its ``source`` field names where it was copied from).
SPEC_PATH = Path(__file__).parent / "reference" / "openai-images-generations.openapi.json"


@functools.lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    """Return the raw spec document (cached; treat it as read-only)."""
    with SPEC_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


def _openapi_to_jsonschema(node: Any) -> Any:
    """Recursively translate OpenAPI 3.0 ``nullable: true`` into JSON Schema.

    ``{"type": "string", "enum": [...], "nullable": true}`` becomes
    ``{"anyOf": [{"type": "string", "enum": [...]}, {"type": "null"}]}``.
    Documentation-only keys (``description``, ``example``, ``x-*``...) are left
    in place; JSON Schema validators ignore unknown keywords.
    """
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _openapi_to_jsonschema(value) for key, value in node.items()}
    if converted.pop("nullable", False) is True:
        # Keep annotations on the wrapper so error messages stay readable.
        annotations = {k: converted.pop(k) for k in ("description", "default", "example") if k in converted}
        return {"anyOf": [converted, {"type": "null"}], **annotations}
    return converted


#: Enums the installed ``openai`` SDK (3.57.0, newer than the vendored spec revision) widens:
#: (schema, property) -> (SDK class, field). Values the SDK's Literal adds (quality xhigh/max,
#: output_format gif/svg) are accepted by the schema; per-model rules stay in the fake.
_SDK_WIDENED = {
    ("CreateImageRequest", "quality"): ("openai.types.image_generate_params", "ImageGenerateParamsBase", "quality"),
    ("CreateImageRequest", "output_format"): ("openai.types.image_generate_params", "ImageGenerateParamsBase",
                                              "output_format"),
    ("ImagesResponse", "quality"): ("openai.types.images_response", "ImagesResponse", "quality"),
    ("ImagesResponse", "output_format"): ("openai.types.images_response", "ImagesResponse", "output_format"),
}


def sdk_literal_values(module: str, cls: str, field: str) -> list[str]:
    """Every string a field's ``Literal`` allows in the installed SDK (Optional/Union flattened)."""
    import importlib
    import typing

    owner = getattr(importlib.import_module(module), cls)
    fields = getattr(owner, "model_fields", None)  # pydantic models (responses) vs TypedDicts (params)
    annotation = fields[field].annotation if fields is not None else typing.get_type_hints(owner)[field]
    found: list[str] = []
    stack = [annotation]
    while stack:
        tp = stack.pop()
        if typing.get_origin(tp) is typing.Literal:
            found += [a for a in typing.get_args(tp) if isinstance(a, str) and a not in found]
        else:
            stack += reversed(typing.get_args(tp))
    return found


def _widen(node: Any, values: list[str]) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            node["enum"] += [v for v in values if v not in node["enum"]]
        for sub in node.get("anyOf", []):
            _widen(sub, values)


@functools.lru_cache(maxsize=1)
def _components() -> dict[str, Any]:
    components = _openapi_to_jsonschema(copy.deepcopy(load_spec()["components"]))
    for (schema, prop), where in _SDK_WIDENED.items():
        _widen(components["schemas"][schema]["properties"][prop], sdk_literal_values(*where))
    return components


def schema_for(name: str) -> dict[str, Any]:
    """A self-contained schema for ``components.schemas[name]``.

    The component tree is embedded next to a root ``$ref`` so that the spec's
    own ``#/components/schemas/...`` references resolve without a registry.
    """
    if name not in _components()["schemas"]:
        raise KeyError(f"{name!r} is not a schema in {SPEC_PATH}")
    return {"$ref": f"#/components/schemas/{name}", "components": _components()}


@functools.lru_cache(maxsize=None)
def validator_for(name: str) -> Validator:
    """A cached Draft 2020-12 validator for one component schema."""
    schema = schema_for(name)
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    return cls(schema)


def _validate(name: str, instance: Any) -> None:
    error = best_match(validator_for(name).iter_errors(instance))
    if error is not None:
        raise error


def validate_create_image_request(body: dict[str, Any]) -> None:
    """Raise :class:`jsonschema.ValidationError` unless *body* is a valid ``CreateImageRequest``."""
    _validate("CreateImageRequest", body)


def validate_images_response(body: dict[str, Any]) -> None:
    """Raise :class:`jsonschema.ValidationError` unless *body* is a valid ``ImagesResponse``."""
    _validate("ImagesResponse", body)


def validate_error_response(body: Any) -> None:
    """Raise :class:`jsonschema.ValidationError` unless *body* is a valid ``ErrorResponse``."""
    _validate("ErrorResponse", body)
