"""Errors that carry a message written for the person at the page.

Modelled on openai-python's ``_exceptions``: one base class keeping the HTTP
status, the API's ``error.code`` and the request id; one subclass per thing the
user must do differently. The page, the CLI and the API all show
``user_message`` and nothing else, so these texts are the product's voice.
No message ever contains an API key: messages are composed from fixed
text plus values that cannot hold one (status, model id, and the base URL in
its shown form: scheme, host, port and path, never userinfo or query, where
an ``OPENAI_BASE_URL`` may carry credentials).

This module is the hierarchy and those message rules only; reading an HTTP
answer or a network failure into one of these errors is
:mod:`dalle3.http.answers`, beside the client that receives it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

BILLING_URL = "https://platform.openai.com/settings/organization/billing"
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


# --- keeping secrets out of messages: text the API wrote, and the endpoint's address ---------

def scrub(text: str) -> str:
    """Remove anything shaped like a key from text the API wrote (it echoes masked keys)."""
    return _KEYISH.sub("[redacted]", text)[:500]


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
