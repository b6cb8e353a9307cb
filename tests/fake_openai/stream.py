"""The fake's image streams: ``stream: true`` answered with server-sent events, as OpenAI sends them.

``event: image_generation.partial_image`` / ``image_generation.completed`` with
a JSON ``data:`` line each, one HTTP chunk per event (``transfer-encoding:
chunked``, ``content-type: text/event-stream``), then the closing chunk. The
fields are those of the ``openai`` SDK's ``ImageGenPartialImageEvent`` and
``ImageGenCompletedEvent``; ``tests/test_fake_stream.py`` reads the fake with
the SDK's own streaming client. An ``error`` event carries ``{"type": "error",
"error": {...}}``, the shape the SDK raises ``APIError`` on.

Fake-specific choices: every partial image is the final image itself; the
fake's delay (``Outcome.delay_s`` or ``default_delay_s``) is spread evenly:
event k of n falls due k/n of the delay after the request came in, so a
stream takes as long as the same plain answer; each
partial image adds 100 output tokens to ``usage`` (OpenAI's pricing note).
Faults are :class:`~tests.fake_openai.scripting.Outcome` kinds ``stream_reset``,
``stream_malformed``, ``stream_error``, ``stream_stall`` and ``stream_truncated``,
each happening after ``nbytes`` partial images.
"""

from __future__ import annotations

import json
import socket
import time
from typing import TYPE_CHECKING, Any, Mapping

from tests.fake_openai.answers import success_payload
from tests.fake_openai.handler import Handler, new_request_id
from tests.fake_openai.scripting import Outcome

if TYPE_CHECKING:
    from tests.fake_openai.server import FakeOpenAI

PARTIAL_TOKENS = 100
PARTIAL = "image_generation.partial_image"
COMPLETED = "image_generation.completed"
FAULTS = ("stream_reset", "stream_malformed", "stream_error", "stream_stall", "stream_truncated")


def start_event_stream(h, request_id: str | None) -> None:
    """A 200 whose body is server-sent events, written as each is ready (chunked).

    Without NODELAY, Nagle holds a small write back until the previous one is acknowledged
    (up to 40 ms of delayed ACK on loopback).
    """
    h.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    h.send_response(200)
    h.send_header("content-type", "text/event-stream; charset=utf-8")
    h.send_header("transfer-encoding", "chunked")
    h.send_header("x-request-id", request_id or new_request_id())
    h.end_headers()


def answer(fake: FakeOpenAI, h: Handler, outcome: Outcome, request: Mapping[str, Any]) -> None:
    """Stream one generation (``outcome`` is a success or one of :data:`FAULTS`)."""
    plain = Outcome.success(image=outcome.image, request_id=outcome.request_id)
    payload = success_payload(fake, plain, request, force_url=False)
    partials = int(request.get("partial_images") or 0)
    fault_after = outcome.nbytes if outcome.kind in FAULTS else None
    delay = outcome.delay_s if outcome.delay_s is not None else fake.default_delay_s
    step = delay / (partials + 1)
    common = {"background": payload["background"], "output_format": payload["output_format"],
              "quality": payload["quality"], "size": answer_size(request, payload)}
    b64 = payload["data"][0]["b64_json"]
    try:
        start_event_stream(h, outcome.request_id)
        h.wfile.flush()
        started = h.started  # when the request came in, as the plain answer's delay counts
        for index in range(partials + 1):
            if index == fault_after:
                if carry_out_fault(fake, h, outcome):
                    return
                started += outcome.seconds if outcome.kind == "stream_stall" else 0.0
            data = json.dumps(_event_payload(index, partials, b64, payload["usage"], common))
            # events fall due on a fixed schedule, so building them does not lengthen the answer
            if not fake._sleep(started + step * (index + 1) - time.monotonic()):
                h.reset()
                return
            send_event(h, PARTIAL if index < partials else COMPLETED, data)
        end_stream(h)
    except OSError:  # the client went away
        h.close_connection = True


def _event_payload(index: int, partials: int, b64: str, usage: Mapping[str, Any],
                   common: Mapping[str, Any]) -> dict[str, Any]:
    if index < partials:
        return {"type": PARTIAL, "b64_json": b64, "created_at": int(time.time()), "partial_image_index": index,
                **common}
    usage = dict(json.loads(json.dumps(usage)))
    extra = PARTIAL_TOKENS * partials
    usage["output_tokens"] += extra
    usage["output_tokens_details"]["image_tokens"] += extra
    usage["total_tokens"] += extra
    return {"type": COMPLETED, "b64_json": b64, "created_at": int(time.time()), "usage": usage, **common}


def answer_size(request: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    """The size an event reports: the one asked, or the rendered one for ``auto``."""
    size = request.get("size") or "auto"
    return payload.get("size", "1024x1024") if size == "auto" else size


def carry_out_fault(fake: FakeOpenAI, h: Handler, outcome: Outcome) -> bool:
    """Carry out the scripted fault; True when the stream is over."""
    kind = outcome.kind
    if kind == "stream_reset":
        h.reset()
        return True
    if kind == "stream_malformed":
        send_event(h, "image_generation.partial_image", '{"type": "image_generation.partial_image", "b64_json": ')
        end_stream(h)
        return True
    if kind == "stream_error":
        error = {"type": "error", "error": {"type": "server_error", "code": "server_error", "param": None,
                                            "message": outcome.message or "The image could not be finished."}}
        send_event(h, "error", json.dumps(error))
        end_stream(h)
        return True
    if kind == "stream_truncated":
        end_stream(h)
        return True
    if kind == "stream_stall" and not fake._sleep(outcome.seconds):
        h.reset()
        return True
    return False


def _chunk(h: Handler, data: bytes) -> None:
    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    h.wfile.flush()


def send_event(h: Handler, name: str, data: str) -> None:
    _chunk(h, f"event: {name}\ndata: {data}\n\n".encode())


def end_stream(h: Handler) -> None:
    h.wfile.write(b"0\r\n\r\n")
    h.wfile.flush()
