"""A fake of OpenAI's Images API (``POST /v1/images/generations``) as a real loopback HTTP server.

Why a real server instead of mocking ``requests``/``httpx``: the app's HTTP
behaviour (timeouts, keep-alive, retries, connection resets, oversized bodies,
non-JSON error pages) is exactly what we want to test, and only real sockets
exercise it.  The server listens on ``127.0.0.1`` on an OS-chosen port, runs in
a background thread and handles each connection on a daemon thread, so a
handler that is deliberately hanging never blocks other requests or
:meth:`FakeOpenAI.stop`.

Behaviour mirrors the real API where it is documented:

* Requests are authenticated (``Authorization: Bearer ...``) and validated
  against the public OpenAPI ``CreateImageRequest`` schema, the official
  ``openai`` SDK's parameter types (``tests/sdk_check.py``) and the per-model
  rules the API enforces (DALL-E 3 sizes/qualities, GPT Image custom sizes, ...)
  *before* a scripted outcome is consumed, just as the real server rejects a bad
  request before anything else can happen to it.
* Every request to the generations endpoint is recorded in
  :attr:`FakeOpenAI.requests`, including rejected ones.
* Faults are scripted with :meth:`FakeOpenAI.script` using :class:`Outcome`
  constructors; once the queue is empty every request succeeds.

Fake-specific choices (documented so tests can rely on them):

* A request without ``model`` is treated as ``dall-e-2`` (the spec's default),
  which this fake does not serve, so it gets ``404 model_not_found``.
* DALL-E 3 without ``response_format`` gets the URL form (the spec's default is
  ``url``); pass ``response_format="b64_json"`` to get base64.
* GPT Image ``quality: "auto"`` (or omitted) is reported as ``"medium"``;
  ``background: "auto"`` (or omitted) is reported as ``"opaque"``; ``size:
  "auto"`` renders 1024x1024.
* GPT Image output tokens are ``round(base * width * height / 1048576) * n``
  with ``base`` = 272 (low), 1056 (medium), 4160 (high) for the quality asked
  (or :attr:`FakeOpenAI.billed_quality` when set); input tokens are
  ``max(1, len(prompt) // 4)`` (all text, no image tokens).
* ``stream: true`` (GPT Image) is answered with server-sent events as
  :mod:`tests.fake_stream` describes; :attr:`FakeOpenAI.stream_mode` ``"reject"``
  answers 400 (param ``stream``) and ``"ignore"`` plain JSON, like endpoints that
  do not stream.
* Quality ``xhigh``/``max`` only on the models the SDK names (the 2.5 models and
  their snapshots): 2.6 is refused with ``invalid_value``, since the SDK is silent.
  ``gif``/``svg`` get 403 ``preview_access_required``; ``output_compression`` with
  PNG gets 400. A ``safety_identifier`` is echoed in the answer, as the SDK's
  ``ImagesResponse`` documents.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import copy
import dataclasses
import functools
import io
import json
import re
import socket
import struct
import sys
import threading
import time
import uuid
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

import jsonschema
from PIL import Image

from tests import fake_stream
from tests import fake_edits
from tests import fake_responses
from tests import fake_batches
from tests.openapi_spec import load_spec, validate_create_image_request
from tests.sdk_check import generate_params_problem

__all__ = ["FakeOpenAI", "Outcome", "SeenRequest", "closed_port_url", "render_image"]

GENERATIONS_PATH = "/v1/images/generations"
EDITS_PATH = "/v1/images/edits"
MODELS_PATH = "/v1/models"
AZURE_PREFIX = "/openai"
_FILES_RE = re.compile(r"^/v1/files/(?P<id>[0-9a-f]{32})\.(?P<ext>png|jpeg|webp)$")

#: Errors that just mean "the client went away"; never worth a traceback.
_DISCONNECT_ERRORS: tuple[type[BaseException], ...] = (
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
    TimeoutError,
)

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
GPT_IMAGE_ALIASES = fake_edits.GPT_IMAGE_ALIASES
is_gpt_image = fake_edits.is_gpt_image
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
#: Output image tokens for a 1024x1024 (1048576 px) image, per quality.
OUTPUT_TOKENS_PER_MEGAPIXEL = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 7396, "max": 16640}
_MEGAPIXEL = 1_048_576

_MSG_NO_KEY = (
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
_MSG_QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
)
_MSG_CONTENT_POLICY = (
    "Your request was rejected as a result of our safety system. Your prompt may contain text "
    "that is not allowed by our safety system."
)
_MSG_SERVER_ERROR = (
    "The server had an error while processing your request. Sorry about that! You can retry your "
    "request, or contact us through our help center at help.openai.com if the error persists."
)
_MSG_UNAVAILABLE = "The server is overloaded or not ready yet."
_HTML_BAD_GATEWAY = (
    "<html><head><title>{status} Bad Gateway</title></head><body>"
    "<center><h1>{status} Bad Gateway</h1></center><hr><center>cloudflare</center>"
    "</body></html>"
)
#: Placeholders in :class:`Outcome` messages that depend on the request being answered.
_KEY_PLACEHOLDER = "{masked_key}"
_MODEL_PLACEHOLDER = "{model}"


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class SeenRequest:
    """One request as the fake received it (headers lower-cased, body parsed if it was JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any] | None
    time: float
    form: dict[str, str] | None = None  # an edit's text fields
    files: tuple[fake_edits.Part, ...] = ()  # an edit's file parts, in order


