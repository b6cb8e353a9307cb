"""Spec validation: the checks a generation request passes before any scripted answer is used.

The order is the real API's: the key, the JSON, the public OpenAPI ``CreateImageRequest``
schema (vendored, ``tests/openapi_spec.py``), the installed ``openai`` SDK's own parameter
types (``tests/sdk_check.py``), the model, then the per-model rules the API enforces and the
SDK's docstrings state (DALL-E 3 sizes and qualities, GPT Image custom sizes, formats...).
A refusal is an :class:`Outcome` worded as the real API words it. Edits have their own
multipart checks in :mod:`tests.fake_openai.edits`, then the GPT Image rules here.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

import jsonschema

from tests.fake_openai.edits import GPT_IMAGE_ALIASES, is_gpt_image
from tests.fake_openai.scripting import Outcome
from tests.openapi_spec import load_spec, validate_create_image_request
from tests.sdk_check import generate_params_problem

DALLE3_SIZES = ("1024x1024", "1792x1024", "1024x1792")
DALLE3_QUALITIES = ("standard", "hd")
DALLE3_PROMPT_MAX = 4000
GPT_IMAGE_QUALITIES = ("low", "medium", "high", "auto")
#: The SDK's quality text: "gpt-image-2.5-sunburst and gpt-image-2.5-flare, including their 2026-09-08
#: snapshots, also support xhigh and max". It is silent on 2.6, so this fake refuses them there.
EXTRA_QUALITIES = ("xhigh", "max")
EXTRA_QUALITY_MODELS = (
    "gpt-image-2.5-sunburst", "gpt-image-2.5-sunburst-2026-09-08",
    "gpt-image-2.5-flare", "gpt-image-2.5-flare-2026-09-08",
)
#: The SDK's size text names these for WIDTHxHEIGHT; 2.6 takes them here too (ComfyUI's 2.6 node and
#: guides say so, the SDK is silent). The first-generation models take presets and auto only.
PRESET_ONLY_PREFIX = "gpt-image-1"
GPT_IMAGE_PRESETS = ("1024x1024", "1536x1024", "1024x1536")
#: output_format values that need preview access (the SDK: GIF preview, SVG project access).
PREVIEW_FORMATS = ("gif", "svg")
GPT_IMAGE_PROMPT_MAX = 32000
#: Parameters only the GPT Image models understand; DALL-E 3 rejects them.
GPT_IMAGE_ONLY_PARAMS = (
    "background",
    "moderation",
    "output_format",
    "output_compression",
    "partial_images",
    "complexity",
)
#: Parameters GPT Image models reject outright (the real API: "Unknown parameter").
DALLE_ONLY_PARAMS = ("style", "response_format")
COMPLEXITY_VALUES = ("low", "medium", "high")
COMPLEXITY_MODEL_PREFIX = "gpt-image-2.6"
GPT_IMAGE_MAX_EDGE = 3840
GPT_IMAGE_MIN_PIXELS = 655_360
GPT_IMAGE_MAX_PIXELS = 8_294_400
MSG_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
    "username) if you're accessing the API from your browser and are prompted for a username. "
    "You can obtain an API key from https://platform.openai.com/account/api-keys."
)
_MSG_BAD_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
    "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
    "valid JSON. If you have trouble figuring out how to fix this, please contact us through our "
    "help center at help.openai.com.)"
)


def parse_size(size: str) -> tuple[int, int] | None:
    """``"1536x864"`` -> ``(1536, 864)``; ``None`` if it is not ``<int>x<int>``."""
    match = re.fullmatch(r"([1-9][0-9]{0,5})x([1-9][0-9]{0,5})", size)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def _quoted_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def bad_request(param: str | None, message: str, code: str | None = "invalid_value") -> Outcome:
    return Outcome.error(400, code, message, param=param)


def _unknown_parameter(param: str) -> Outcome:
    return bad_request(param, f"Unknown parameter: '{param}'.", "unknown_parameter")


def _invalid_value(param: str, value: Any, supported: Iterable[str]) -> Outcome:
    return bad_request(param, f"Invalid value: '{value}'. Supported values are: {_quoted_list(supported)}.")


_JSON_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def _json_type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _first_type(schema: Any) -> str | None:
    """The first concrete ``type`` mentioned in a (possibly ``anyOf``-nested) spec schema."""
    if isinstance(schema, dict):
        if isinstance(schema.get("type"), str):
            return schema["type"]
        for sub in schema.get("anyOf", []) + schema.get("oneOf", []):
            found = _first_type(sub)
            if found is not None:
                return found
    return None


def _schema_error_to_outcome(err: jsonschema.ValidationError) -> Outcome:
    """Turn a ``CreateImageRequest`` schema violation into the 400 the real API would send."""
    path = list(err.absolute_path)
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else None
        return bad_request(missing, f"Missing required parameter: '{missing}'.", "missing_required_parameter")
    if not path:
        return bad_request(None, _MSG_BAD_JSON, None)
    param = str(path[0])
    value = err.instance
    prop_schema = load_spec()["components"]["schemas"]["CreateImageRequest"]["properties"].get(param, {})
    if isinstance(prop_schema, dict) and "$ref" in prop_schema:
        ref_name = prop_schema["$ref"].rsplit("/", 1)[-1]
        prop_schema = load_spec()["components"]["schemas"][ref_name]
    expected = _first_type(prop_schema)
    if expected is not None and _json_type_of(value) != expected and not (
        expected == "number" and _json_type_of(value) == "integer"
    ):
        return bad_request(
            param,
            f"Invalid type for '{param}': expected {_JSON_TYPE_NAMES.get(expected, expected)}, "
            f"but got {_JSON_TYPE_NAMES.get(_json_type_of(value), 'a value')} instead.",
            "invalid_type",
        )
    if err.validator == "enum":
        return _invalid_value(param, value, err.validator_value)
    if err.validator == "maximum":
        return bad_request(
            param,
            f"Invalid '{param}': integer above maximum value. Expected a value <= {err.validator_value}, "
            f"but got {value} instead.",
            "integer_above_max_value",
        )
    if err.validator == "minimum":
        return bad_request(
            param,
            f"Invalid '{param}': integer below minimum value. Expected a value >= {err.validator_value}, "
            f"but got {value} instead.",
            "integer_below_min_value",
        )
    return bad_request(param, f"Invalid value for '{param}': {err.message}")


def _prompt_too_long(prompt: str, limit: int) -> Outcome | None:
    if len(prompt) <= limit:
        return None
    return bad_request(
        "prompt",
        f"Invalid 'prompt': string too long. Expected a string with maximum length {limit}, "
        f"but got a string with length {len(prompt)} instead.",
        "string_above_max_length",
    )


def _check_gpt_image_size(size: str) -> Outcome | None:
    """Apply the GPT Image custom-size limits (multiples of 16, edge, aspect, pixel budget)."""
    if size == "auto":
        return None
    dims = parse_size(size)
    if dims is None:
        return bad_request("size", f"Invalid size '{size}'. Use 'auto' or WIDTHxHEIGHT, e.g. '1536x864'.")
    width, height = dims
    if width % 16 or height % 16:
        return bad_request("size", f"Invalid size '{size}'. Width and height must both be divisible by 16.")
    if max(width, height) > GPT_IMAGE_MAX_EDGE:
        return bad_request(
            "size", f"Invalid size '{size}'. The longest edge must be at most {GPT_IMAGE_MAX_EDGE} pixels."
        )
    if max(width, height) > 3 * min(width, height):
        return bad_request("size", f"Invalid size '{size}'. The aspect ratio must be between 1:3 and 3:1.")
    pixels = width * height
    if not GPT_IMAGE_MIN_PIXELS <= pixels <= GPT_IMAGE_MAX_PIXELS:
        return bad_request(
            "size",
            f"Invalid size '{size}'. The total number of pixels must be between "
            f"{GPT_IMAGE_MIN_PIXELS} and {GPT_IMAGE_MAX_PIXELS}, but got {pixels}.",
        )
    return None


def _present(body: Mapping[str, Any], key: str) -> bool:
    """The API treats an explicit ``null`` like an omitted parameter."""
    return body.get(key) is not None


def _check_dalle3(body: Mapping[str, Any]) -> Outcome | None:
    for param in GPT_IMAGE_ONLY_PARAMS:
        if _present(body, param):
            return _unknown_parameter(param)
    size = body.get("size")
    if size is not None and size not in DALLE3_SIZES:
        return bad_request("size", f"'{size}' is not one of {list(DALLE3_SIZES)} - 'size'")
    quality = body.get("quality")
    if quality is not None and quality not in DALLE3_QUALITIES:
        return _invalid_value("quality", quality, DALLE3_QUALITIES)
    style = body.get("style")
    if style is not None and style not in ("vivid", "natural"):
        return _invalid_value("style", style, ("vivid", "natural"))
    n = body.get("n")
    if n is not None and n != 1:
        return bad_request("n", "You must provide n=1 for this model.")
    return _prompt_too_long(body["prompt"], DALLE3_PROMPT_MAX)


def check_gpt_image(model: str, body: Mapping[str, Any]) -> Outcome | None:
    for param in DALLE_ONLY_PARAMS:
        if _present(body, param):
            return _unknown_parameter(param)
    quality = body.get("quality")
    allowed = GPT_IMAGE_QUALITIES + (EXTRA_QUALITIES if model in EXTRA_QUALITY_MODELS else ())
    if quality is not None and quality not in allowed:
        return _invalid_value("quality", quality, allowed)
    size = body.get("size")
    if (size is not None and (model.startswith(PRESET_ONLY_PREFIX) or model in GPT_IMAGE_ALIASES)
            and size not in GPT_IMAGE_PRESETS + ("auto",)):
        return _invalid_value("size", size, GPT_IMAGE_PRESETS + ("auto",))
    if size is not None:
        problem = _check_gpt_image_size(size)
        if problem is not None:
            return problem
    background = body.get("background")
    if background is not None and background not in ("auto", "opaque", "transparent"):
        return _invalid_value("background", background, ("auto", "opaque", "transparent"))
    moderation = body.get("moderation")
    if moderation is not None and moderation not in ("auto", "low"):
        return _invalid_value("moderation", moderation, ("auto", "low"))
    output_format = body.get("output_format")
    if output_format in PREVIEW_FORMATS:
        return Outcome.error(403, "preview_access_required",
                             f"Output format '{output_format}' requires preview access for {model}.",
                             param="output_format")
    if output_format is not None and output_format not in ("png", "jpeg", "webp"):
        return _invalid_value("output_format", output_format, ("png", "jpeg", "webp"))
    if background == "transparent" and output_format == "jpeg":
        return bad_request(
            "background", "Transparent background is not supported for the 'jpeg' output format; use 'png' or 'webp'."
        )
    compression = body.get("output_compression")
    if compression is not None and not 0 <= compression <= 100:
        return bad_request("output_compression", "Invalid 'output_compression': must be between 0 and 100.")
    if compression is not None and output_format in (None, "png"):
        return bad_request("output_compression",
                            "output_compression is only supported for the 'jpeg' and 'webp' output formats.")
    if _present(body, "safety_identifier") and not isinstance(body["safety_identifier"], str):
        return bad_request("safety_identifier", "Invalid type for 'safety_identifier': expected a string.",
                            "invalid_type")
    if _present(body, "complexity"):
        if not model.startswith(COMPLEXITY_MODEL_PREFIX):
            return _unknown_parameter("complexity")
        if body["complexity"] not in COMPLEXITY_VALUES:
            return _invalid_value("complexity", body["complexity"], COMPLEXITY_VALUES)
    return _prompt_too_long(body["prompt"], GPT_IMAGE_PROMPT_MAX)


def check_generation(token: str | None, raw: bytes, body: Any, *, retired_models: Iterable[str]) -> Outcome | None:
    """The real API's checks, in its order: auth, JSON, schema, the SDK's types, model, per-model rules."""
    if token is None:
        return Outcome.error(401, None, MSG_NO_KEY)
    if not raw or body is None:
        return bad_request(None, _MSG_BAD_JSON, None)
    try:
        validate_create_image_request(body)
    except jsonschema.ValidationError as err:
        return _schema_error_to_outcome(err)
    if (problem := generate_params_problem(body)) is not None:  # the SDK's newer types, too
        return bad_request(problem.param, problem.message, problem.code)
    model = body.get("model") or "dall-e-2"
    if model in retired_models:
        return Outcome.model_not_found()
    if model.startswith("dall-e-3"):
        return _check_dalle3(body)
    if is_gpt_image(model):
        return check_gpt_image(model, body)
    return Outcome.model_not_found()
