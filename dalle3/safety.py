"""``safety_identifier``: a stable, non-reversible id per browser session.

OpenAI asks apps that serve other people to send a stable id per end user, so
abuse can be traced to one user rather than to the whole key. This app has
no accounts, so the end user is the browser session: the id is an
HMAC-SHA256 of the session's random token under a secret made fresh in each
process. It is stable for the session, says nothing about the visitor, cannot
be reversed to the token, is never derived from an API key, and is sent only
in the request body — never stored, logged or written into an image.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from dalle3.settings import LOOPBACK_HOSTS, Settings

_PROCESS_SECRET = secrets.token_bytes(32)


def new_session_token() -> str:
    """A random token for one browser session (Gradio's ``session_hash`` serves as well)."""
    return secrets.token_urlsafe(24)


def opaque_id(secret: str) -> str:
    """A stable, non-reversible id for ``secret`` (an API key, a session token) in this process.

    The one way a secret becomes an identifier here (cache keys, who pays, the safety id):
    an HMAC-SHA256 under a secret made fresh in each process, so an id seen in memory or in a
    request says nothing about the secret and means nothing after a restart. 64 hex characters.
    """
    return hmac.new(_PROCESS_SECRET, secret.encode("utf-8"), hashlib.sha256).hexdigest()


def session_identifier(session_token: str) -> str:
    """The id sent as ``safety_identifier`` for this session: 64 hex characters."""
    if not session_token:
        raise ValueError("a session token is required")
    return opaque_id("session\0" + session_token)


def applies(settings: Settings, host: str) -> bool:
    """Whether to send ids at all: on (DALLE3_SAFETY_ID) and serving beyond loopback."""
    return settings.safety_id and host not in LOOPBACK_HOSTS


def identifier_for(settings: Settings, host: str, session_token: str | None) -> str | None:
    """What the page passes to ``validate(..., safety_identifier=...)``: an id, or None."""
    if not session_token or not applies(settings, host):
        return None
    return session_identifier(session_token)
