"""Scripting the fake: what a test builds to say how a request is answered, and what it reads back.

:class:`Outcome` is one scripted answer (a success, an API error, a broken transport or body, a
stream fault); :meth:`FakeOpenAI.script <tests.fake_openai.FakeOpenAI.script>` queues them.
:class:`SeenRequest` is one request as the fake recorded it. :func:`render_image` and
:func:`png_with_c2pa` make the image bytes a test scripts or compares with; :func:`closed_port_url`
is a base URL nothing answers; :func:`default_models` is what ``GET /v1/models`` lists until a test
sets :attr:`FakeOpenAI.models`.
"""

from __future__ import annotations

import functools
import io
import socket
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Mapping

from PIL import Image

from tests.fake_openai.edits import Part

_MSG_QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
)
_MSG_CONTENT_POLICY = (
    "Your request was rejected as a result of our safety system. Your prompt may contain text "
    "that is not allowed by our safety system."
)
MSG_SERVER_ERROR = (
    "The server had an error while processing your request. Sorry about that! You can retry your "
    "request, or contact us through our help center at help.openai.com if the error persists."
)
_MSG_UNAVAILABLE = "The server is overloaded or not ready yet."
#: Placeholders in :class:`Outcome` messages that depend on the request being answered.
_KEY_PLACEHOLDER = "{masked_key}"
_MODEL_PLACEHOLDER = "{model}"


@dataclass(frozen=True)
class SeenRequest:
    """One request as the fake received it (headers lower-cased, body parsed if it was JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any] | None
    time: float
    form: dict[str, str] | None = None  # an edit's text fields
    files: tuple[Part, ...] = ()  # an edit's file parts, in order


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

    def message_for(self, token: str, model: str) -> str:
        """The error message as the API words it for this request: the masked key and the model filled in."""
        return self.message.replace(_KEY_PLACEHOLDER, mask_key(token)).replace(_MODEL_PLACEHOLDER, model)

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
        return cls.error(status, None, MSG_SERVER_ERROR, type="server_error")

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


def png_with_c2pa(size=(64, 48)) -> bytes:
    """A PNG like the API's: pixels plus a caBX (C2PA) chunk that re-encoding would drop."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, format="PNG")
    raw = buffer.getvalue()
    manifest = b"caBX" + b"c2pa-manifest"
    chunk = struct.pack(">I", len(manifest) - 4) + manifest + struct.pack(">I", zlib.crc32(manifest))
    return raw[:33] + chunk + raw[33:]


def default_models() -> list[dict[str, Any]]:
    """The models ``GET /v1/models`` lists, as the SDK's ``Model`` type has them."""
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
