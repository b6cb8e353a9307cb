"""The fake's HTTP layer: a threaded loopback server and the handler that writes its answers.

All state lives on :class:`~tests.fake_openai.server.FakeOpenAI`; the handler reads the body,
hands it over and offers writers (a whole answer, a huge body streamed on the fly, half a body
then a reset, a bare reset) that all swallow a client's hang-up. Each connection runs on a
daemon thread, so a handler that is deliberately hanging never blocks other requests or stop().
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from tests.fake_openai.server import FakeOpenAI

#: Errors that just mean "the client went away"; never worth a traceback.
DISCONNECT_ERRORS: tuple[type[BaseException], ...] = (
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
    TimeoutError,
)


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def error_payload(message: str, type_: str, param: str | None, code: str | None) -> dict[str, Any]:
    """``{"error": {...}}`` with exactly the four fields the spec's Error schema requires."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class Server(ThreadingHTTPServer):
    """ThreadingHTTPServer whose handler threads are daemons and never join on close."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client (or stop()) drops a connection; report real bugs."""
        exc = sys.exc_info()[1]
        if isinstance(exc, DISCONNECT_ERRORS) or self.fake._stopping.is_set():
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    """Routes requests to :class:`FakeOpenAI`; all state lives on the fake, not the handler."""

    protocol_version = "HTTP/1.1"  # keep-alive, so requests.Session/httpx pools are exercised
    server: Server
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
            merged["x-request-id"] = request_id or new_request_id()
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
        except DISCONNECT_ERRORS:
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
            self.send_header("x-request-id", new_request_id())
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
        except DISCONNECT_ERRORS:
            self.close_connection = True

    def send_broken(self, status: int, body: bytes, stall_s: float, fake: FakeOpenAI) -> None:
        """Headers with the full length, half of *body*, then (after *stall_s*) a reset."""
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.send_header("x-request-id", new_request_id())
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
        except DISCONNECT_ERRORS:
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
