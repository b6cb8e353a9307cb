"""A small ASGI guard in front of Gradio: every request that could reach a handler, checked first.

Gradio's ``auth`` callable sees only the user name and password, not who is asking, and
middleware given through ``app_kwargs`` runs *before* Gradio's login check. So here, in order:

1. With ``DALLE3_AUTH``, a request that is not logged in (Gradio's session cookie; HTTP Basic
   on the MCP routes) is refused 401 before a byte of its body is read — only ``/login`` and
   plain reads (GET) pass to Gradio, which checks them itself. Logins are throttled
   (:mod:`ui.guard.login`).
2. Every body is bounded: refused by ``Content-Length`` first, counted while it streams.
3. Every route that reaches a Blocks function (``/call``, ``/run``, ``/api``, ``/queue/join``)
   gets the same checks (:mod:`ui.guard.calls`): input count, no http(s) URL as a file, data
   URLs of ``/edit`` and ``/batch`` (a job of edits) turned into uploads off the event loop.
4. Uploads are bounded per request and per visitor (:mod:`ui.guard.uploads`).

Pure ASGI, not Starlette's ``BaseHTTPMiddleware``, so the server-sent events Gradio streams
pass through untouched.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from gradio.processing_utils import save_bytes_to_cache
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from dalle3.models.edit_rules import MAX_REFERENCES
from dalle3.errors import ValidationError
from dalle3.edits.references import from_data_url
from dalle3.settings import Settings
from ui.guard.calls import (
    IMAGE_ENDPOINTS,
    URL_INPUT,
    Refused,
    body_limit,
    check_count,
    check_files,
    check_mcp_call,
    event_route,
    is_url,
    off_loop,
    parse,
    read_bounded,
    resolve,
)
from ui.guard.login import LoginThrottle, basic_credentials, logged_in, right_password
from ui.guard.uploads import (
    MAX_FILES_PER_REQUEST,
    MAX_REQUEST_BYTES,
    Allowance,
    multipart_files,
    over_budget,
)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

READS = {"GET", "HEAD", "OPTIONS"}
MAX_LOGIN_BODY = 16 * 1024
NEEDS_LOGIN = "This server needs a login: log in on its page (or send the DALLE3_AUTH user and password)."
MCP_LOGIN = "This server needs a login: send the DALLE3_AUTH user and password as HTTP Basic auth."
CROWDED = "Too many login attempts at once from here: wait ten seconds and try again."
MAX_NEW_SESSIONS, SESSION_WINDOW_S = 60, 600  # page sessions one client may open per ten minutes
TOO_MANY_SESSIONS = ("Too many new page sessions from your address in the last ten minutes: "
                     "keep using an open tab, or try again in a few minutes.")


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the inner app ``body`` (already read) once, then the real stream."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class Guard:
    def __init__(self, app: Callable, settings: Settings, api_inputs: dict[str, tuple[str, ...]]) -> None:
        self.app = app
        self.auth = settings.auth
        self.api_inputs = api_inputs
        self.throttle = LoginThrottle()
        self.uploads = Allowance(settings.visitor_upload_mb * 2**20)
        self.new_sessions = Allowance(MAX_NEW_SESSIONS, SESSION_WINDOW_S)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            return await self._route(scope, receive, send)
        except Refused as refused:
            return await _refuse(send, refused.status, refused.message)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope.get("path", "").rstrip("/"), scope.get("method", "GET")
        if "/gradio_api/mcp" in path:
            if self.auth is not None:
                await self._mcp_login(scope, self.auth)
            if method in READS:
                return await self.app(scope, receive, send)
            body = await read_bounded(scope, receive, MAX_REQUEST_BYTES, "The request is too large.")
            await off_loop(check_mcp_call, body, size=len(body))
            return await self.app(scope, _replay(body, receive), send)
        if self.auth is not None and method == "POST" and path.endswith("/login"):
            return await self._login(scope, receive, send)
        if self.auth is not None and method not in READS and not logged_in(scope):
            raise Refused(401, NEEDS_LOGIN)
        if method in READS:
            return await self.app(scope, receive, send)
        if path.endswith("/gradio_api/upload"):
            return await self._upload(scope, receive, send)
        if (route := event_route(path)) is not None and method == "POST":
            return await self._event(scope, receive, send, route)
        body = await read_bounded(scope, receive, body_limit((None, None)), "The request is too large.")
        if path.endswith("/component_server"):  # it also creates a session for a new session_hash
            self._count_new_session(scope, (await off_loop(parse, body, size=len(body)) or {}).get("session_hash"))
        return await self.app(scope, _replay(body, receive), send)

    async def _mcp_login(self, scope: Scope, auth: tuple[str, str]) -> None:
        """HTTP Basic for the MCP routes; a request without credentials is refused, not counted as a guess."""
        given = basic_credentials(scope)
        if given is None:
            raise Refused(401, MCP_LOGIN)
        key = self.throttle.key(scope)
        if not self.throttle.admit(key):
            raise Refused(429, CROWDED)
        try:
            if right_password(given, auth):
                self.throttle.right(key)
                return
            await self.throttle.wrong(key)
        finally:
            self.throttle.release(key)
        raise Refused(401, MCP_LOGIN)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Gradio checks the password; a wrong answer is held until its slot, a right one goes at once."""
        key = self.throttle.key(scope)
        if not self.throttle.admit(key):
            raise Refused(429, CROWDED)
        try:
            body = await read_bounded(scope, receive, MAX_LOGIN_BODY, "The login form is too large.")
            held: list[dict] = []

            async def hold(message: dict) -> None:
                held.append(message)

            await self.app(scope, _replay(body, receive), hold)
            start = next((m for m in held if m["type"] == "http.response.start"), None)
            if start is not None and start["status"] < 400:
                self.throttle.right(key)
                start["headers"] = [*start.get("headers", []), (b"set-cookie", self.throttle.device_cookie())]
            else:
                await self.throttle.wrong(key)
        finally:
            self.throttle.release(key)
        for message in held:
            await send(message)

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Files per request and bytes per request and per visitor, before Gradio writes anything."""
        too_large = (f"One upload may carry at most {MAX_REQUEST_BYTES // 2**20} MB: "
                     "send fewer or smaller files at a time.")
        body = await read_bounded(scope, receive, MAX_REQUEST_BYTES, too_large)
        files = multipart_files(dict(scope.get("headers") or []).get(b"content-type", b""), body)
        if files is not None and files > MAX_FILES_PER_REQUEST:
            raise Refused(413, f"One upload may carry at most {MAX_FILES_PER_REQUEST} files; this one has {files}.")
        if not self.uploads.take(_client(scope), len(body)):
            raise Refused(429, over_budget(self.uploads.limit))
        return await self.app(scope, _replay(body, receive), send)

    async def _event(self, scope: Scope, receive: Receive, send: Send, route: tuple[str | None, str | None]) -> None:
        """A body that reaches a Blocks function: the function's own checks, whatever the route."""
        limit = body_limit(route)
        too_large = f"The request is larger than {limit // 2**20} MB" + (
            ": send the images as uploaded files (/gradio_api/upload)." if limit > body_limit((None, None)) else ".")
        body = await read_bounded(scope, receive, limit, too_large)
        payload = await off_loop(parse, body, size=len(body))
        if payload is None:
            raise Refused(422, 'The body must be a JSON object with the inputs as a list under "data".')
        target = resolve(scope, route, payload)
        if target is None:  # no such function: Gradio answers that itself
            return await self.app(scope, _replay(body, receive), send)
        data = payload.get("data")
        names = self.api_inputs.get(target.api_name or "")
        if names is None:
            self._count_new_session(scope, payload.get("session_hash"))
        check_count(target, data, names)
        check_files(target, data)
        if target.api_name in IMAGE_ENDPOINTS and names is not None:
            sent = _data_url_bytes(data, names)
            if sent and not self.uploads.take(_client(scope), sent):
                raise Refused(429, over_budget(self.uploads.limit))
            body = await off_loop(_edit_body, payload, names, target.api_name, size=len(body))
        return await self.app(scope, _replay(body, receive), send)

    def _count_new_session(self, scope: Scope, session_hash: Any) -> None:
        """A page event that would make Gradio create a session counts against its client's allowance.

        API calls are not counted: their sessions are dropped once they have run (:mod:`ui.sessions`).
        """
        holder = getattr(scope.get("app"), "state_holder", None)
        if holder is None or not isinstance(session_hash, str) or session_hash in holder:
            return
        if not self.new_sessions.take(_client(scope), 1):
            raise Refused(429, TOO_MANY_SESSIONS)


