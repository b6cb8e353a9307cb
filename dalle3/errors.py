"""Errors that carry a message written for the person at the page.

Modelled on openai-python's ``_exceptions``: one base class keeping the HTTP
status, the API's ``error.code`` and the request id; one subclass per thing the
user must do differently. The page, the CLI and the API all show
``user_message`` and nothing else, so these texts are the product's voice.
No message ever contains an API key: messages are composed here from fixed
text plus values that cannot hold one (status, model id, and the base URL in
its shown form: scheme, host, port and path, never userinfo or query, where
an ``OPENAI_BASE_URL`` may carry credentials).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from dalle3.models import refusal_hint, resolve

BILLING_URL = "https://platform.openai.com/settings/organization/billing"
KEYS_URL = "https://platform.openai.com/api-keys"
EDIT_POLICY_MESSAGE = (
    "OpenAI's safety system rejected this edit: the prompt or one of the reference images. Try other "
    "images or rephrase — leave out real people's names, brands, and violent or sexual detail. Nothing was charged.")
#: The error codes and types by which OpenAI says its safety system refused an image (before the
#: call, as an HTTP answer, or while streaming): ``moderation_blocked`` is what GPT Image models send.
CONTENT_POLICY_CODES = ("content_policy_violation", "moderation_blocked")
CONTENT_POLICY_TYPES = ("image_generation_user_error",)


def is_content_policy(error: dict[str, Any]) -> bool:
    """True when an OpenAI ``error`` object says the safety system refused the image."""
    return error.get("code") in CONTENT_POLICY_CODES or error.get("type") in CONTENT_POLICY_TYPES


_KEYISH = re.compile(r"\b(sk-[A-Za-z0-9_*\-]{2,}|[A-Za-z0-9_\-]{32,})")


class DalleError(Exception):
    """Base class: ``user_message`` says what happened and what to do."""

    title = "Generation failed"
    #: True when the request reached the endpoint and we stopped waiting for (or could not use)
    #: its answer: the call may still be billed, so the spend cap counts it as spent.
    abandoned = False

    def __init__(
        self,
        user_message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        abandoned: bool | None = None,
    ) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.http_status = http_status
        self.code = code
        self.request_id = request_id
        if abandoned is not None:
            self.abandoned = abandoned

    def details(self) -> str:
        """The short technical tail for a status line: HTTP status, code, request id."""
        parts = []
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.code:
            parts.append(f"code {self.code}")
        if self.request_id:
            parts.append(f"request {self.request_id}")
        return " · ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.user_message!r}, http_status={self.http_status!r}, code={self.code!r})"


class ValidationError(DalleError):
    """The inputs were refused before any network call."""

    title = "Check the inputs"


class ConfigurationError(DalleError):
    """A setting (environment variable) has a value that cannot work."""

    title = "Configuration error"


class ContentPolicyError(DalleError):
    title = "Prompt rejected by the safety system"


class AuthenticationError(DalleError):
    title = "API key problem"


class PermissionDeniedError(DalleError):
    title = "Not allowed"


class QuotaExceededError(DalleError):
    title = "Out of credit"


class SpendCapError(DalleError):
    title = "Spending cap reached"


class LedgerUnreadableError(SpendCapError):
    """The spend ledger cannot be trusted: the server key stops until an operator fixes it."""

    title = "Spending cap unavailable"


class RateLimitError(DalleError):
    title = "Rate limited"


class BusyError(DalleError):
    """This server is at a bound of its own (memory for decoding images): nothing was sent or billed."""

    title = "Server busy"


class ModelUnavailableError(DalleError):
    """The endpoint does not serve the model (retired, or not on this key).

    ``model`` and ``successor`` let the page offer a one-click switch.
    """

    title = "Model not available"

    def __init__(self, user_message: str, *, model: str, successor: str | None = None, **kw) -> None:
        super().__init__(user_message, **kw)
        self.model = model
        self.successor = successor


class BadRequestError(DalleError):
    title = "Request refused"


class ServerError(DalleError):
    title = "OpenAI is having trouble"


class RequestTimeoutError(DalleError):
    """We stopped waiting after the request was sent (unless built with ``abandoned=False``)."""

    title = "Timed out"
    abandoned = True


class ConnectionFailedError(DalleError):
    title = "Cannot connect"


class ConnectionDroppedError(ConnectionFailedError):
    """The endpoint accepted the connection and closed it before any answer: the request was sent."""

    title = "Connection dropped"


class BadResponseError(DalleError):
    """The endpoint answered, but not with a usable image: an answer with status 200 (or none
    known) may have been billed."""

    title = "Unusable response"

    def __init__(self, user_message: str, **kw: Any) -> None:
        kw.setdefault("abandoned", kw.get("http_status") in (None, 200))
        super().__init__(user_message, **kw)


class UnexpectedError(DalleError):
    """A bug, told as a sentence; the traceback goes to the server log only."""

    title = "Something went wrong"


# --- turning what the network and the API said into one of the above ------------------------

def scrub(text: str) -> str:
    """Remove anything shaped like a key from text the API wrote (it echoes masked keys)."""
    return _KEYISH.sub("[redacted]", text)[:500]


def _times(attempts: int) -> str:
    return f"{attempts} time{'s' if attempts > 1 else ''}"


def shown_url(url: str) -> str:
    """``scheme://host[:port]/path`` of ``url``: no userinfo, query or fragment (they may hold secrets)."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the configured endpoint"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


