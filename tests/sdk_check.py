"""Check a ``POST /images/generations`` body against the official ``openai`` SDK's own parameter types.

Why a second check beside the OpenAPI one (``tests/openapi_spec.py``): the
vendored OpenAPI extract is older than the installed SDK (3.57.0), whose
``openai.types.image_generate_params`` is generated from a newer spec (it
knows ``complexity``, the 2.5/2.6 models, ``xhigh``/``max``). The SDK types are
``TypedDict`` classes with ``Literal`` values, so they are read here with
``typing.get_type_hints`` rather than re-typed by hand: when the SDK is
upgraded, this check follows it. It refuses what the SDK's types refuse — an
unknown key, a value outside a ``Literal``, a value of the wrong JSON type, a
missing required key — and a type it cannot read fails at import, so the check
never passes by not looking. The SDK is a development requirement only; nothing
under ``dalle3/`` imports it.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Union, get_args, get_origin

import typing_extensions
from openai.types import ImageInputReferenceParam, image_edit_params, image_generate_params
from openai.types.responses import response_create_params

__all__ = ["Problem", "FIELDS", "REQUIRED", "generate_params_problem", "responses_params_problem",
           "edit_json_params_problem"]

#: The two request shapes the SDK sends (``stream`` false/omitted, or true); a body may be either.
_SHAPES = (image_generate_params.ImageGenerateParamsNonStreaming, image_generate_params.ImageGenerateParamsStreaming)
_WRAPPERS = {typing_extensions.Required, typing_extensions.NotRequired, typing.Annotated, typing_extensions.Annotated}
_JSON_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", dict: "an object",
               list: "an array", type(None): "null"}


@dataclass(frozen=True)
class Problem:
    """Why a body is not what the SDK's types allow; ``code`` as the real API names it."""

    param: str | None
    code: str  # unknown_parameter | invalid_value | invalid_type | missing_required_parameter
    message: str


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """Strip ``Required``/``NotRequired``/``Annotated``; say whether ``Required`` was among them."""
    required = False
    while get_origin(tp) in _WRAPPERS:
        required = required or get_origin(tp) is typing_extensions.Required
        tp = get_args(tp)[0]
    return tp, required


def _hints(typed_dict: type) -> dict[str, Any]:
    return typing.get_type_hints(typed_dict, include_extras=True)


def _fields(shapes: tuple[type, ...] = _SHAPES) -> tuple[dict[str, tuple[Any, ...]], frozenset[str]]:
    """Every key either shape takes (with each shape's type) and the keys both shapes require."""
    fields: dict[str, tuple[Any, ...]] = {}
    required_in: list[set[str]] = []
    for shape in shapes:
        required = set()
        for name, hint in _hints(shape).items():
            tp, is_required = _unwrap(hint)
            fields[name] = fields.get(name, ()) + (tp,)
            if is_required:
                required.add(name)
        required_in.append(required)
    return fields, frozenset(set.intersection(*required_in))


def _json_name(value: Any) -> str:
    for kind in (bool, int, float, str, dict, list, type(None)):
        if isinstance(value, kind):
            return _JSON_NAMES[kind]
    return "a value"


def _readable(tp: Any) -> None:
    """Raise TypeError for a type this module cannot check (so an SDK change is noticed, not ignored)."""
    tp, _ = _unwrap(tp)
    origin = get_origin(tp)
    if tp in (str, int, float, bool, type(None), object) or origin is Literal:
        return
    if origin in (Union, types.UnionType) or origin in (list, collections.abc.Sequence, collections.abc.Iterable,
                                                         dict, collections.abc.Mapping):
        for arg in get_args(tp):
            _readable(arg)
        return
    if typing_extensions.is_typeddict(tp):
        for hint in _hints(tp).values():
            _readable(hint)
        return
    raise TypeError(f"tests/sdk_check.py cannot check the SDK type {tp!r}; teach it this type")


def _literals(tp: Any) -> list[Any]:
    """Every Literal value reachable through unions (for the "Supported values" message)."""
    return [v for member in _members(tp) if get_origin(member) is Literal for v in get_args(member)]


