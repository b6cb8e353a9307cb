"""A turn read as server-sent events: previews of the image as they come, then the whole answer.

With ``stream: true``, ``POST /responses`` sends typed events:
``response.image_generation_call.partial_image`` (``partial_image_b64``,
``partial_image_index``), ``response.output_text.delta``, and at the end one of
``response.completed`` / ``response.incomplete`` (the whole ``response``),
``response.failed`` or ``error``. The reading machinery is the image stream's
(:mod:`dalle3.http.stream`): our own byte-bounded, timed reading of the body
(:mod:`dalle3.http.body`), whole lines handed to sseclient-py, previews handed on
without ever costing the answer, and the same words for a cut stream. Nothing
is retried: the turn is being billed from the first byte.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from sseclient import SSEClient

from dalle3 import errors
from dalle3.http import body, stream
from dalle3.chat import answer
from dalle3.http.limits import CallLimits
from dalle3.http.shapes import json_object, json_text
from dalle3.results import Preview

PARTIAL = "response.image_generation_call.partial_image"
TEXT_DELTA = "response.output_text.delta"
FINISHED = ("response.completed", "response.incomplete", "response.failed")


def read(response: requests.Response, limits: CallLimits, started: float, total: int,
         on_partial: Callable[[Preview], None] | None, base_url: str, fmt: str) -> answer.Answer:
    """Read events until the answer; previews go to ``on_partial`` (its errors are logged, not raised)."""
    rid = response.headers.get("x-request-id")
    seen = 0
    events = SSEClient(body.lines(body.chunks(response, limits, started + limits.deadline_s))).events()
    try:
        for event in events:
            data = stream._json(event.data, rid, seen, total)
            kind = data.get("type") if isinstance(data.get("type"), str) else event.event
            if kind == "error" or event.event == "error":
                raise _error_event(data, rid, seen, total)
            if kind == PARTIAL:
                image = stream._image({"b64_json": data.get("partial_image_b64")}, rid, seen, total, limits)
                seen += 1
                if on_partial is not None:
                    stream._hand_on(on_partial, Preview(min(seen, max(total, 1)), max(total, 1),
                                                        time.monotonic() - started, image))
            elif kind in FINISHED:
                payload = data.get("response")
                if not isinstance(payload, dict):
                    raise errors.BadResponseError("The turn's last event carried no answer. "
                                                  + stream.billing_note(rid), http_status=200, request_id=rid)
                return answer.read(payload, rid, limits.max_image_bytes, fmt, seen)
            # created, in_progress, deltas and a future API's events are skipped
    except body.BodyFailure as failure:
        raise stream._cut(failure, rid, seen, total, limits, base_url) from None
    finally:
        response.close()
    raise errors.BadResponseError(
        f"The answer from {base_url} ended before the turn was finished{stream._after(seen, total)}. "
        + stream.billing_note(rid), http_status=200, request_id=rid)


def _error_event(data: dict[str, Any], rid: str | None, seen: int, total: int) -> errors.DalleError:
    """``{"type": "error", "code", "message"}`` (the SDK's ResponseErrorEvent) or ``{"error": {...}}``."""
    error = json_object(data.get("error")) or data
    code = json_text(error.get("code"))
    if errors.is_content_policy(error):
        return errors.ContentPolicyError(
            "OpenAI's safety system stopped this turn while it was being made. Rephrase it and try again; the "
            "conversation goes on from the last good turn.", http_status=200, code=code, request_id=rid)
    said = errors.scrub(str(error.get("message") or "")).strip() or "no reason given"
    return errors.ServerError(
        f"OpenAI stopped the turn with an error{stream._after(seen, total)}: {said} " + stream.billing_note(rid),
        http_status=200, code=code, request_id=rid, abandoned=True)
