"""The HTTP client for ``POST {base}/images/generations`` (and ``GET {base}/models``).

One reused ``requests.Session`` (keep-alive matters when a Space serves many
people), explicit ``(connect, read)`` timeouts plus an overall deadline on the
body, a hard cap on the response size (a real PNG in base64 is a few MB; a
broken proxy must not make us buffer gigabytes), and every failure turned into
a :mod:`dalle3.errors` class with a message for a person. The key travels only
in the ``Authorization`` header of requests to the configured base URL.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests

from dalle3 import errors
from dalle3.metadata import png_size
from dalle3.params import GenerationRequest, profile_for, request_body
from dalle3.retry import RetryPolicy
from dalle3.settings import Settings

log = logging.getLogger("dalle3")

MAX_RESPONSE_BYTES = 40 * 1024 * 1024
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ApiImage:
    """What the API gave back for one request."""

    png: bytes
    revised_prompt: str | None
    request_id: str | None
    usage: dict[str, Any] | None
    attempts: int


class ImagesClient:
    """Calls the endpoint; raises :class:`dalle3.errors.DalleError` subclasses only."""

    def __init__(self, settings: Settings, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.policy = RetryPolicy(max_retries=settings.max_retries)
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = "dalle3-studio"
        self._sleep = sleep

    @property
    def _timeout(self) -> tuple[float, float]:
        return (self.settings.connect_timeout_s, self.settings.timeout_s)

    def generate(self, request: GenerationRequest, api_key: str, *, retry_after_send: bool = True) -> ApiImage:
        """One image for ``request``, retrying what the policy allows.

        ``retry_after_send=False``: a failure after the request may have reached the
        endpoint (read timeout, reset while waiting) is not retried, since that call
        may be billed; the error's ``abandoned`` says so (the spend cap counts it).
        """
        profile = profile_for(request.model)
        body = request_body(request, profile)
        url = f"{self.settings.base_url}/images/generations"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.post(url, json=body, timeout=self._timeout, stream=True,
                                             headers={"Authorization": f"Bearer {api_key}"})
            except requests.RequestException as exc:
                if self.policy.should_retry(attempt, None) and (retry_after_send or not errors.request_was_sent(exc)):
                    self._sleep(self.policy.delay_s(attempt))
                    continue
                raise errors.network_error(exc, self.settings.base_url, self.settings.timeout_s, attempt) from None
            with response:
                raw = self._read(response)
                if response.status_code == 200:
                    return self._image(raw, response, attempt)
                error = _error_fields(raw)
                if self.policy.should_retry(attempt, response.status_code, error.get("code")):
                    log.info("HTTP %s from the API, retrying (attempt %d)", response.status_code, attempt)
                    self._sleep(self.policy.delay_s(attempt, response.headers))
                    continue
                raise errors.from_status(response.status_code, error, response.headers.get("x-request-id"),
                                         self.settings.base_url, request.model, attempt)

    def list_models(self, api_key: str, timeout_s: float = 5.0) -> list[dict[str, Any]]:
        """The models this key can use, as the endpoint lists them (no retries: a hint only)."""
        try:
            response = self.session.get(f"{self.settings.base_url}/models", stream=True,
                                        timeout=(min(timeout_s, self.settings.connect_timeout_s), timeout_s),
                                        headers={"Authorization": f"Bearer {api_key}"})
        except requests.RequestException as exc:
            raise errors.network_error(exc, self.settings.base_url, self.settings.timeout_s, 1) from None
        with response:
            raw = self._read(response)
            if response.status_code != 200:
                raise errors.from_status(response.status_code, _error_fields(raw), response.headers.get("x-request-id"),
                                         self.settings.base_url, None, 1)
        data = _json(raw, response).get("data")
        return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)] if isinstance(data, list) else []

    def _read(self, response: requests.Response) -> bytes:
        """The body, refusing more than MAX_RESPONSE_BYTES and bounding total read time."""
        rid = response.headers.get("x-request-id")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            raise _too_big(rid)
        deadline = time.monotonic() + self.settings.timeout_s
        buffer = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK):
                buffer += chunk
                if len(buffer) > MAX_RESPONSE_BYTES:
                    raise _too_big(rid)
                if time.monotonic() > deadline:
                    raise errors.RequestTimeoutError(
                        f"The answer from {self.settings.base_url_shown} did not finish within "
                        f"{self.settings.timeout_s:g} s. Try again; raise DALLE3_TIMEOUT_S if it keeps happening.",
                        request_id=rid)
        except requests.RequestException as exc:
            raise errors.network_error(exc, self.settings.base_url, self.settings.timeout_s, 1) from None
        return bytes(buffer)

    def _image(self, raw: bytes, response: requests.Response, attempts: int) -> ApiImage:
        rid = response.headers.get("x-request-id")
        payload = _json(raw, response)
        data = payload.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise errors.BadResponseError(
                "The API answered but sent no image. Try again; if it repeats, the endpoint "
                "may not support this model.", http_status=200, request_id=rid)
        item = data[0]
        if isinstance(item.get("b64_json"), str):
            try:
                png = base64.b64decode(item["b64_json"], validate=True)
            except (binascii.Error, ValueError):
                raise errors.BadResponseError(
                    "The API sent an image that could not be decoded (bad base64). Try again.",
                    http_status=200, request_id=rid) from None
        elif isinstance(item.get("url"), str):
            png = self._download(item["url"], rid)
        else:
            raise errors.BadResponseError("The API answered without an image. Try again.",
                                          http_status=200, request_id=rid)
        if png_size(png) is None:
            raise errors.BadResponseError(
                "The API sent something that is not a PNG image. Try again; if it repeats, "
                "check that OPENAI_BASE_URL points at an OpenAI-compatible server.", http_status=200, request_id=rid)
        revised = item.get("revised_prompt")
        usage = payload.get("usage")
        return ApiImage(png=png, revised_prompt=revised if isinstance(revised, str) else None,
                        request_id=rid, usage=usage if isinstance(usage, dict) else None, attempts=attempts)

    def _download(self, url: str, rid: str | None) -> bytes:
        """Fetch an image URL; no Authorization header, since it may be another host."""
        try:
            response = requests.get(url, timeout=self._timeout, stream=True)
        except requests.RequestException as exc:
            raise errors.network_error(exc, self.settings.base_url, self.settings.timeout_s, 1) from None
        with response:
            raw = self._read(response)
            if response.status_code != 200:
                raise errors.BadResponseError(
                    f"The image link the API sent could not be fetched (HTTP {response.status_code}). Try again.",
                    http_status=response.status_code, request_id=rid)
        return raw

def _too_big(rid: str | None) -> errors.BadResponseError:
    return errors.BadResponseError(
        f"The API's answer was larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB, far more than "
        "an image needs, so it was refused. Check OPENAI_BASE_URL.", request_id=rid)


def _json(raw: bytes, response: requests.Response) -> dict[str, Any]:
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise errors.BadResponseError(
            "The API's answer was not the JSON it should be (perhaps a proxy or an error page). "
            "Try again; check OPENAI_BASE_URL if it repeats.",
            http_status=response.status_code, request_id=response.headers.get("x-request-id"))
    return payload


def _error_fields(raw: bytes) -> dict[str, Any]:
    """``error`` from an OpenAI error body; {} for HTML pages and other junk."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return {}
    error = payload.get("error") if isinstance(payload, dict) else None
    return error if isinstance(error, dict) else {}
