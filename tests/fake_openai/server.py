"""The server: :class:`FakeOpenAI`, its state, its lifecycle and the routes it answers.

A request is recorded, checked (:mod:`~tests.fake_openai.spec`, :mod:`~tests.fake_openai.edits`),
then answered with the next scripted :class:`Outcome` (:mod:`~tests.fake_openai.answers`;
streamed by :mod:`~tests.fake_openai.stream`). ``/v1/responses`` and the Batch API's routes live
in :mod:`~tests.fake_openai.responses` and :mod:`~tests.fake_openai.batches`.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import dataclasses
import json
import re
import socket
import threading
import time
from collections import deque
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

from tests.fake_openai import batches, edits, responses, stream
from tests.fake_openai.answers import act
from tests.fake_openai.handler import Handler, Server, error_payload
from tests.fake_openai.scripting import Outcome, SeenRequest, default_models
from tests.fake_openai.spec import MSG_NO_KEY, bad_request, check_generation, check_gpt_image

GENERATIONS_PATH = "/v1/images/generations"
EDITS_PATH = "/v1/images/edits"
MODELS_PATH = "/v1/models"
AZURE_PREFIX = "/openai"
_FILES_RE = re.compile(r"^/v1/files/(?P<id>[0-9a-f]{32})\.(?P<ext>png|jpeg|webp)$")


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
        self.models: list[dict[str, Any]] = default_models()
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
        self.batch_api = batches.BatchState()  # /files, /batches: see tests/batches.py
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
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle

    def start(self) -> FakeOpenAI:
        """Bind to an ephemeral loopback port and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = Server(self)
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
            self.batch_api = batches.BatchState()

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

    def _next_outcome(self) -> Outcome:
        """The next scripted outcome; a plain success once the queue is empty."""
        with self._lock:
            return self._queue.popleft() if self._queue else Outcome.success()

    def _await_rendezvous(self) -> None:
        """Wait for :attr:`rendezvous` generation requests to meet (at most ``rendezvous_timeout_s``);
        once they have met, later answers do not wait."""
        if self.rendezvous is not None:
            with self._idle:
                self._idle.wait_for(lambda: self._peak_generating >= (self.rendezvous or 0), self.rendezvous_timeout_s)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server stops first; returns True if it is still running."""
        if seconds > 0:
            self._stopping.wait(seconds)
        return not self._stopping.is_set()

    def _handle(self, h: Handler, raw: bytes) -> None:
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
        if path == responses.PATH and h.command == "POST":
            responses.handle(self, h, raw, body, seen)
            return
        if batches.handle(self, h, path, raw, headers):
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
        h.send_json(404, error_payload(message, "invalid_request_error", None, None))

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

    def _handle_models(self, h: Handler, headers: Mapping[str, str]) -> None:
        token = self._bearer(headers)
        if token is None:
            act(self, h, Outcome.error(401, None, MSG_NO_KEY), token="", request={})
            return
        outcome = self.models_outcome
        if outcome is not None and outcome.kind not in ("success", "success_url", "bad_base64", "not_an_image"):
            if outcome.kind == "empty_data":
                h.send_json(200, {"object": "list", "data": []})
            else:
                act(self, h, outcome, token=token, request={})
            return
        h.send_json(200, {"object": "list", "data": copy.deepcopy(self.models)})

    def _handle_generation(self, h: Handler, headers: Mapping[str, str], raw: bytes, body: Any) -> None:
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

    def _answer_generation(self, h: Handler, headers: Mapping[str, str], raw: bytes, body: Any) -> None:
        token = self._bearer(headers)
        if isinstance(body, dict) and "model" in body:
            body = {**body, "model": self._deployed(body["model"])}
        request = body if isinstance(body, dict) else {}
        rejection = check_generation(token, raw, body, retired_models=self.retired_models)
        if rejection is not None:
            act(self, h, rejection, token=token or "", request=request)
            return
        if request.get("stream") is True and self.stream_mode == "reject":
            act(self, h, bad_request("stream", "Streaming is not supported for this model.", "unsupported_parameter"),
                token=token or "", request=request)
            return
        outcome = self._next_outcome()
        if request.get("stream") is True and self.stream_mode == "sse" and (
                outcome.kind == "success" or outcome.kind in stream.FAULTS):
            stream.answer(self, h, outcome, request)
            return
        act(self, h, outcome, token=token or "", request=request)

    def _handle_edit(self, h: Handler, headers: Mapping[str, str], raw: bytes, seen: SeenRequest) -> None:
        """``POST /v1/images/edits``: auth, size, multipart, the SDK's rules, then the scripted outcome."""
        parsed = edits.parse_multipart(headers.get("content-type", ""), raw)
        fields, files = parsed if parsed is not None else ({}, [])
        with self._lock:
            self._edit_requests.append(dataclasses.replace(seen, form=fields, files=tuple(files)))
        token = self._bearer(headers)
        if token is None:
            act(self, h, Outcome.error(401, None, MSG_NO_KEY), token="", request={})
            return
        if self.max_body_bytes is not None and len(raw) > self.max_body_bytes:
            act(self, h, Outcome.too_large(), token=token, request={})
            return
        if parsed is None:
            act(self, h, bad_request(None, "Expected a multipart/form-data body.", None), token=token, request={})
            return
        rejection, request, sizes = self._check_edit(fields, files)
        if rejection is not None:
            act(self, h, rejection, token=token, request=request)
            return
        outcome = self._next_outcome()
        act(self, h, outcome, token=token, request=request, input_image_tokens=edits.input_image_tokens(sizes))

    def _check_edit(self, fields: dict[str, str], files: list[edits.Part],
                    ) -> tuple[Outcome | None, dict[str, Any], list[tuple[int, int]]]:
        """An edit's checks once it is parsed (a request, or a Batch row): the SDK's rules, retired models,
        then the generation rules; (the refusal or None, the request as typed values, the images' sizes)."""
        if "model" in fields:
            fields = {**fields, "model": self._deployed(fields["model"])}
        problem, request, sizes = edits.check_edit(fields, files)
        if problem is not None:
            return Outcome.error(problem.status, problem.code, problem.message, param=problem.param), request, sizes
        if request.get("model") in self.retired_models:
            return Outcome.model_not_found(), request, sizes
        return check_gpt_image(request["model"], {**request, "n": None}), request, sizes