_FILE_INPUTS = ("images", "mask", "markup")


def _files_of(names: tuple[str, ...]) -> list[str]:
    """The file inputs among an endpoint's ``names`` (a job of edits takes no markup)."""
    return [name for name in _FILE_INPUTS if name in names]


def _data_url_bytes(data: list, names: tuple[str, ...]) -> int:
    """The bytes of the data URLs among the endpoint's file inputs (what would be written)."""
    total = 0
    for name in _files_of(names):
        value = data[names.index(name)]
        for item in value if isinstance(value, list) else [value]:
            path = item.get("path") if isinstance(item, dict) else item
            if isinstance(path, str) and path.startswith("data:"):
                total += len(path) * 3 // 4
    return total


def _edit_body(payload: dict, names: tuple[str, ...], api_name: str) -> bytes:
    """The body with its data URLs saved as uploads (see :func:`_files_as_uploads`); refused with a sentence."""
    data = payload["data"]
    if problem := _files_as_uploads(data, names, api_name):
        raise Refused(422, problem)
    return json.dumps({**payload, "data": data}).encode()


def _files_as_uploads(data: list, names: tuple[str, ...], api_name: str = "edit") -> str | None:
    """Turn ``/call/edit``'s (or ``/call/batch``'s) data URLs into uploads (as Gradio's MCP server does); a
    sentence if one is refused.

    Gradio's ``File`` takes only file objects, and would answer a data URL or a path outside its
    upload folder with ``{"error": null}``. A data URL is decoded (bounded, images only) and saved
    in Gradio's upload folder; an uploaded file passes to Gradio as sent; an http(s) URL (Gradio
    would download it, unbounded) and any other path a caller names are refused here, unread.
    """
    uploads = Path(get_upload_folder()).resolve()
    files = _files_of(names)
    count = sum(len(v) if isinstance(v, list) else v not in (None, "")
                for v in (data[names.index(n)] for n in files))
    if count > MAX_REFERENCES + len(files) - 1:
        others = " and ".join(f"a {n}" for n in files[1:])
        return f"/{api_name} takes at most {MAX_REFERENCES} images{', ' if len(files) > 2 else ' and '}{others}; " \
               f"this call sent {count} files."
    for name in files:
        at = names.index(name)
        value, many = data[at], name == "images"
        items = value if isinstance(value, list) else [value]
        if value in (None, "") or items == []:
            data[at] = [] if many else None
            continue
        if not many and isinstance(value, list):
            return f"/{api_name}'s {name} is one file, not a list."
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
            elif isinstance(path, str) and is_url(path):
                return URL_INPUT
            elif not (isinstance(path, str) and Path(path).resolve().is_relative_to(uploads)):
                return (f"/{api_name}'s {name} must be data:image/...;base64 URLs or files uploaded to "
                        "/gradio_api/upload; a path on the server is never read.")
            converted.append({"path": path, "meta": {"_type": "gradio.FileData"}})
        data[at] = converted if many else converted[0]
    return None


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if message == MCP_LOGIN:
        headers.append((b"www-authenticate", b'Basic realm="dalle3"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def guard_middleware(settings: Settings, api_inputs: dict[str, tuple[str, ...]]) -> Middleware:
    """The guard for ``launch(app_kwargs={"middleware": [...]})``; ``api_inputs``: each endpoint's inputs."""
    return Middleware(Guard, settings=settings, api_inputs=api_inputs)