_NOT_SENT = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,
             urllib3.exceptions.SSLError, urllib3.exceptions.ProxyError)


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


def network_error(exc: requests.RequestException, base: str, timeout_s: float, attempts: int) -> DalleError:
    """A connection failure or timeout, naming the endpoint's host (never the key)."""
    base = shown_url(base)
    sent = request_was_sent(exc)
    if sent and not isinstance(exc, requests.Timeout):
        return ConnectionDroppedError(
            f"{base} accepted the connection, then dropped it before answering (tried {_times(attempts)}). "
            "The endpoint or a proxy in between may be overloaded or cutting long requests: try again in a "
            "minute.", abandoned=True)
    if isinstance(exc, requests.ConnectTimeout) or not isinstance(exc, requests.Timeout):
        return ConnectionFailedError(
            f"Could not connect to {base} (tried {_times(attempts)}). Check the internet connection, "
            "or OPENAI_BASE_URL if you point the app at another server.", abandoned=sent)
    return RequestTimeoutError(
        f"No answer from {base} within {timeout_s:g} s (tried {_times(attempts)}). Image "
        "generation can be slow: try again, or raise DALLE3_TIMEOUT_S.", abandoned=sent)


def model_unavailable(model: str, **kw: Any) -> ModelUnavailableError:
    """The endpoint does not serve ``model``: say when OpenAI retired it and what replaces it."""
    profile = resolve(model)
    successor = profile.successor if profile else None
    retired = f" OpenAI retired it on {profile.shutdown}." if profile and profile.shutdown else ""
    offer = f" Switch to {successor}, its successor," if successor else " Pick another model"
    return ModelUnavailableError(
        f"This endpoint does not offer {model}.{retired}{offer} or point OPENAI_BASE_URL at a "
        f"server that still serves {model}.", model=model, successor=successor, **kw)


def from_status(status: int, error: dict[str, Any], request_id: str | None, base_url: str,
                model: str | None, attempts: int) -> DalleError:
    """The error for an HTTP answer that was not 200, from its status and OpenAI ``error`` body."""
    code = error.get("code") if isinstance(error.get("code"), str) else None
    # an error answer is not billed: the endpoint said no
    kw: dict[str, Any] = {"http_status": status, "code": code, "request_id": request_id, "abandoned": False}
    api_says = scrub(str(error.get("message") or "")).strip()
    tries = _times(attempts)
    if is_content_policy(error):
        return ContentPolicyError(
            "OpenAI's safety system rejected this prompt. Rephrase it — leave out real people's "
            "names, brands, and violent or sexual detail — and try again. Nothing was charged.", **kw)
    if status == 401:
        return AuthenticationError(
            "OpenAI did not accept the API key. Check OPENAI_API_KEY (in .env or the Space's "
            f"secrets) or the key you typed; create one at {KEYS_URL}.", **kw)
    if code in ("insufficient_quota", "billing_hard_limit_reached"):
        return QuotaExceededError(
            "The OpenAI account behind this key is out of credit or over its budget. "
            f"Add credit at {BILLING_URL}, or use another key.", **kw)
    if status == 404 and model is not None and (code == "model_not_found" or "model" in api_says.lower()):
        return model_unavailable(model, **kw)
    if status == 403:
        return PermissionDeniedError(
            f"This key may not use {model or 'this endpoint'}. OpenAI said: {api_says or 'permission denied'}",
            **kw)
    if status == 429:
        return RateLimitError(f"OpenAI is rate-limiting this key (tried {tries}). Wait a minute and try again.", **kw)
    if status == 408:
        return RequestTimeoutError(f"OpenAI timed out handling the request (tried {tries}). Try again.", **kw)
    if status >= 500 or status == 409:
        return ServerError(
            f"OpenAI's servers answered with an error (HTTP {status}, tried {tries}). This is on "
            "their side: try again in a minute, and see https://status.openai.com.", **kw)
    if status == 413:
        return BadRequestError(
            "The request was too large for the server (HTTP 413). Use fewer or smaller reference images.", **kw)
    if status == 404:
        return BadRequestError(f"{shown_url(base_url)} has no images endpoint (HTTP 404). Check OPENAI_BASE_URL.", **kw)
    hint = refusal_hint(model, error.get("param") if isinstance(error.get("param"), str) else None)
    return BadRequestError(f"The API refused the request (HTTP {status}): {api_says or 'no reason given'}{hint}", **kw)
