"""What an endpoint's answer means when it is not an image: which error, in which words.

One owner for the readings the image, job and chat clients share: the error body's
fields, a refusal to stream, a call with no answer (and whether it was sent), and the
mapping from an HTTP status and OpenAI ``error`` body to one of the classes in
:mod:`dalle3.errors`. It lives beside the client, not in ``errors``, because it reads the model
table (a retired model's successor, a rule the table is unsure of) and ``requests``'
exceptions, which the error hierarchy that most modules import should not load.
"""

from __future__ import annotations

import json
from typing import Any

import requests
import urllib3.exceptions

from dalle3 import errors
from dalle3.http import stream
from dalle3.models import refusal_hint, resolve

KEYS_URL = "https://platform.openai.com/api-keys"

_NOT_SENT = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,
             urllib3.exceptions.SSLError, urllib3.exceptions.ProxyError)


def _times(attempts: int) -> str:
    return f"{attempts} time{'s' if attempts > 1 else ''}"


def request_was_sent(exc: requests.RequestException) -> bool:
    """Whether the endpoint may have received the request before ``exc``.

    Only failures to open the connection (refused, DNS, connect timeout, TLS,
    proxy) prove it was not sent; anything later (read timeout, reset while
    waiting) counts as sent, because the call may be billed.
    """
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError, requests.exceptions.ProxyError)):
        return False
    reason: BaseException | None = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
    while reason is not None:
        if isinstance(reason, _NOT_SENT):
            return False
        reason = getattr(reason, "reason", None) if isinstance(reason, urllib3.exceptions.MaxRetryError) else None
    return True


def network_failure(exc: requests.RequestException, base: str, *, read_s: float, attempts: int,
                    billable: bool = True) -> errors.DalleError:
    """No answer at all, naming the endpoint's host (never the key); a read timeout or a dropped
    connection means the request was sent, so a ``billable`` call (a generation or an edit) may
    have been billed."""
    error = _no_answer(exc, errors.shown_url(base), read_s, attempts)
    if billable and isinstance(error, (errors.RequestTimeoutError, errors.ConnectionDroppedError)) \
            and request_was_sent(exc):
        error.user_message = f"{error.user_message} {stream.billing_note(None)}"
        error.args = (error.user_message,)
    return error


def _no_answer(exc: requests.RequestException, base: str, timeout_s: float, attempts: int) -> errors.DalleError:
    sent = request_was_sent(exc)
    if sent and not isinstance(exc, requests.Timeout):
        return errors.ConnectionDroppedError(
            f"{base} accepted the connection, then dropped it before answering (tried {_times(attempts)}). "
            "The endpoint or a proxy in between may be overloaded or cutting long requests: try again in a "
            "minute.", abandoned=True)
    if isinstance(exc, requests.ConnectTimeout) or not isinstance(exc, requests.Timeout):
        return errors.ConnectionFailedError(
            f"Could not connect to {base} (tried {_times(attempts)}). Check the internet connection, "
            "or OPENAI_BASE_URL if you point the app at another server.", abandoned=sent)
    return errors.RequestTimeoutError(
        f"No answer from {base} within {timeout_s:g} s (tried {_times(attempts)}). Image "
        "generation can be slow: try again, or raise DALLE3_TIMEOUT_S.", abandoned=sent)


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


def model_unavailable(model: str, **kw: Any) -> errors.ModelUnavailableError:
    """The endpoint does not serve ``model``: say when OpenAI retired it and what replaces it."""
    profile = resolve(model)
    successor = profile.successor if profile else None
    retired = f" OpenAI retired it on {profile.shutdown}." if profile and profile.shutdown else ""
    offer = f" Switch to {successor}, its successor," if successor else " Pick another model"
    return errors.ModelUnavailableError(
        f"This endpoint does not offer {model}.{retired}{offer} or point OPENAI_BASE_URL at a "
        f"server that still serves {model}.", model=model, successor=successor, **kw)


def from_status(status: int, error: dict[str, Any], *, request_id: str | None, base_url: str,
                model: str | None, attempts: int) -> errors.DalleError:
    """The error for an HTTP answer that was not 200, from its status and OpenAI ``error`` body."""
    code = error.get("code") if isinstance(error.get("code"), str) else None
    # an error answer is not billed: the endpoint said no
    kw: dict[str, Any] = {"http_status": status, "code": code, "request_id": request_id, "abandoned": False}
    api_says = errors.scrub(str(error.get("message") or "")).strip()
    tries = _times(attempts)
    if errors.is_content_policy(error):
        return errors.ContentPolicyError(
            "OpenAI's safety system rejected this prompt. Rephrase it — leave out real people's "
            "names, brands, and violent or sexual detail — and try again. Nothing was charged.", **kw)
    if status == 401:
        return errors.AuthenticationError(
            "OpenAI did not accept the API key. Check OPENAI_API_KEY (in .env or the Space's "
            f"secrets) or the key you typed; create one at {KEYS_URL}.", **kw)
    if code in ("insufficient_quota", "billing_hard_limit_reached"):
        return errors.QuotaExceededError(
            "The OpenAI account behind this key is out of credit or over its budget. "
            f"Add credit at {errors.BILLING_URL}, or use another key.", **kw)
    if status == 404 and model is not None and (code == "model_not_found" or "model" in api_says.lower()):
        return model_unavailable(model, **kw)
    if status == 403:
        return errors.PermissionDeniedError(
            f"This key may not use {model or 'this endpoint'}. OpenAI said: {api_says or 'permission denied'}",
            **kw)
    if status == 429:
        return errors.RateLimitError(
            f"OpenAI is rate-limiting this key (tried {tries}). Wait a minute and try again.", **kw)
    if status == 408:
        return errors.RequestTimeoutError(f"OpenAI timed out handling the request (tried {tries}). Try again.", **kw)
    if status >= 500 or status == 409:
        return errors.ServerError(
            f"OpenAI's servers answered with an error (HTTP {status}, tried {tries}). This is on "
            "their side: try again in a minute, and see https://status.openai.com.", **kw)
    if status == 413:
        return errors.BadRequestError(
            "The request was too large for the server (HTTP 413). Use fewer or smaller reference images.", **kw)
    if status == 404:
        return errors.BadRequestError(
            f"{errors.shown_url(base_url)} has no images endpoint (HTTP 404). Check OPENAI_BASE_URL.", **kw)
    hint = refusal_hint(model, error.get("param") if isinstance(error.get("param"), str) else None)
    return errors.BadRequestError(
        f"The API refused the request (HTTP {status}): {api_says or 'no reason given'}{hint}", **kw)


def json_object(raw: bytes, *, status: int, request_id: str | None, billed: bool) -> dict[str, Any]:
    """The answer's JSON object, or the one error for an answer that is not one (a proxy, an error page).

    ``billed``: the answer stands for a paid result (a chat turn's 200), so the words say it may
    be billed and the call counts as abandoned; otherwise they say to try again.
    """
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        return payload
    then = "It may still be billed;" if billed else "Try again;"
    raise errors.BadResponseError(
        "The API's answer was not the JSON it should be (perhaps a proxy or an error page). "
        f"{then} check OPENAI_BASE_URL if it repeats.", http_status=status, request_id=request_id, abandoned=billed)