def _members(tp: Any) -> list[Any]:
    """The arms of a union (the type itself when it is not one)."""
    tp, _ = _unwrap(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _fits(tp: Any, value: Any) -> bool:
    tp, _ = _unwrap(tp)
    origin = get_origin(tp)
    if tp is object:
        return True
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if origin is Literal:  # JSON true is not 1: compare the type as well as the value
        return any(value == v and type(value) is type(v) for v in get_args(tp))
    if origin in (Union, types.UnionType):
        return any(_fits(arg, value) for arg in get_args(tp))
    if origin in (list, collections.abc.Sequence, collections.abc.Iterable):
        (item,) = get_args(tp) or (object,)
        return isinstance(value, list) and all(_fits(item, v) for v in value)
    if origin in (dict, collections.abc.Mapping):  # a JSON object with free keys (metadata, a function's schema)
        key, item = get_args(tp) or (str, object)
        return isinstance(value, dict) and all(_fits(key, k) and _fits(item, v) for k, v in value.items())
    if typing_extensions.is_typeddict(tp):
        return isinstance(value, dict) and _object_problem(tp, value, "") is None
    raise TypeError(f"unreadable SDK type {tp!r}")  # _readable has refused these already


def _value_problem(name: str, alternatives: tuple[Any, ...], value: Any) -> Problem | None:
    if any(_fits(tp, value) for tp in alternatives):
        return None
    if isinstance(value, dict):  # an object the SDK types as a TypedDict: name the key inside that is wrong
        for typed_dict in (t for tp in alternatives for t in _members(tp) if typing_extensions.is_typeddict(t)):
            if problem := _object_problem(typed_dict, value, f"{name}."):
                return problem
    allowed = [v for tp in alternatives for v in _literals(tp)]
    if allowed and any(type(value) is type(v) for v in allowed):
        shown = ", ".join(f"'{v}'" for v in dict.fromkeys(allowed))
        return Problem(name, "invalid_value", f"Invalid value: '{value}'. Supported values are: {shown}.")
    return Problem(name, "invalid_type", f"Invalid type for '{name}': got {_json_name(value)}, which the "
                   "openai SDK's parameter types do not allow.")


def _object_problem(typed_dict: type, body: Mapping[str, Any], prefix: str) -> Problem | None:
    hints = {name: _unwrap(hint) for name, hint in _hints(typed_dict).items()}
    for name in body:
        if name not in hints:
            return Problem(prefix + name, "unknown_parameter", f"Unknown parameter: '{prefix + name}'.")
    for name, (tp, required) in hints.items():
        if required and name not in body:
            return Problem(prefix + name, "missing_required_parameter",
                           f"Missing required parameter: '{prefix + name}'.")
        if name in body and (problem := _value_problem(prefix + name, (tp,), body[name])):
            return problem
    return None


FIELDS, REQUIRED = _fields()
#: ``POST /responses``: the SDK's ``ResponseCreateParams`` (plain and streaming), checked the same way.
RESPONSE_FIELDS, RESPONSE_REQUIRED = _fields((response_create_params.ResponseCreateParamsNonStreaming,
                                              response_create_params.ResponseCreateParamsStreaming))


def _edit_json_fields() -> tuple[dict[str, tuple[Any, ...]], frozenset[str]]:
    """``POST /images/edits`` as a JSON body (what a Batch row of edits is): the SDK's edit parameters with
    the files named, not sent. The SDK types only the multipart form (``image``, ``mask``, ``markup`` as
    files); the JSON form's ``images`` items and ``mask`` are ``{"file_id"}`` or ``{"image_url"}`` objects,
    the shape of the SDK's ``ImageInputReferenceParam``."""
    fields, required = _fields((image_edit_params.ImageEditParamsNonStreaming,))
    for name in ("image", "mask", "markup"):
        fields.pop(name)
    fields["images"] = (list[ImageInputReferenceParam],)
    fields["mask"] = (ImageInputReferenceParam,)
    return fields, frozenset((required - {"image"}) | {"images"})


EDIT_JSON_FIELDS, EDIT_JSON_REQUIRED = _edit_json_fields()
for _alternatives in (*FIELDS.values(), *RESPONSE_FIELDS.values(), *EDIT_JSON_FIELDS.values()):
    for _tp in _alternatives:
        _readable(_tp)


def generate_params_problem(body: Any) -> Problem | None:
    """None when ``body`` is what the SDK's image-generation parameter types allow, else the first problem."""
    return _params_problem(body, FIELDS, REQUIRED)


def responses_params_problem(body: Any) -> Problem | None:
    """None when ``body`` is what the SDK's ``responses.create`` parameter types allow, else the first problem."""
    return _params_problem(body, RESPONSE_FIELDS, RESPONSE_REQUIRED)


def edit_json_params_problem(body: Any) -> Problem | None:
    """None when ``body`` is an edit's JSON form as the SDK's types allow (see :func:`_edit_json_fields`);
    each reference must name exactly one of ``file_id`` and ``image_url``, as the API reference says."""
    if problem := _params_problem(body, EDIT_JSON_FIELDS, EDIT_JSON_REQUIRED):
        return problem
    references = [(f"images[{i}]", item) for i, item in enumerate(body["images"])]
    if "mask" in body:
        references.append(("mask", body["mask"]))
    for name, item in references:
        if len(item) != 1:
            return Problem(name, "invalid_value", f"Invalid '{name}': give exactly one of 'file_id' or 'image_url'.")
    return None


def _params_problem(body: Any, fields: Mapping[str, tuple[Any, ...]], required: frozenset[str]) -> Problem | None:
    if not isinstance(body, dict):
        return Problem(None, "invalid_type", f"The body must be a JSON object, not {_json_name(body)}.")
    for name in body:
        if name not in fields:
            return Problem(name, "unknown_parameter", f"Unknown parameter: '{name}'.")
    for name in sorted(required):
        if name not in body:
            return Problem(name, "missing_required_parameter", f"Missing required parameter: '{name}'.")
    for name, value in body.items():
        if problem := _value_problem(name, fields[name], value):
            return problem
    return None


def params_problem(typed_dict: type, body: Any) -> Problem | None:
    """None when ``body`` is what the SDK's ``typed_dict`` (e.g. ``BatchCreateParams``) allows, else the first
    problem; a type this module cannot read raises TypeError, so the check never passes by not looking."""
    for hint in _hints(typed_dict).values():
        _readable(hint)
    if not isinstance(body, dict):
        return Problem(None, "invalid_type", f"The body must be a JSON object, not {_json_name(body)}.")
    return _object_problem(typed_dict, body, "")
