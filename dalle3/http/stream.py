"""An image generation read as a stream: partial images as they come, then the final one.

With ``stream: true`` and ``partial_images`` 1-3, ``POST /images/generations``
answers with server-sent events: ``image_generation.partial_image`` (a rough
image and its ``partial_image_index``), then ``image_generation.completed``
(the image and the ``usage`` it is billed by), or an ``error`` event.

The events are parsed by sseclient-py, a small maintained SSE parser that
reads any iterator of bytes. requests-sse was the other candidate and does
not fit: its ``EventSource`` reconnects by itself when a stream ends or
breaks — for us that would send the generation again and pay twice — and
reads with ``iter_lines()``, which holds short events back. We keep the
request, the timeouts and the byte bound in our own hands (:mod:`dalle3.http.body`)
and give sseclient-py whole lines.

Nothing here is retried: once the server answered 200 it has started an image
it will bill. Every failure says so and gives the request id to check.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests
from sseclient import SSEClient

from dalle3 import errors
from dalle3.http import body
from dalle3.http.limits import CallLimits
from dalle3.files.metadata import image_size_or_none
from dalle3.results import Preview

log = logging.getLogger("dalle3")

PARTIAL = "image_generation.partial_image"
COMPLETED = "image_generation.completed"
USAGE_URL = "https://platform.openai.com/usage"


@dataclass(frozen=True)
class Final:
    """The completed event's image and bill."""

    image: bytes
    usage: dict[str, Any] | None
    partials: int


def is_event_stream(response: requests.Response) -> bool:
    return response.headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"


def billing_note(request_id: str | None) -> str:
    """What to tell a person whose paid call was cut: it may still be billed, and how to check."""
    if request_id:
        return f"It may still be billed: check request {request_id} at {USAGE_URL} before trying again."
    return f"It may still be billed (no request id came back): check {USAGE_URL} before trying again."


def read(response: requests.Response, limits: CallLimits, started: float, total: int,
         on_partial: Callable[[Preview], None] | None, base_url: str) -> Final:
    """Read events until the final image; previews go to ``on_partial`` (its errors are logged, not raised)."""
    rid = response.headers.get("x-request-id")
    seen = 0
    events = SSEClient(body.lines(body.chunks(response, limits, started + limits.deadline_s))).events()
    try:
        for event in events:
            data = _json(event.data, rid, seen, total)
            kind = data.get("type") if isinstance(data.get("type"), str) else event.event
            if event.event == "error" or kind == "error" or "error" in data:
                raise _stream_error(data, rid, seen, total)
            if kind == PARTIAL:
                image = _image(data, rid, seen, total, limits)
                seen += 1
                _hand_on(on_partial, Preview(min(seen, total), total, time.monotonic() - started, image))
            elif kind == COMPLETED:
                usage = data.get("usage")
                return Final(_image(data, rid, seen, total, limits), usage if isinstance(usage, dict) else None, seen)
            # other event types (a future API's) are skipped
    except body.BodyFailure as failure:
        raise _cut(failure, rid, seen, total, limits, base_url) from None
    finally:
        response.close()
    raise errors.BadResponseError(
        f"The image stream from {base_url} ended before the final image{_after(seen, total)}. "
        + billing_note(rid), http_status=200, request_id=rid)


def _after(seen: int, total: int) -> str:
    return f" (after preview {seen} of {total})" if seen else " (before any preview)"


def _hand_on(on_partial: Callable[[Preview], None] | None, partial: Preview) -> None:
    if on_partial is None:
        return
    try:
        on_partial(partial)
    except Exception as exc:  # a preview must never cost the paid image
        log.warning("showing preview %d failed (%s: %s); the generation goes on",
                    partial.number, type(exc).__name__, exc)


def _json(text: str, rid: str | None, seen: int, total: int) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise errors.BadResponseError(
            f"The image stream sent an event that could not be read{_after(seen, total)}. "
            + billing_note(rid), http_status=200, request_id=rid)
    return data


def _image(data: dict[str, Any], rid: str | None, seen: int, total: int, limits: CallLimits) -> bytes:
    encoded = data.get("b64_json")
    problem = None
    if not isinstance(encoded, str) or not encoded:
        problem = "an event without its image"
    elif len(encoded) > limits.max_image_bytes * 4 // 3 + 4:
        problem = "an image larger than the requested size can be"
    else:
        try:
            image = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            image = b""
        if image_size_or_none(image) is None:  # png, jpeg or webp, as output_format asked
            problem = "an image that could not be decoded"
        else:
            return image
    raise errors.BadResponseError(
        f"The image stream sent {problem}{_after(seen, total)}. " + billing_note(rid),
        http_status=200, request_id=rid)


def _stream_error(data: dict[str, Any], rid: str | None, seen: int, total: int) -> errors.DalleError:
    """An ``error`` event: ``{"error": {...}}`` (what the SDK raises on) or a flat ``{"type": "error", ...}``."""
    nested = data.get("error")
    error: dict[str, Any] = nested if isinstance(nested, dict) else data
    code = error.get("code") if isinstance(error.get("code"), str) else None
    if errors.is_content_policy(error):
        return errors.ContentPolicyError(
            "OpenAI's safety system stopped this image while it was being made. Rephrase the prompt "
            "and try again.", http_status=200, code=code, request_id=rid)
    said = errors.scrub(str(error.get("message") or "")).strip() or "no reason given"
    return errors.ServerError(
        f"OpenAI stopped the image with an error{_after(seen, total)}: {said} " + billing_note(rid),
        http_status=200, code=code, request_id=rid, abandoned=True)


def _cut(failure: body.BodyFailure, rid: str | None, seen: int, total: int, limits: CallLimits,
         base_url: str) -> errors.DalleError:
    where = _after(seen, total)
    if failure.kind == "stall":
        return errors.RequestTimeoutError(
            f"{base_url} sent nothing for {limits.read_s:g} s while making the image{where}. "
            + billing_note(rid) + " Raise DALLE3_TIMEOUT_S if this endpoint is slow.", http_status=200, request_id=rid)
    if failure.kind == "deadline":
        return errors.RequestTimeoutError(
            f"The image took longer than {limits.deadline_s:g} s{where}, so the call was given up. "
            + billing_note(rid), http_status=200, request_id=rid)
    if failure.kind == "too_big":
        return errors.BadResponseError(
            f"The image stream grew larger than {limits.max_bytes / 2**20:.0f} MB, more than this size can "
            "need, so it was refused. " + billing_note(rid), http_status=200, request_id=rid)
    return errors.BadResponseError(
        f"The connection to {base_url} broke while the image was being sent{where}. " + billing_note(rid),
        http_status=200, request_id=rid)
