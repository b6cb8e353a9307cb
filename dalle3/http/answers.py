"""What an endpoint's failed answer means: the error body's fields, a refusal to stream, a call with no answer.

One owner for the three readings the image, job and chat clients share; the status-to-error
mapping itself is :func:`dalle3.errors.from_status`.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from dalle3 import errors
from dalle3.http import stream


def network_failure(exc: requests.RequestException, base: str, read_s: float, attempts: int, *,
                   billable: bool = True) -> errors.DalleError:
    """No answer at all; a read timeout or a dropped connection means the request was sent, so a
    ``billable`` call (a generation or an edit) may have been billed."""
    error = errors.network_error(exc, base, read_s, attempts)
    if billable and isinstance(error, (errors.RequestTimeoutError, errors.ConnectionDroppedError)) \
            and errors.request_was_sent(exc):
        error.user_message = f"{error.user_message} {stream.billing_note(None)}"
        error.args = (error.user_message,)
    return error


def refuses_streaming(error: dict[str, Any]) -> bool:
    """A 400 that names ``stream``/``partial_images``: the endpoint does not stream images."""
    return error.get("param") in ("stream", "partial_images") or "stream" in str(error.get("message", "")).lower()


def error_fields(raw: bytes) -> dict[str, Any]:
    """``error`` from an OpenAI error body; {} for HTML pages and other junk."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return {}
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else {}
