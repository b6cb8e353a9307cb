"""Reading an answer's body within its limits, as the bytes arrive.

``requests``' ``iter_content(n)`` waits until ``n`` bytes have come (a short
server-sent event is held back until the next one arrives) and reports a read
timeout in the middle of a body as a ``ConnectionError``. Reading
``response.raw.read1`` instead hands on whatever has arrived at once, and lets
this module tell a stall (a timeout) from a broken connection, so the client
can say which happened.
"""

from __future__ import annotations

import socket
import time
from typing import Iterator

import requests
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

from dalle3.http.limits import CallLimits
from dalle3.params import whole_number

CHUNK = 1 << 20


class BodyFailure(Exception):
    """Reading the body stopped. ``kind``: stall, deadline, broken or too_big."""

    def __init__(self, kind: str, received: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.received = received


def chunks(response: requests.Response, limits: CallLimits, deadline: float) -> Iterator[bytes]:
    """The body as it arrives; raises :class:`BodyFailure` (``deadline`` is ``time.monotonic()``)."""
    declared = whole_number(response.headers.get("content-length", ""))
    if declared is not None and declared > limits.max_bytes:
        raise BodyFailure("too_big")
    received = 0
    while True:
        try:
            chunk = response.raw.read1(CHUNK, decode_content=True)
        except (ReadTimeoutError, socket.timeout) as exc:  # socket.timeout is TimeoutError
            raise BodyFailure("stall", received) from exc
        except (Urllib3Error, OSError) as exc:
            raise BodyFailure("broken", received) from exc
        if not chunk:
            return
        received += len(chunk)
        if received > limits.max_bytes:
            raise BodyFailure("too_big", received)
        if time.monotonic() > deadline:
            raise BodyFailure("deadline", received)
        yield chunk


def read_all(response: requests.Response, limits: CallLimits, deadline: float) -> bytes:
    """The whole body (for JSON answers); raises :class:`BodyFailure`."""
    return b"".join(chunks(response, limits, deadline))


def lines(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """Whole lines (each ending in ``\\n``) from ``pieces``, kept in one growing buffer.

    An event's ``data:`` line can be tens of megabytes (a 4K image in base64)
    and arrives in many pieces; sseclient-py appends piece after piece to an
    immutable ``bytes`` (quadratic: ~0.75 s for 30 MB in 64 KB pieces, measured),
    so it is fed whole lines. A stream that stops in the middle of a line or of
    an event (no blank line after it) was cut short: :class:`BodyFailure` broken.
    """
    pending = bytearray()
    blank = True
    for piece in pieces:
        start = 0
        while (end := piece.find(b"\n", start)) >= 0:
            pending += memoryview(piece)[start:end + 1]
            line = bytes(pending)
            pending.clear()
            blank = line in (b"\n", b"\r\n")
            start = end + 1
            yield line
        pending += memoryview(piece)[start:]
    if pending or not blank:
        raise BodyFailure("broken")
