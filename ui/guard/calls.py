"""The bodies of requests that reach a handler: bounded, parsed off the event loop, checked.

A Blocks event is reachable by ``/gradio_api/call/<api_name>``, ``/run/<api_name>``,
``/api/<api_name>`` and ``/gradio_api/queue/join`` (the page's own route, by ``fn_index``); the
``run``/``api`` routes also take an ``fn_index`` in the body, which wins over the path. So the
function a body reaches is resolved here exactly as Gradio resolves it, and the same checks
apply whatever the route:

* the body is refused by its ``Content-Length`` before a byte is read, and bounded while it
  streams when it has none;
* a wrong number of inputs is answered 422 with a sentence (Gradio would print every input
  and a traceback to the log);
* no input may name an ``http(s)`` URL as a file: Gradio would download it before the handler
  runs, with no bound on its size. Callers send the file itself (an upload or a data URL).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Receive = Callable[[], Awaitable[dict]]

MAX_CALL_BODY = 4 * 1024 * 1024  # a 32,000-character prompt is far below this
# /edit (and /batch, a job of edits) over plain HTTP may carry its images as data URLs; larger sets go
# as uploaded files. Parsing and decoding hold the GIL even in a worker thread (json and base64 are single C calls), so the
# bound is what keeps other visitors' requests from waiting: a 15 MB body delays them ~0.1 s.
MAX_EDIT_BODY = 16 * 1024 * 1024
PARSE_ON_LOOP = 256 * 1024  # larger bodies are parsed in a worker thread: the loop serves everyone
EVENT_ROUTE = re.compile(r"/gradio_api/(?:(call|run|api)/([^/]+)|queue/join)/?$")
URL_INPUT = "A file must be sent as the file itself (an upload or a data:image/...;base64 URL): " \
            "this server does not download http(s) addresses."


class Refused(Exception):
    """A request refused before Gradio sees it: an HTTP status and a sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def declared_length(scope: dict) -> int | None:
    raw = dict(scope.get("headers") or []).get(b"content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        raise Refused(400, "The Content-Length header is not a number.") from None


async def read_bounded(scope: dict, receive: Receive, limit: int, too_large: str) -> bytes:
    """The whole body, refused (413, ``too_large``) from ``Content-Length`` or once it passes ``limit``."""
    declared = declared_length(scope)
    if declared is not None and declared > limit:
        raise Refused(413, too_large)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400, "The request was cut off before its end.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refused(413, too_large)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def off_loop(fn: Callable[..., Any], *args: Any, size: int) -> Any:
    """``fn(*args)`` on the loop when the input is small, in a worker thread when it is not."""
    if size <= PARSE_ON_LOOP:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


def parse(body: bytes) -> dict | None:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


@dataclass(frozen=True)
class Target:
    """The Blocks function a body reaches, as Gradio resolves it."""

    api_name: str | None
    input_count: int
    file_inputs: tuple[int, ...]  # positions of inputs that take files


def event_route(path: str) -> tuple[str | None, str | None] | None:
    """(kind, api_name) for an event route (``kind`` None for queue/join), None for any other path."""
    match = EVENT_ROUTE.search(path)
    return (match.group(1), match.group(2)) if match else None


#: Endpoints that take images (an edit's, or a job of edits'): their data URLs may make a larger body.
IMAGE_ENDPOINTS = ("edit", "batch")


def body_limit(route: tuple[str | None, str | None]) -> int:
    kind, api_name = route
    return MAX_EDIT_BODY if kind is not None and api_name in IMAGE_ENDPOINTS else MAX_CALL_BODY


def resolve(scope: dict, route: tuple[str | None, str | None], payload: dict) -> Target | None:
    """The function ``payload`` reaches on ``route`` (``fn_index`` wins except on /call), None if none."""
    app = scope.get("app")
    blocks = app.get_blocks() if app is not None and hasattr(app, "get_blocks") else None
    if blocks is None:
        return None
    kind, api_name = route
    fn_index = payload.get("fn_index")
    if kind != "call" and isinstance(fn_index, int) and not isinstance(fn_index, bool):
        fn = blocks.fns.get(fn_index)
    else:
        fn = next((f for f in blocks.fns.values() if api_name is not None and f.api_name == api_name), None)
    if fn is None:
        return None
    return Target(fn.api_name, len(fn.inputs), tuple(i for i, block in enumerate(fn.inputs) if takes_files(block)))


_TAKES_FILES: dict[type, bool] = {}


def takes_files(block: Any) -> bool:
    """True for a component whose value holds files (File, Image, Gallery, ImageEditor, ...)."""
    kind = type(block)
    if kind not in _TAKES_FILES:
        model = getattr(block, "data_model", None)
        try:
            schema = json.dumps(model.model_json_schema()) if model is not None else ""
        except Exception:  # noqa: BLE001 - a component without a JSON schema takes no files
            schema = ""
        _TAKES_FILES[kind] = "FileData" in schema or "ImageData" in schema
    return _TAKES_FILES[kind]


def check_files(target: Target, data: list) -> None:
    """Refuse an input that gives an http(s) URL as a file (Gradio would download it, unbounded)."""
    for at in target.file_inputs:
        value = data[at] if at < len(data) else None
        if (isinstance(value, str) and is_url(value)) or names_a_url(value):
            raise Refused(422, URL_INPUT)


def names_a_url(value: Any, depth: int = 0) -> bool:
    """True when ``value`` (an input, or a file object inside one) gives an http(s) URL as a file's path."""
    if depth > 8:
        return False
    if isinstance(value, dict):
        path = value.get("path")
        if isinstance(path, str) and is_url(path):
            return True
        return any(names_a_url(v, depth + 1) for v in value.values() if isinstance(v, (dict, list)))
    if isinstance(value, list):
        return any(names_a_url(v, depth + 1) for v in value)
    return False


def is_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://", "//"))


def check_count(target: Target, data: Any, names: tuple[str, ...] | None) -> None:
    """Refuse a body whose ``data`` is not a list of the function's inputs."""
    if names is not None:
        if isinstance(data, list) and len(data) == len(names):
            return
        got = f"{len(data)} inputs" if isinstance(data, list) else "no list of inputs"
        raise Refused(422, f"/{target.api_name} takes exactly {len(names)} inputs in this order: "
                           f"{', '.join(names)} (send \"\" for a default); got {got}.")
    if not isinstance(data, list) or len(data) < target.input_count:
        raise Refused(422, "This event takes more inputs than were sent: reload the page and try again.")


MCP_FILE_ARGUMENTS = ("images", "mask", "markup")


def check_mcp_call(body: bytes) -> None:
    """Refuse an MCP ``tools/call`` that gives an http(s) URL for a file argument (JSON-RPC batches too)."""
    payload = parse(body) if body.lstrip()[:1] == b"{" else _parse_list(body)
    calls = payload if isinstance(payload, list) else [payload]
    for call in calls:
        params = call.get("params") if isinstance(call, dict) and call.get("method") == "tools/call" else None
        arguments = params.get("arguments") if isinstance(params, dict) else None
        if not isinstance(arguments, dict):
            continue
        for name in MCP_FILE_ARGUMENTS:
            value = arguments.get(name)
            items = value if isinstance(value, list) else [value]
            if any((isinstance(item, str) and is_url(item)) or names_a_url(item) for item in items):
                raise Refused(422, URL_INPUT)


def _parse_list(body: bytes) -> list | None:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, list) else None
