"""A small ASGI guard in front of Gradio: slow password guessing, keep MCP behind the login,
answer a malformed API call with a sentence.

Gradio's ``/login`` answers a wrong password at once, so 200 guesses take two seconds; with
``--mcp`` its MCP routes answer without any login; and a ``/call/generate`` with one input
too few (or ``/call/edit``) ends in a traceback on the server and ``{"error": null}`` for the caller, while one
too many is silently cut. Gradio's ``auth`` callable sees only
the user name and password, not who is asking, so the per-client rules live here, as ASGI
middleware (pure ASGI, not Starlette's ``BaseHTTPMiddleware``, so the server-sent events
Gradio streams pass through untouched).
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable

from pathlib import Path

from gradio.processing_utils import save_bytes_to_cache
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from dalle3.errors import ValidationError
from dalle3.edits.references import from_data_url

from dalle3.settings import Settings

FREE_FAILURES = 3  # typos cost nothing
MAX_DELAY_S = 10.0
FORGET_AFTER_S = 15 * 60
MAX_CLIENTS = 10_000

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class LoginThrottle:
    """Failed logins per client: after a few, each attempt waits 2^n seconds (at most 10)."""

    def __init__(self) -> None:
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def delay_s(self, client: str) -> float:
        count, last = self._failures.get(client, (0, 0.0))
        if time.monotonic() - last > FORGET_AFTER_S or count < FREE_FAILURES:
            return 0.0
        return min(MAX_DELAY_S, 0.5 * 2 ** (count - FREE_FAILURES))

    def record(self, client: str, ok: bool) -> None:
        if ok:
            self._failures.pop(client, None)
            return
        count, last = self._failures.get(client, (0, 0.0))
        if time.monotonic() - last > FORGET_AFTER_S:
            count = 0
        self._failures[client] = (count + 1, time.monotonic())
        self._failures.move_to_end(client)
        while len(self._failures) > MAX_CLIENTS:
            self._failures.popitem(last=False)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _basic_ok(scope: Scope, auth: tuple[str, str]) -> bool:
    header = dict(scope.get("headers") or []).get(b"authorization", b"")
    scheme, _, encoded = header.partition(b" ")
    if scheme.lower() != b"basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return hmac.compare_digest(user.encode(), auth[0].encode()) & hmac.compare_digest(
        password.encode(), auth[1].encode())


MAX_CALL_BODY = 4 * 1024 * 1024  # a 32,000-character prompt is far below this
# /edit may carry its images as data URLs; larger sets go as uploaded files (gradio_client.handle_file)
MAX_EDIT_BODY = 64 * 1024 * 1024


class Guard:
    def __init__(self, app: Callable, auth: tuple[str, str] | None, api_inputs: dict[str, tuple[str, ...]]) -> None:
        self.app = app
        self.auth = auth
        self.api_inputs = api_inputs
        self.throttle = LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, client = scope.get("path", ""), _client(scope)
        endpoint = path.rstrip("/").rpartition("/")[2]
        if (scope.get("method") == "POST" and endpoint in self.api_inputs
                and path.rstrip("/").endswith((f"/call/{endpoint}", f"/run/{endpoint}"))):
            return await self._api_call(scope, receive, send, endpoint)
        if self.auth is None:
            return await self.app(scope, receive, send)
        if "/gradio_api/mcp" in path:
            await asyncio.sleep(self.throttle.delay_s(client))
            ok = _basic_ok(scope, self.auth)
            self.throttle.record(client, ok)
            if not ok:
                return await _deny(send)
            return await self.app(scope, receive, send)
        if scope.get("method") == "POST" and path.rstrip("/").endswith("/login"):
            await asyncio.sleep(self.throttle.delay_s(client))
            status: list[int] = []

            async def watch(message: dict) -> None:
                if message["type"] == "http.response.start":
                    status.append(message["status"])
                await send(message)

            await self.app(scope, receive, watch)
            if status:
                self.throttle.record(client, status[0] < 400)
            return None
        return await self.app(scope, receive, send)


    async def _api_call(self, scope: Scope, receive: Receive, send: Send, endpoint: str) -> None:
        """Check the number of inputs of a plain HTTP call before Gradio sees it."""
        body = bytearray()
        names = self.api_inputs[endpoint]
        limit = MAX_EDIT_BODY if endpoint == "edit" else MAX_CALL_BODY
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > limit:
                return await _refuse(send, 413, f"The request is too large for /{endpoint}"
                                                + (": send the images as uploaded files." if endpoint == "edit"
                                                   else "."))
            if not message.get("more_body"):
                break
        try:
            data = json.loads(body).get("data")
        except (ValueError, AttributeError, RecursionError):
            data = None
        if not isinstance(data, list) or len(data) != len(names):
            got = f"{len(data)} inputs" if isinstance(data, list) else "no list of inputs"
            return await _refuse(send, 422, f"/{endpoint} takes exactly {len(names)} inputs in this "
                                            f"order: {', '.join(names)} (send \"\" for a default); "
                                            f"got {got}.")
        if endpoint == "edit" and (problem := _files_as_uploads(data, names)):
            return await _refuse(send, 422, problem)
        body = bytearray(json.dumps({**json.loads(body), "data": data}).encode()) if endpoint == "edit" else body
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        return await self.app(scope, replay, send)


def _files_as_uploads(data: list, names: tuple[str, ...]) -> str | None:
    """Turn ``/call/edit``'s data URLs into uploads (as Gradio's MCP server does); a sentence if one is refused.

    Gradio's ``File`` takes only file objects, and would answer a data URL or a path outside its
    upload folder with ``{"error": null}``. A data URL is decoded (bounded, images only) and saved
    in Gradio's upload folder; an uploaded file or an http(s) URL passes to Gradio as sent; any
    other path a caller names is refused here, unread.
    """
    uploads = Path(get_upload_folder()).resolve()
    for name in ("images", "mask", "markup"):
        at = names.index(name)
        value, many = data[at], name == "images"
        items = value if isinstance(value, list) else [value]
        if value in (None, "") or items == []:
            data[at] = [] if many else None
            continue
        if not many and isinstance(value, list):
            return f"/edit's {name} is one file, not a list."
        converted = []
        for item in items:
            path = item.get("path") if isinstance(item, dict) else item
            if isinstance(path, str) and path.startswith("data:"):
                try:
                    raw = from_data_url(path, f"The {name}")
                except ValidationError as exc:
                    return exc.user_message
                path = save_bytes_to_cache(raw, f"{name}.{path[11:15].split(';')[0].replace('jpg', 'jpeg')}",
                                           str(uploads))
            elif not (isinstance(path, str) and (path.startswith(("http://", "https://"))
                                                 or Path(path).resolve().is_relative_to(uploads))):
                return (f"/edit's {name} must be data:image/...;base64 URLs or files uploaded to "
                        "/gradio_api/upload; a path on the server is never read.")
            converted.append({"path": path, "meta": {"_type": "gradio.FileData"}})
        data[at] = converted if many else converted[0]
    return None


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def _deny(send: Send) -> None:
    body = b'{"error": "This server needs a login: send the DALLE3_AUTH user and password as HTTP Basic auth."}'
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b'Basic realm="dalle3"')]})
    await send({"type": "http.response.body", "body": body})


def guard_middleware(settings: Settings, api_inputs: dict[str, tuple[str, ...]]) -> Middleware:
    """The guard for ``launch(app_kwargs={"middleware": [...]})``; ``api_inputs``: each endpoint's inputs."""
    return Middleware(Guard, auth=settings.auth, api_inputs=api_inputs)
