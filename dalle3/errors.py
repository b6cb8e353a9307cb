"""Errors that carry a message written for the person at the page.

Modelled on openai-python's ``_exceptions``: one base class keeping the HTTP
status, the API's ``error.code`` and the request id; one subclass per thing the
user must do differently. The page, the CLI and the API all show
``user_message`` and nothing else, so these texts are the product's voice.
No message ever contains an API key: messages are composed here from fixed
text plus values that cannot hold one (base URL, status, model id).
"""

from __future__ import annotations


class DalleError(Exception):
    """Base class: ``user_message`` says what happened and what to do."""

    title = "Generation failed"

    def __init__(
        self,
        user_message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.status = status
        self.code = code
        self.request_id = request_id

    def details(self) -> str:
        """The short technical tail for a status line: HTTP status, code, request id."""
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(f"code {self.code}")
        if self.request_id:
            parts.append(f"request {self.request_id}")
        return " · ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.user_message!r}, status={self.status!r}, code={self.code!r})"


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


class RateLimitError(DalleError):
    title = "Rate limited"


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
    title = "Timed out"


class ConnectionFailedError(DalleError):
    title = "Cannot connect"


class BadResponseError(DalleError):
    title = "Unusable response"
