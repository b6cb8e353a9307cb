"""Who is logged in, and how fast a password may be guessed.

The guard runs before Gradio's own login check, so it must know on its own whether a request
is logged in: Gradio's session cookie (``access-token[-unsecure]-<cookie_id>``, a token in
``app.tokens``) or the ``DALLE3_AUTH`` user and password as HTTP Basic (what MCP clients send).

Guessing is slowed per *client key*: the browser's device cookie when it has one (set after
a right password, so a browser that logged in before is never slowed by others' guesses behind
the same proxy), else the client address (uvicorn's, which believes ``X-Forwarded-For`` only
from ``DALLE3_TRUSTED_PROXIES``). A right password is answered at once; each wrong one is
answered only at its slot — slots follow each other 0.5 s, 1 s, 2 s … 10 s apart after three
free failures — and at most :data:`MAX_PENDING` attempts per key may wait for their slot: more
are refused with 429 before their password is looked at, so parallel guessing is no faster
than sequential guessing.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.requests import cookie_parser

FREE_FAILURES = 3  # typos cost nothing
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 10.0
FORGET_AFTER_S = 15 * 60
MAX_PENDING = 4  # attempts per client key waiting for their answer at once
MAX_CLIENTS = 10_000
DEVICE_COOKIE = "dalle3-device"

Scope = dict[str, Any]


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return dict(scope.get("headers") or [])


def basic_credentials(scope: Scope) -> tuple[str, str] | None:
    """The user and password of an ``Authorization: Basic`` header, or None."""
    scheme, _, encoded = _headers(scope).get(b"authorization", b"").partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return ("", "")  # present but unreadable: a failed attempt
    return user, password


def right_password(given: tuple[str, str], auth: tuple[str, str]) -> bool:
    """Constant-time comparison of user and password (both compared, always)."""
    return hmac.compare_digest(given[0].encode(), auth[0].encode()) & hmac.compare_digest(
        given[1].encode(), auth[1].encode())


def cookies(scope: Scope) -> dict[str, str]:
    return cookie_parser(_headers(scope).get(b"cookie", b"").decode("latin-1"))


def logged_in(scope: Scope) -> bool:
    """True when the request carries Gradio's session cookie naming a live login token.

    HTTP Basic is not accepted here: a password checked outside the throttle would be a free
    guessing oracle (only the MCP routes take Basic, through :class:`LoginThrottle`).
    """
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if tokens is None or cookie_id is None:
        return False
    jar = cookies(scope)
    token = jar.get(f"access-token-{cookie_id}") or jar.get(f"access-token-unsecure-{cookie_id}")
    return bool(token) and token in tokens


@dataclass
class _Client:
    failures: int = 0
    last: float = 0.0
    slot: float = 0.0  # when the latest wrong attempt is (or was) answered
    pending: int = 0


class LoginThrottle:
    """Per client key: failures, the next answer slot, and the attempts waiting for one."""

    def __init__(self) -> None:
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._secret = secrets.token_bytes(32)

    def key(self, scope: Scope) -> str:
        """The device cookie when it is one this process signed, else the client address."""
        device = cookies(scope).get(DEVICE_COOKIE, "")
        nonce, _, mac = device.partition(".")
        if nonce and hmac.compare_digest(mac, self._sign(nonce)):
            return "device:" + nonce
        client = scope.get("client")
        return "address:" + (client[0] if client else "unknown")

    def device_cookie(self) -> bytes:
        """A ``Set-Cookie`` value marking this browser as one that gave the right password."""
        nonce = secrets.token_urlsafe(12)
        return (f"{DEVICE_COOKIE}={nonce}.{self._sign(nonce)}; Path=/; HttpOnly; SameSite=Lax; "
                f"Max-Age={30 * 24 * 3600}").encode()

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), "sha256").hexdigest()[:32]

    def _get(self, key: str) -> _Client:
        client = self._clients.get(key)
        if client is None or (not client.pending and time.monotonic() - client.last > FORGET_AFTER_S):
            client = _Client()
        self._clients[key] = client
        self._clients.move_to_end(key)
        while len(self._clients) > MAX_CLIENTS:
            oldest = next(iter(self._clients))
            if self._clients[oldest].pending:
                break
            del self._clients[oldest]
        return client

    def admit(self, key: str) -> bool:
        """Count one more attempt waiting on ``key``; False (nothing counted) when too many wait already."""
        client = self._get(key)
        if client.pending >= MAX_PENDING:
            return False
        client.pending += 1
        return True

    def release(self, key: str) -> None:
        client = self._clients.get(key)
        if client is not None and client.pending:
            client.pending -= 1

    def delay_s(self, failures: int) -> float:
        """The gap before the answer to the ``failures``-th wrong attempt in a row."""
        if failures <= FREE_FAILURES:
            return 0.0
        return min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (failures - FREE_FAILURES - 1))

    async def wrong(self, key: str) -> None:
        """Record a wrong attempt of an admitted ``key`` and wait for its answer slot."""
        client = self._get(key)
        now = time.monotonic()
        client.failures += 1
        client.last = now
        client.slot = max(now, client.slot) + self.delay_s(client.failures)
        await asyncio.sleep(client.slot - now)

    def right(self, key: str) -> None:
        """A right password: this key's failures are forgotten (attempts still waiting keep their slots)."""
        client = self._clients.get(key)
        if client is not None:
            client.failures, client.slot = 0, 0.0