@dataclass(frozen=True)
class Outcome:
    """What the fake does with one request. Build instances with the classmethods, not directly.

    ``kind`` selects the behaviour; the other fields are parameters for it.
    Error messages may contain ``{masked_key}`` / ``{model}``, filled from the
    request being answered (the real API echoes both).
    """

    kind: str
    status: int = 200
    code: str | None = None
    message: str = ""
    type: str = "invalid_request_error"
    param: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    revised_prompt: str | None = None
    request_id: str | None = None
    delay_s: float | None = None
    image: bytes | None = field(default=None, repr=False)
    seconds: float = 0.0
    nbytes: int = 0

    # ----- success shapes

    @classmethod
    def success(
        cls,
        revised_prompt: str | None = None,
        request_id: str | None = None,
        delay_s: float | None = None,
        image: bytes | None = None,
    ) -> Outcome:
        """200 with real image data (a PNG of the requested size unless *image* is given).

        *delay_s* overrides :attr:`FakeOpenAI.default_delay_s` for this answer.
        """
        return cls("success", revised_prompt=revised_prompt, request_id=request_id, delay_s=delay_s, image=image)

    @classmethod
    def success_url(cls) -> Outcome:
        """200 in URL form even when base64 was asked for (some OpenAI-compatible servers do this)."""
        return cls("success_url")

    # ----- error shapes (JSON ``{"error": {...}}`` per the spec's Error schema)

    @classmethod
    def error(
        cls,
        status: int,
        code: str | None,
        message: str,
        type: str = "invalid_request_error",  # noqa: A002 - mirrors the API field name
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Any JSON error; *headers* are added to (and may override) the defaults."""
        return cls(
            "error",
            status=status,
            code=code,
            message=message,
            type=type,
            param=param,
            headers=tuple((headers or {}).items()),
        )

    @classmethod
    def rate_limited(cls, retry_after: str | None = "1", retry_after_ms: str | None = None) -> Outcome:
        """429 ``rate_limit_exceeded`` with optional ``retry-after`` / ``retry-after-ms`` headers."""
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["retry-after"] = retry_after
        if retry_after_ms is not None:
            headers["retry-after-ms"] = retry_after_ms
        message = (
            "Rate limit reached for {model} in organization org-fake on images per min (IPM): "
            "Limit 5, Used 5, Requested 1. Please try again in 12s. "
            "Visit https://platform.openai.com/account/rate-limits to learn more."
        )
        return cls.error(429, "rate_limit_exceeded", message, type="requests", headers=headers)

    @classmethod
    def insufficient_quota(cls) -> Outcome:
        """429 that must *not* be retried: the account is out of credit."""
        return cls.error(429, "insufficient_quota", _MSG_QUOTA, type="insufficient_quota")

    @classmethod
    def content_policy(cls) -> Outcome:
        """400 safety-system rejection of the prompt."""
        return cls.error(400, "content_policy_violation", _MSG_CONTENT_POLICY, type="image_generation_user_error")

    @classmethod
    def invalid_key(cls) -> Outcome:
        """401 whose message echoes the masked bearer token, as the real API does."""
        message = (
            f"Incorrect API key provided: {_KEY_PLACEHOLDER}. "
            "You can find your API key at https://platform.openai.com/account/api-keys."
        )
        return cls.error(401, "invalid_api_key", message)

    @classmethod
    def model_not_found(cls, model: str | None = None) -> Outcome:
        """404 ``model_not_found``; the model named is *model* or else the request's model."""
        name = _MODEL_PLACEHOLDER if model is None else model
        message = f"The model `{name}` does not exist or you do not have access to it."
        return cls.error(404, "model_not_found", message)

    @classmethod
    def server_error(cls, status: int = 500) -> Outcome:
        """5xx JSON error of type ``server_error`` with ``code: null``."""
        return cls.error(status, None, _MSG_SERVER_ERROR, type="server_error")

    @classmethod
    def unavailable(cls) -> Outcome:
        """503 JSON error (overloaded)."""
        return cls.error(503, None, _MSG_UNAVAILABLE, type="server_error")

    # ----- broken transports / bodies

    @classmethod
    def html(cls, status: int = 502) -> Outcome:
        """A proxy's ``text/html`` error page instead of JSON (e.g. Cloudflare 502)."""
        return cls("html", status=status)

    @classmethod
    def not_json(cls) -> Outcome:
        """200 labelled ``application/json`` whose body is not JSON."""
        return cls("not_json")

    @classmethod
    def empty_data(cls) -> Outcome:
        """200 with ``"data": []`` (spec-valid, but no image)."""
        return cls("empty_data")

    @classmethod
    def bad_base64(cls) -> Outcome:
        """200 whose ``b64_json`` is not base64."""
        return cls("bad_base64")

    @classmethod
    def not_an_image(cls) -> Outcome:
        """200 whose ``b64_json`` is valid base64 of bytes that are not an image."""
        return cls("not_an_image")

    @classmethod
    def hang(cls, seconds: float = 30) -> Outcome:
        """Read the request, then wait *seconds* before answering success (ends early on stop())."""
        return cls("hang", seconds=seconds)

    @classmethod
    def huge(cls, nbytes: int = 50 * 1024 * 1024) -> Outcome:
        """200 with ``content-length: nbytes``, streamed on the fly (never held in memory)."""
        return cls("huge", nbytes=nbytes)

    @classmethod
    def broken_body(cls, status: int = 200, stall_s: float | None = None) -> Outcome:
        """Send the headers and half the body (a real answer for 200, a JSON error otherwise),
        then reset the connection, or with *stall_s* go silent that long first."""
        return cls("broken_body", status=status, seconds=stall_s or 0.0, delay_s=stall_s)

    @classmethod
    def stream_fault(cls, kind: str, after_partials: int = 1, seconds: float = 30.0,
                     message: str = "") -> Outcome:
        """A streamed answer that goes wrong after *after_partials* partial images: *kind* is
        ``reset``, ``malformed``, ``error`` (an error event), ``stall`` (*seconds* of silence,
        then the rest) or ``truncated`` (the stream ends without ``completed``)."""
        return cls(f"stream_{kind}", nbytes=after_partials, seconds=seconds, message=message)

    @classmethod
    def too_large(cls) -> Outcome:
        """413 from a gateway (an HTML page), as a too-big upload gets."""
        return cls("too_large", status=413)

    @classmethod
    def image_policy(cls) -> Outcome:
        """400 safety-system rejection of an input image of an edit."""
        message = ("Your request was rejected by the safety system. One of the input images may contain "
                   "content that is not allowed by our safety system.")
        return cls.error(400, "moderation_blocked", message, type="image_generation_user_error", param="image")

    @classmethod
    def reset_connection(cls) -> Outcome:
        """Close the socket (with RST) without sending any response."""
        return cls("reset_connection")


# --------------------------------------------------------------------------- helpers


def closed_port_url() -> str:
    """A ``/v1`` base URL on a loopback port nothing listens on (the port was just released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def mask_key(key: str) -> str:
    """Mask an API key the way error messages show it: first 3 chars, ``***``, last 4."""
    if len(key) < 8:
        return "***"
    return f"{key[:3]}***{key[-4:]}"


def parse_size(size: str) -> tuple[int, int] | None:
    """``"1536x864"`` -> ``(1536, 864)``; ``None`` if it is not ``<int>x<int>``."""
    match = re.fullmatch(r"([1-9][0-9]{0,5})x([1-9][0-9]{0,5})", size)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


@functools.lru_cache(maxsize=64)
def render_image(width: int, height: int, fmt: str = "png", transparent: bool = False) -> bytes:
    """A real image of exactly ``width`` x ``height`` in *fmt*, cached per argument set.

    A 64x64 gradient is upscaled rather than drawing at full size, and PNG uses
    ``compress_level=1``, so even 3840x2160 stays cheap and repeated sizes are free.
    """
    ramp = Image.linear_gradient("L").resize((64, 64))
    mode = "RGBA" if transparent and fmt != "jpeg" else "RGB"
    bands = [ramp, ramp.rotate(90), Image.new("L", (64, 64), 160)]
    if mode == "RGBA":
        bands.append(ramp.rotate(180))
    img = Image.merge(mode, bands).resize((width, height), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    if fmt == "png":
        img.save(out, format="PNG", compress_level=1)
    elif fmt == "jpeg":
        img.save(out, format="JPEG", quality=80)
    elif fmt == "webp":
        img.save(out, format="WEBP", quality=80, method=0)
    else:
        raise ValueError(f"unsupported format {fmt!r}")
    return out.getvalue()


def _new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def _quoted_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _bad_request(param: str | None, message: str, code: str | None = "invalid_value") -> Outcome:
    return Outcome.error(400, code, message, param=param)


def _unknown_parameter(param: str) -> Outcome:
    return _bad_request(param, f"Unknown parameter: '{param}'.", "unknown_parameter")


def _invalid_value(param: str, value: Any, supported: Iterable[str]) -> Outcome:
    return _bad_request(param, f"Invalid value: '{value}'. Supported values are: {_quoted_list(supported)}.")


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
        return _bad_request(missing, f"Missing required parameter: '{missing}'.", "missing_required_parameter")
    if not path:
        return _bad_request(None, _MSG_BAD_JSON, None)
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
        return _bad_request(
            param,
            f"Invalid type for '{param}': expected {_JSON_TYPE_NAMES.get(expected, expected)}, "
            f"but got {_JSON_TYPE_NAMES.get(_json_type_of(value), 'a value')} instead.",
            "invalid_type",
        )
    if err.validator == "enum":
        return _invalid_value(param, value, err.validator_value)
    if err.validator == "maximum":
        return _bad_request(
            param,
            f"Invalid '{param}': integer above maximum value. Expected a value <= {err.validator_value}, "
            f"but got {value} instead.",
            "integer_above_max_value",
        )
    if err.validator == "minimum":
        return _bad_request(
            param,
            f"Invalid '{param}': integer below minimum value. Expected a value >= {err.validator_value}, "
            f"but got {value} instead.",
            "integer_below_min_value",
        )
    return _bad_request(param, f"Invalid value for '{param}': {err.message}")


def _prompt_too_long(prompt: str, limit: int) -> Outcome | None:
    if len(prompt) <= limit:
        return None
    return _bad_request(
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
        return _bad_request("size", f"Invalid size '{size}'. Use 'auto' or WIDTHxHEIGHT, e.g. '1536x864'.")
    width, height = dims
    if width % 16 or height % 16:
        return _bad_request("size", f"Invalid size '{size}'. Width and height must both be divisible by 16.")
    if max(width, height) > GPT_IMAGE_MAX_EDGE:
        return _bad_request(
            "size", f"Invalid size '{size}'. The longest edge must be at most {GPT_IMAGE_MAX_EDGE} pixels."
        )
    if max(width, height) > 3 * min(width, height):
        return _bad_request("size", f"Invalid size '{size}'. The aspect ratio must be between 1:3 and 3:1.")
    pixels = width * height
    if not GPT_IMAGE_MIN_PIXELS <= pixels <= GPT_IMAGE_MAX_PIXELS:
        return _bad_request(
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
        return _bad_request("size", f"'{size}' is not one of {list(DALLE3_SIZES)} - 'size'")
    quality = body.get("quality")
    if quality is not None and quality not in DALLE3_QUALITIES:
        return _invalid_value("quality", quality, DALLE3_QUALITIES)
    style = body.get("style")
    if style is not None and style not in ("vivid", "natural"):
        return _invalid_value("style", style, ("vivid", "natural"))
    n = body.get("n")
    if n is not None and n != 1:
        return _bad_request("n", "You must provide n=1 for this model.")
    return _prompt_too_long(body["prompt"], DALLE3_PROMPT_MAX)


def _check_gpt_image(model: str, body: Mapping[str, Any]) -> Outcome | None:
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
        return _bad_request(
            "background", "Transparent background is not supported for the 'jpeg' output format; use 'png' or 'webp'."
        )
    compression = body.get("output_compression")
    if compression is not None and not 0 <= compression <= 100:
        return _bad_request("output_compression", "Invalid 'output_compression': must be between 0 and 100.")
    if compression is not None and output_format in (None, "png"):
        return _bad_request("output_compression",
                            "output_compression is only supported for the 'jpeg' and 'webp' output formats.")
    if _present(body, "safety_identifier") and not isinstance(body["safety_identifier"], str):
        return _bad_request("safety_identifier", "Invalid type for 'safety_identifier': expected a string.",
                            "invalid_type")
    if _present(body, "complexity"):
        if not model.startswith(COMPLEXITY_MODEL_PREFIX):
            return _unknown_parameter("complexity")
        if body["complexity"] not in COMPLEXITY_VALUES:
            return _invalid_value("complexity", body["complexity"], COMPLEXITY_VALUES)
    return _prompt_too_long(body["prompt"], GPT_IMAGE_PROMPT_MAX)


def _default_models() -> list[dict[str, Any]]:
    ids = [
        "dall-e-3",
        "gpt-image-2",
        "gpt-image-2-2026-04-21",
        "gpt-image-2.5-sunburst",
        "gpt-image-2.5-sunburst-2026-09-08",
        "gpt-image-2.5-flare",
        "gpt-image-2.5-flare-2026-09-08",
        "gpt-image-2.6-sunburst",
        "gpt-image-2.6-flare",
        "gpt-image-1.5",
        "gpt-5",
        "text-embedding-3-small",
    ]
    # The SDK's ``Model`` type: ``shutdown_date`` is a string, or null when none is announced. This fake
    # is a compatible server that still serves dall-e-3 (listed, no date); gpt-image-1.5 is listed with
    # OpenAI's shutdown date, which has come, so the page never starts on it.
    shutdown = {"gpt-image-1.5": "2026-12-01"}
    return [{"id": model_id, "object": "model", "created": 1700000000, "owned_by": "system",
             "shutdown_date": shutdown.get(model_id)} for model_id in ids]


# --------------------------------------------------------------------------- the server


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer whose handler threads are daemons and never join on close."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client (or stop()) drops a connection; report real bugs."""
        exc = sys.exc_info()[1]
        if isinstance(exc, _DISCONNECT_ERRORS) or self.fake._stopping.is_set():
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to :class:`FakeOpenAI`; all state lives on the fake, not the handler."""

    protocol_version = "HTTP/1.1"  # keep-alive, so requests.Session/httpx pools are exercised
    server: _Server
    started: float = 0.0
    server_version = "FakeOpenAI/1.0"

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.server.fake._track_connection(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._untrack_connection(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the default per-request stderr logging."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def _dispatch(self) -> None:
        fake = self.server.fake
        with fake._in_flight():
            self.started = time.monotonic()
            try:
                length = int(self.headers.get("content-length") or 0)
            except ValueError:
                length = 0
            raw = self.rfile.read(length) if length > 0 else b""
            fake._handle(self, raw)

    # ----- low-level writers (all swallow client disconnects)

    def send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
    ) -> None:
        """Send a complete response with an exact Content-Length (and OpenAI's usual headers)."""
        merged: dict[str, str] = {}
        if content_type == "application/json":
            merged["x-request-id"] = request_id or _new_request_id()
            merged["openai-processing-ms"] = str(int((time.monotonic() - self.started) * 1000))
        for key, value in (headers or {}).items():
            merged[key.lower()] = value
        try:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            for key, value in merged.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except _DISCONNECT_ERRORS:
            self.close_connection = True

    def send_json(
        self,
        status: int,
        payload: Any,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
    ) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), headers=headers, request_id=request_id)

    def stream_huge(self, nbytes: int) -> None:
        """Send ``nbytes`` of JSON-shaped bytes in 64 KiB chunks, stopping quietly on hang-up."""
        prefix = b'{"created":1,"data":[{"b64_json":"'
        suffix = b'"}]}'
        chunk = b"A" * 65536
        try:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(nbytes))
            self.send_header("x-request-id", _new_request_id())
            self.end_headers()
            head = prefix[:nbytes]
            tail = suffix if nbytes >= len(prefix) + len(suffix) else b""
            self.wfile.write(head)
            remaining = nbytes - len(head) - len(tail)
            while remaining > 0 and not self.server.fake._stopping.is_set():
                piece = chunk if remaining >= len(chunk) else chunk[:remaining]
                self.wfile.write(piece)
                remaining -= len(piece)
            if remaining == 0:
                self.wfile.write(tail)
                self.wfile.flush()
            else:
                self.close_connection = True
        except _DISCONNECT_ERRORS:
            self.close_connection = True

    def send_broken(self, status: int, body: bytes, stall_s: float, fake: FakeOpenAI) -> None:
        """Headers with the full length, half of *body*, then (after *stall_s*) a reset."""
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.send_header("x-request-id", _new_request_id())
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
        except _DISCONNECT_ERRORS:
            self.close_connection = True
            return
        fake._sleep(stall_s)
        self.reset()

    def reset(self) -> None:
        """Abort the connection: SO_LINGER 0 makes close() send RST instead of FIN."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class FakeOpenAI:
    """A loopback OpenAI Images server with a scriptable queue of :class:`Outcome` s.

    Use as a context manager or via :meth:`start`/:meth:`stop`.  Attributes that
    tests may set at any time: :attr:`default_delay_s`, :attr:`default_image`,
    :attr:`retired_models`, :attr:`models`, :attr:`models_outcome`.
    """

    def __init__(self) -> None:
        self.default_delay_s: float = 0.0
        #: Bytes every success answers with (unless its Outcome has ``image``); None: render one.
        self.default_image: bytes | None = None
        self.retired_models: set[str] = set()
        #: Bill every GPT Image answer's ``usage`` as this quality, whatever was asked (a real
        #: bill can exceed the estimate for the quality asked); None: bill the quality asked.
        self.billed_quality: str | None = None
        self.models: list[dict[str, Any]] = _default_models()
        self.models_outcome: Outcome | None = None
        self.azure = False  # True: serve as Azure OpenAI's v1 API (under /openai/v1, the key in ``api-key``)
        self.deployments: dict[str, str] = {}  # deployment name -> the model it serves
        #: ``stream: true`` is answered with events ("sse"), a 400 on ``stream`` ("reject") or JSON ("ignore").
        self.stream_mode: str = "sse"
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: deque[Outcome] = deque()
        self._requests: list[SeenRequest] = []
        self._model_requests: list[SeenRequest] = []
        self._edit_requests: list[SeenRequest] = []
        #: Bodies larger than this (bytes) are answered 413 on /images/edits, as a gateway does; None: no limit.
        self.max_body_bytes: int | None = None
        self._files: dict[str, tuple[bytes, str]] = {}
        self.batch_api = fake_batches.BatchState()  # /files, /batches: see tests/fake_batches.py
        self._connections: set[socket.socket] = set()
        self._connection_count = 0
        self._active = 0
        self._epoch = 0  # bumped by reset(); in-flight counts are per epoch
        self._generating_by_epoch: collections.Counter[int] = collections.Counter()
        self._peak_generating = 0
        #: When set, a success waits (up to ``rendezvous_timeout_s``) until this many generation
        #: requests have been answered at once since the last reset: tests of "at once" prove the
        #: overlap without timing (a later request does not wait once they have met).
        self.rendezvous: int | None = None
        self.rendezvous_timeout_s: float = 10.0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle

    def start(self) -> FakeOpenAI:
        """Bind to an ephemeral loopback port and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},  # stop() waits up to one poll
            name=f"FakeOpenAI:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop quickly: wake hanging handlers, close the listener and every open connection.

        Handler threads are daemons and are not joined, so a handler stuck in
        :meth:`Outcome.hang` or in a slow write never delays shutdown.
        """
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if thread is not None:
            thread.join(timeout=2)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1`` — what a client uses as its OpenAI base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def azure_base_url(self) -> str:
        """``http://127.0.0.1:<port>/openai/v1`` — the base URL when :attr:`azure` is set."""
        return f"http://127.0.0.1:{self.port}{AZURE_PREFIX}/v1"

    # ----- scripting and inspection

    def script(self, *outcomes: Outcome) -> None:
        """Append outcomes; each valid ``POST /v1/images/generations`` or ``/edits`` consumes one, in order.

        Raises TypeError when given none: a bare ``script()`` would do nothing
        (use :meth:`reset` to forget the queue, :attr:`pending` to check it).
        """
        if not outcomes:
            raise TypeError("script() needs at least one Outcome; it appends, it does not clear (use reset())")
        with self._lock:
            self._queue.extend(outcomes)

    @property
    def pending(self) -> int:
        """Scripted outcomes not consumed yet."""
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Forget the scripted queue, all recorded requests and the in-flight peak (settings are kept)."""
        with self._lock:
            self._epoch += 1  # requests still being answered from before no longer count
            self._peak_generating = 0
            self._queue.clear()
            self._requests.clear()
            self._model_requests.clear()
            self._edit_requests.clear()
            self.batch_api = fake_batches.BatchState()

    @property
    def requests(self) -> list[SeenRequest]:
        """Snapshot of every request to ``/v1/images/generations``, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def edit_requests(self) -> list[SeenRequest]:
        """Snapshot of every ``POST /v1/images/edits``, with its fields and file parts, rejected ones too."""
        with self._lock:
            return list(self._edit_requests)

    @property
    def model_requests(self) -> list[SeenRequest]:
        """Snapshot of every ``GET /v1/models`` request."""
        with self._lock:
            return list(self._model_requests)

    @property
    def generation_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def connection_count(self) -> int:
        """TCP connections accepted so far (lets tests prove keep-alive reuse)."""
        with self._lock:
            return self._connection_count

    @property
    def _generating(self) -> int:
        """Generation requests that arrived since the last :meth:`reset` and are being answered now."""
        return self._generating_by_epoch[self._epoch]

    @property
    def generating(self) -> int:
        """Generation requests being answered right now (since the last :meth:`reset`)."""
        with self._lock:
            return self._generating

    @property
    def max_in_flight(self) -> int:
        """The most generation requests answered at the same time since start or :meth:`reset`."""
        with self._lock:
            return self._peak_generating

    def wait_in_flight(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` generation requests (since the last reset) are being answered at once."""
        with self._idle:
            return self._idle.wait_for(lambda: self._generating >= count, timeout)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being answered (e.g. a ``huge`` stream noticed the hang-up)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._active:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    # ----- internals used by the handler

    def _track_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)
            self._connection_count += 1

    def _untrack_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    @contextlib.contextmanager
    def _in_flight(self) -> Iterator[None]:
        """Count a request as being answered, for :meth:`wait_idle`."""
        with self._lock:
            self._active += 1
        try:
            yield
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops first; returns True if it is still running."""
        if seconds > 0:
            self._stopping.wait(seconds)
        return not self._stopping.is_set()

    def _handle(self, h: _Handler, raw: bytes) -> None:
        asked = urlsplit(h.path).path.rstrip("/") or "/"
        # Azure OpenAI's v1 API lives under /openai/v1; as Azure, this fake answers only there.
        path = asked[len(AZURE_PREFIX):] if self.azure and asked.startswith(AZURE_PREFIX + "/v1/") else (
            "/not-served-here" if self.azure else asked)
        headers = {key.lower(): value for key, value in h.headers.items()}
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                body = None
        seen = SeenRequest(
            method=h.command,
            path=asked,
            headers=headers,
            json=body if isinstance(body, dict) else None,
            time=time.time(),
        )
        if path == EDITS_PATH and h.command == "POST":
            self._handle_edit(h, headers, raw, seen)
            return
        if path == fake_responses.PATH and h.command == "POST":
            fake_responses.handle(self, h, raw, body, seen)
            return
        if fake_batches.handle(self, h, path, raw, headers):
            return
        if path == GENERATIONS_PATH:
            with self._lock:
                self._requests.append(seen)
            if h.command == "POST":
                self._handle_generation(h, headers, raw, body)
                return
        elif path == MODELS_PATH and h.command == "GET":
            with self._lock:
                self._model_requests.append(seen)
            self._handle_models(h, headers)
            return
        else:
            match = _FILES_RE.match(path)
            if match is not None and h.command == "GET":
                with self._lock:
                    stored = self._files.get(match.group("id"))
                if stored is not None:
                    h.send_bytes(200, stored[0], content_type=stored[1])
                    return
        message = f"Invalid URL ({h.command} {path})"
        h.send_json(404, _error_payload(message, "invalid_request_error", None, None))

    def _deployed(self, model: Any) -> Any:
        """The model a deployment name stands for (the name itself when it is none)."""
        return self.deployments.get(model, model) if isinstance(model, str) else model

    def _bearer(self, headers: Mapping[str, str]) -> str | None:
        if self.azure:  # Azure OpenAI's key header; a Bearer token there would be an Entra ID token
            return headers.get("api-key", "").strip() or None
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token else None

    def _handle_models(self, h: _Handler, headers: Mapping[str, str]) -> None:
        token = self._bearer(headers)
        if token is None:
            self._act(h, Outcome.error(401, None, _MSG_NO_KEY), token="", request={})
            return
        outcome = self.models_outcome
        if outcome is not None and outcome.kind not in ("success", "success_url", "bad_base64", "not_an_image"):
            if outcome.kind == "empty_data":
                h.send_json(200, {"object": "list", "data": []})
            else:
                self._act(h, outcome, token=token, request={})
            return
        h.send_json(200, {"object": "list", "data": copy.deepcopy(self.models)})

    def _handle_generation(self, h: _Handler, headers: Mapping[str, str], raw: bytes, body: Any) -> None:
        with self._idle:
            epoch = self._epoch
            self._generating_by_epoch[epoch] += 1
            self._peak_generating = max(self._peak_generating, self._generating)
            self._idle.notify_all()
        try:
            self._answer_generation(h, headers, raw, body)
        finally:
            with self._idle:
                self._generating_by_epoch[epoch] -= 1
                self._idle.notify_all()

    def _answer_generation(self, h: _Handler, headers: Mapping[str, str], raw: bytes, body: Any) -> None:
        token = self._bearer(headers)
        if isinstance(body, dict) and "model" in body:
            body = {**body, "model": self._deployed(body["model"])}
        request = body if isinstance(body, dict) else {}
        rejection = self._validate(token, raw, body)
        if rejection is not None:
            self._act(h, rejection, token=token or "", request=request)
            return
        if request.get("stream") is True and self.stream_mode == "reject":
            self._act(h, _bad_request("stream", "Streaming is not supported for this model.", "unsupported_parameter"),
                      token=token or "", request=request)
            return
        with self._lock:
            outcome = self._queue.popleft() if self._queue else Outcome.success()
        if request.get("stream") is True and self.stream_mode == "sse" and (
                outcome.kind == "success" or outcome.kind in fake_stream.FAULTS):
            fake_stream.answer(self, h, outcome, request)
            return
        self._act(h, outcome, token=token or "", request=request)

    def _handle_edit(self, h: _Handler, headers: Mapping[str, str], raw: bytes, seen: SeenRequest) -> None:
        """``POST /v1/images/edits``: auth, size, multipart, the SDK's rules, then the scripted outcome."""
        parsed = fake_edits.parse_multipart(headers.get("content-type", ""), raw)
        fields, files = parsed if parsed is not None else ({}, [])
        with self._lock:
            self._edit_requests.append(dataclasses.replace(seen, form=fields, files=tuple(files)))
        token = self._bearer(headers)
        if token is None:
            self._act(h, Outcome.error(401, None, _MSG_NO_KEY), token="", request={})
            return
        if self.max_body_bytes is not None and len(raw) > self.max_body_bytes:
            self._act(h, Outcome.too_large(), token=token, request={})
            return
        if parsed is None:
            self._act(h, _bad_request(None, "Expected a multipart/form-data body.", None), token=token, request={})
            return
        rejection, request, sizes = self._check_edit(fields, files)
        if rejection is not None:
            self._act(h, rejection, token=token, request=request)
            return
        with self._lock:
            outcome = self._queue.popleft() if self._queue else Outcome.success()
        self._act(h, outcome, token=token, request=request, input_image_tokens=fake_edits.input_image_tokens(sizes))

    def _check_edit(self, fields: dict[str, str], files: list[fake_edits.Part],
                    ) -> tuple[Outcome | None, dict[str, Any], list[tuple[int, int]]]:
        """An edit's checks once it is parsed (a request, or a Batch row): the SDK's rules, retired models,
        then the generation rules; (the refusal or None, the request as typed values, the images' sizes)."""
        if "model" in fields:
            fields = {**fields, "model": self._deployed(fields["model"])}
        problem, request, sizes = fake_edits.check_edit(fields, files)
        if problem is not None:
            return Outcome.error(problem.status, problem.code, problem.message, param=problem.param), request, sizes
        if request.get("model") in self.retired_models:
            return Outcome.model_not_found(), request, sizes
        return _check_gpt_image(request["model"], {**request, "n": None}), request, sizes

    def _validate(self, token: str | None, raw: bytes, body: Any) -> Outcome | None:
        """The real API's checks, in its order: auth, JSON, schema, model, per-model rules."""
        if token is None:
            return Outcome.error(401, None, _MSG_NO_KEY)
        if not raw or body is None:
            return _bad_request(None, _MSG_BAD_JSON, None)
        try:
            validate_create_image_request(body)
        except jsonschema.ValidationError as err:
            return _schema_error_to_outcome(err)
        if (problem := generate_params_problem(body)) is not None:  # the SDK's newer types, too
            return _bad_request(problem.param, problem.message, problem.code)
        model = body.get("model") or "dall-e-2"
        if model in self.retired_models:
            return Outcome.model_not_found()
        if model.startswith("dall-e-3"):
            return _check_dalle3(body)
        if is_gpt_image(model):
            return _check_gpt_image(model, body)
        return Outcome.model_not_found()

    def _act(self, h: _Handler, outcome: Outcome, token: str, request: Mapping[str, Any],
             input_image_tokens: int = 0) -> None:
        """Carry out one outcome on the handler's connection."""
        kind = outcome.kind
        if kind == "error":
            message = outcome.message.replace(_KEY_PLACEHOLDER, mask_key(token)).replace(
                _MODEL_PLACEHOLDER, str(request.get("model") or "dall-e-2")
            )
            headers = dict(outcome.headers)
            request_id = headers.pop("x-request-id", None)
            h.send_json(
                outcome.status,
                _error_payload(message, outcome.type, outcome.param, outcome.code),
                headers=headers,
                request_id=request_id,
            )
        elif kind in ("success", "success_url"):
            delay = outcome.delay_s if outcome.delay_s is not None else self.default_delay_s
            if self.rendezvous is not None:  # once that many have met, later answers do not wait
                with self._idle:
                    self._idle.wait_for(lambda: self._peak_generating >= (self.rendezvous or 0), self.rendezvous_timeout_s)
            if not self._sleep(delay):
                h.reset()
                return
            payload = self._success_payload(outcome, request, force_url=kind == "success_url",
                                            input_image_tokens=input_image_tokens)
            h.send_json(200, payload, request_id=outcome.request_id)
        elif kind == "hang":
            if not self._sleep(outcome.seconds):
                h.reset()
                return
            h.send_json(200, self._success_payload(Outcome.success(), request, force_url=False))
        elif kind == "html":
            page = _HTML_BAD_GATEWAY.format(status=outcome.status).encode()
            h.send_bytes(outcome.status, page, content_type="text/html")
        elif kind == "not_json":
            h.send_bytes(200, b"this is not json", headers={"x-request-id": _new_request_id()})
        elif kind == "empty_data":
            h.send_json(200, {"created": int(time.time()), "data": []})
        elif kind == "bad_base64":
            h.send_json(200, {"created": int(time.time()), "data": [{"b64_json": "!!!not base64!!!"}]})
        elif kind == "not_an_image":
            fake_b64 = base64.b64encode(b"hello, not a png").decode()
            h.send_json(200, {"created": int(time.time()), "data": [{"b64_json": fake_b64}]})
        elif kind == "huge":
            h.stream_huge(outcome.nbytes)
        elif kind == "reset_connection":
            h.reset()
        elif kind == "broken_body":
            if outcome.status == 200:
                payload = self._success_payload(Outcome.success(), request, force_url=False)
            else:
                payload = _error_payload(_MSG_SERVER_ERROR, "server_error", None, None)
            h.send_broken(outcome.status, json.dumps(payload).encode(), outcome.seconds, self)
        elif kind == "too_large":
            page = b"<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 " \
                   b"Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>"
            h.send_bytes(413, page, content_type="text/html")
        else:  # pragma: no cover - guarded by the constructors
            raise ValueError(f"unknown outcome kind {kind!r}")

    def _success_payload(self, outcome: Outcome, request: Mapping[str, Any], force_url: bool,
                         input_image_tokens: int = 0) -> dict[str, Any]:
        """A spec-valid ``ImagesResponse`` for *request* (see module docstring for choices); an edit's
        ``input_image_tokens`` are added to its usage."""
        payload = self._images_response(outcome, request, force_url)
        if input_image_tokens and "usage" in payload:
            usage = payload["usage"]
            usage["input_tokens_details"]["image_tokens"] = input_image_tokens
            usage["input_tokens"] += input_image_tokens
            usage["total_tokens"] += input_image_tokens
        return payload

    def _images_response(self, outcome: Outcome, request: Mapping[str, Any], force_url: bool) -> dict[str, Any]:
        model = str(request.get("model") or "")
        prompt = str(request.get("prompt") or "")
        size = request.get("size") or "auto"
        width, height = parse_size(size) or (1024, 1024)
        created = int(time.time())
        if is_gpt_image(model):
            fmt = request.get("output_format") or "png"
            background = "transparent" if request.get("background") == "transparent" else "opaque"
            quality = request.get("quality") or "auto"
            quality = "medium" if quality == "auto" else quality
            n = int(request.get("n") or 1)
            image = outcome.image or self.default_image or render_image(
                width, height, fmt, background == "transparent")
            items = [self._image_item(image, fmt, force_url) for _ in range(n)]
            input_tokens = max(1, len(prompt) // 4)
            billed = self.billed_quality or quality
            per_image = round(OUTPUT_TOKENS_PER_MEGAPIXEL[billed] * width * height / _MEGAPIXEL)
            output_tokens = per_image * n
            payload: dict[str, Any] = {
                "created": created,
                "data": items,
                "background": background,
                "output_format": fmt,
                "quality": quality,
                "usage": {
                    "input_tokens": input_tokens,
                    "input_tokens_details": {"text_tokens": input_tokens, "image_tokens": 0},
                    "output_tokens": output_tokens,
                    "total_tokens": input_tokens + output_tokens,
                    "output_tokens_details": {"image_tokens": output_tokens, "text_tokens": 0},
                },
            }
            if isinstance(request.get("safety_identifier"), str) and request["safety_identifier"]:
                payload["safety_identifier"] = request["safety_identifier"]
            resolved_size = f"{width}x{height}"
            if resolved_size in ("1024x1024", "1024x1536", "1536x1024"):
                payload["size"] = resolved_size
            return payload
        # DALL-E 3: the spec's default response_format is "url".
        use_url = force_url or request.get("response_format") in (None, "url")
        image = outcome.image or self.default_image or render_image(width, height, "png")
        item = self._image_item(image, "png", use_url)
        item["revised_prompt"] = outcome.revised_prompt if outcome.revised_prompt is not None else f"Revised: {prompt}"
        return {"created": created, "data": [item]}

    def _image_item(self, image: bytes, fmt: str, as_url: bool) -> dict[str, Any]:
        if not as_url:
            return {"b64_json": base64.b64encode(image).decode("ascii")}
        file_id = uuid.uuid4().hex
        with self._lock:
            self._files[file_id] = (image, f"image/{fmt}")
        return {"url": f"{self.base_url}/files/{file_id}.{fmt}"}


def _error_payload(message: str, type_: str, param: str | None, code: str | None) -> dict[str, Any]:
    """``{"error": {...}}`` with exactly the four fields the spec's Error schema requires."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def png_with_c2pa(size=(64, 48)) -> bytes:
    """A PNG like the API's: pixels plus a caBX (C2PA) chunk that re-encoding would drop."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, format="PNG")
    raw = buffer.getvalue()
    manifest = b"caBX" + b"c2pa-manifest"
    chunk = struct.pack(">I", len(manifest) - 4) + manifest + struct.pack(">I", zlib.crc32(manifest))
    return raw[:33] + chunk + raw[33:]
