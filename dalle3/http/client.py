"""The HTTP client for ``POST {base}/images/generations`` and ``/images/edits`` (and ``GET {base}/models``).

One reused ``requests.Session`` (keep-alive matters when a Space serves many
people), timeouts and a byte bound that fit each call (:mod:`dalle3.http.limits`),
and every failure turned into a :mod:`dalle3.errors` class with a message for
a person. The key travels only in the ``Authorization`` header (``api-key`` for
Azure OpenAI, see :mod:`dalle3.http.deployments`) of requests to the configured base URL.

Retries: what failed before the server answered is tried again under
:class:`dalle3.http.retry.RetryPolicy`; a body that broke off is judged by the
status it came with (an error may be retried, a 200 never: that image was
made and billed). With ``on_partial`` and a model that streams, the call asks
for previews (:mod:`dalle3.http.stream`); an endpoint that does not stream (it
answers JSON, or 400 on ``stream``) is remembered per base URL and asked the
plain way from then on.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

import requests
from requests.auth import AuthBase

from dalle3 import errors
from dalle3.http import answers, body, limits, stopping, stream
from dalle3.edits.inputs import EditInputs
from dalle3.files.metadata import image_format
from dalle3.keys import own_key_problem
from dalle3.http.deployments import auth_headers, endpoint_url
from dalle3.params import GenerationRequest, edit_fields, profile_for, request_body
from dalle3.http.retry import RetryPolicy
from dalle3.settings import Settings
from dalle3.results import Preview

log = logging.getLogger("dalle3")

MAX_PREVIEWS = 3
NO_STREAM_NOTE = "This endpoint does not send previews; the image came in one piece."


MAX_IMAGES_PER_CALL = 10  # the API's largest n; a server sending more is not believed


class KeyAuth(AuthBase):
    """The key in the header the endpoint reads (``Authorization: Bearer``, or Azure's ``api-key``),
    set as requests' ``auth`` so nothing else can replace it.

    Given as a plain header, the key loses to credentials that requests finds by itself:
    ``user:password@`` in the URL or a ``~/.netrc`` entry for the host become Basic auth
    that overwrites the header, and the key is never sent. An explicit ``auth`` wins over both.
    """

    def __init__(self, key: str, base_url: str) -> None:
        self._key = key
        self._base_url = base_url

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if problem := own_key_problem(self._key):  # http.client would fail on it with a UnicodeEncodeError
            raise errors.AuthenticationError(problem)
        r.headers.update(auth_headers(self._base_url, self._key))
        return r

    def __repr__(self) -> str:
        return "KeyAuth(<hidden>)"


class NoCredentials(AuthBase):
    """No ``Authorization`` at all: an image link may be on any host, which must not get netrc or URL logins."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers.pop("Authorization", None)
        return r


@dataclass(frozen=True)
class ApiImage:
    """What the API gave back for one request: ``png`` first, ``others`` the rest of a batch."""

    png: bytes
    revised_prompt: str | None
    request_id: str | None
    usage: dict[str, Any] | None
    attempts: int
    partials: int = 0  # previews received before it
    note: str | None = None  # said once: e.g. the endpoint turned out not to stream
    others: tuple[bytes, ...] = ()

    @property
    def pngs(self) -> tuple[bytes, ...]:
        """Every image of the call, in the API's order."""
        return (self.png, *self.others)


class ImagesClient:
    """Calls the endpoint; raises :class:`dalle3.errors.DalleError` subclasses only."""

    def __init__(self, settings: Settings, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.policy = RetryPolicy(max_retries=settings.max_retries)
        if session is None:  # connections a Stop button can shut down (a caller's own session stays as given)
            session = requests.Session()
            for scheme in ("http://", "https://"):
                session.mount(scheme, stopping.StoppableAdapter())
        self.session = session
        self.session.headers["User-Agent"] = "dalle3-studio"
        self._sleep = sleep
        self._plain_only: set[str] = set()  # base URLs found not to stream
        self._lock = threading.Lock()

    def streams(self, model: str) -> bool:
        """Whether a call for ``model`` would ask for previews (the model streams, the endpoint did not refuse)."""
        with self._lock:
            plain = self.settings.base_url in self._plain_only
        return profile_for(model).streams and not plain

    def _no_streaming_here(self) -> None:
        with self._lock:
            self._plain_only.add(self.settings.base_url)
        log.info("%s does not stream images; asking without previews from now on", self.settings.base_url_shown)

    def generate(self, request: GenerationRequest, api_key: str, previews: int = 0,
                 on_partial: Callable[[Preview], None] | None = None, *, retry_after_send: bool = True) -> ApiImage:
        """One image for ``request``; with ``previews`` 1-3 and ``on_partial``, rough images on the way.

        ``retry_after_send=False``: a failure after the request may have reached the
        endpoint (read timeout, reset while waiting) is not retried, since that call
        may be billed; the error's ``abandoned`` says so (the spend cap counts it).
        """
        previews = max(0, min(MAX_PREVIEWS, previews))
        # previews follow one image: a batch (n > 1) is asked the plain way and arrives whole
        streaming = bool(previews and on_partial is not None and request.n == 1 and self.streams(request.model))
        url = endpoint_url(self.settings.base_url, "/images/generations")

        def post(streaming: bool, lim: limits.CallLimits) -> requests.Response:
            payload = request_body(request, profile_for(request.model))
            if streaming:
                payload.update(stream=True, partial_images=previews)
            return self.session.post(url, json=payload, timeout=(lim.connect_s, lim.read_s), stream=True,
                                     auth=KeyAuth(api_key, self.settings.base_url))

        return self._call(request, post, streaming, previews, on_partial, retry_after_send)

    def edit(self, request: GenerationRequest, inputs: EditInputs, api_key: str, *,
             retry_after_send: bool = True) -> ApiImage:
        """``POST {base}/images/edits`` as multipart, the files named as the ``openai`` SDK names them.

        A list of images goes as repeated ``image[]`` parts, then ``mask`` or
        ``markup``; the prepared bytes are re-sent as they are on a retry. The
        files go to the configured base URL only, like the key. No previews (an
        edit is asked the plain way); ``retry_after_send`` as for :meth:`generate`.
        """
        fields = edit_fields(request, profile_for(request.model), inputs.input_fidelity)
        files = [("image[]", (r.filename, r.data, r.mime)) for r in inputs.images]
        for name, extra in (("mask", inputs.mask), ("markup", inputs.markup)):
            if extra is not None:
                files.append((name, (f"{name}.png", extra.data, "image/png")))
        url = endpoint_url(self.settings.base_url, "/images/edits")

        def post(streaming: bool, lim: limits.CallLimits) -> requests.Response:
            return self.session.post(url, data=fields, files=files, timeout=(lim.connect_s, lim.read_s),
                                     stream=True, auth=KeyAuth(api_key, self.settings.base_url))

        try:
            return self._call(request, post, False, 0, None, retry_after_send)
        except errors.ContentPolicyError as exc:
            raise errors.ContentPolicyError(errors.EDIT_POLICY_MESSAGE, http_status=exc.http_status, code=exc.code,
                                            request_id=exc.request_id) from None

    def _call(self, request: GenerationRequest, post: Callable[[bool, limits.CallLimits], requests.Response],
              streaming: bool, previews: int, on_partial: Callable[[Preview], None] | None,
              retry_after_send: bool) -> ApiImage:
        """:meth:`_attempts`, where a Stop (see :mod:`dalle3.http.stopping`) ends as ``StoppedError``."""
        handle = stopping.current()
        try:
            return self._attempts(request, post, streaming, previews, on_partial, retry_after_send)
        except (errors.DalleError, requests.RequestException, OSError):
            if handle is not None and handle.stopped:  # the shut socket's error is the Stop, not a failure
                raise stopping.stopped_error(handle.sent) from None
            raise

    def _attempts(self, request: GenerationRequest, post: Callable[[bool, limits.CallLimits], requests.Response],
                  streaming: bool, previews: int, on_partial: Callable[[Preview], None] | None,
                  retry_after_send: bool) -> ApiImage:
        """Send with ``post`` until there are images or the retry policy says stop; errors mapped for people."""
        profile = profile_for(request.model)
        note = None
        attempt = 0
        handle = stopping.current()
        while True:
            if handle is not None:
                handle.check()  # no new attempt (nor retry) after a Stop
            attempt += 1
            lim = limits.for_call(profile, request.quality, request.size, streaming=streaming,
                                  partial_images=previews, n=request.n, timeout_s=self.settings.timeout_s,
                                  connect_s=self.settings.connect_timeout_s)
            started = time.monotonic()
            try:
                response = post(streaming, lim)
            except requests.RequestException as exc:
                if self.policy.should_retry(attempt, None) and (retry_after_send or not answers.request_was_sent(exc)):
                    self._sleep(self.policy.delay_s(attempt))
                    continue
                raise answers.network_failure(exc, self.settings.base_url, read_s=lim.read_s,
                                              attempts=attempt) from None
            with response:
                status, rid = response.status_code, response.headers.get("x-request-id")
                if streaming and status == 200 and stream.is_event_stream(response):
                    final = stream.read(response, lim, started, previews, on_partial, self.settings.base_url_shown)
                    return ApiImage(final.image, None, rid, final.usage, attempt, final.partials, note)
                try:
                    raw = body.read_all(response, lim, started + lim.deadline_s)
                except body.BodyFailure as failure:
                    if failure.kind != "too_big" and self.policy.should_retry(attempt, status):
                        log.info("HTTP %s body broke off (%s), retrying (attempt %d)", status, failure.kind, attempt)
                        self._sleep(self.policy.delay_s(attempt, response.headers))
                        continue
                    raise self._body_error(failure, response, lim, attempt, request) from None
                if status == 200:
                    if streaming:  # asked for a stream, got JSON: the endpoint ignores ``stream``
                        self._no_streaming_here()
                        note = NO_STREAM_NOTE
                    return replace(self._image(raw, response, attempt, lim, request.output_format or "png"), note=note)
                error = answers.error_fields(raw)
                if streaming and status == 400 and answers.refuses_streaming(error):
                    self._no_streaming_here()  # a refused request is not billed: asking again is safe
                    streaming, note, attempt = False, NO_STREAM_NOTE, attempt - 1
                    continue
                if self.policy.should_retry(attempt, status, error.get("code")):
                    log.info("HTTP %s from the API, retrying (attempt %d)", status, attempt)
                    self._sleep(self.policy.delay_s(attempt, response.headers))
                    continue
                raise answers.from_status(status, error, request_id=rid, base_url=self.settings.base_url,
                                          model=request.model, attempts=attempt)

    def _body_error(self, failure: body.BodyFailure, response: requests.Response, lim: limits.CallLimits,
                    attempts: int, request: GenerationRequest | None) -> errors.DalleError:
        """A body that broke off, by what broke and whether it carried a (billed) image."""
        status, rid, base = response.status_code, response.headers.get("x-request-id"), self.settings.base_url_shown
        paid = f" {stream.billing_note(rid)}" if status == 200 and request is not None else ""
        tries = f" (tried {attempts} time{'s' if attempts > 1 else ''})"
        if failure.kind == "too_big":
            return errors.BadResponseError(
                f"The API's answer was larger than {lim.max_bytes / 2**20:.0f} MB, more than this request can "
                f"return, so it was refused.{paid} Check OPENAI_BASE_URL.", http_status=status, request_id=rid)
        if failure.kind in ("stall", "deadline"):
            wait = f"sent nothing for {lim.read_s:g} s" if failure.kind == "stall" else \
                f"did not finish within {lim.deadline_s:g} s"
            return errors.RequestTimeoutError(
                f"The answer from {base} {wait} while it was being read{tries}.{paid} "
                "Try again; raise DALLE3_TIMEOUT_S if it keeps happening.", http_status=status, request_id=rid,
                abandoned=status == 200)  # an error answer is not billed
        if status != 200 and request is not None:
            return answers.from_status(status, {}, request_id=rid, base_url=base, model=request.model,
                                       attempts=attempts)
        return errors.BadResponseError(
            f"The connection to {base} broke while the answer was being read{tries}.{paid or ' Try again.'}",
            http_status=status, request_id=rid)

    def list_models(self, api_key: str, timeout_s: float = 5.0) -> list[dict[str, Any]]:
        """The models this key can use, as the endpoint lists them (no retries: a hint only)."""
        lim = limits.CallLimits(min(timeout_s, self.settings.connect_timeout_s), timeout_s, timeout_s,
                                LISTING_MAX_BYTES, LISTING_MAX_BYTES)
        try:
            response = self.session.get(endpoint_url(self.settings.base_url, "/models"), stream=True,
                                        timeout=(lim.connect_s, lim.read_s),
                                        auth=KeyAuth(api_key, self.settings.base_url))
        except requests.RequestException as exc:
            raise answers.network_failure(exc, self.settings.base_url, read_s=timeout_s, attempts=1,
                                          billable=False) from None
        with response:
            try:
                raw = body.read_all(response, lim, time.monotonic() + lim.deadline_s)
            except body.BodyFailure as failure:
                raise self._body_error(failure, response, lim, 1, None) from None
            if response.status_code != 200:
                raise answers.from_status(response.status_code, answers.error_fields(raw),
                                          request_id=response.headers.get("x-request-id"),
                                          base_url=self.settings.base_url, model=None, attempts=1)
        data = _json(raw, response).get("data")
        return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)] if isinstance(data, list) else []

    def _image(self, raw: bytes, response: requests.Response, attempts: int, lim: limits.CallLimits,
               fmt: str = "png") -> ApiImage:
        rid = response.headers.get("x-request-id")
        payload = _json(raw, response)
        data = payload.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise errors.BadResponseError(
                "The API answered but sent no image. Try again; if it repeats, the endpoint "
                "may not support this model.", http_status=200, request_id=rid)
        pngs = tuple(self._decode(item, rid, lim, fmt) for item in data[:MAX_IMAGES_PER_CALL]
                     if isinstance(item, dict))
        item = data[0]
        revised = item.get("revised_prompt")
        usage = payload.get("usage")
        return ApiImage(png=pngs[0], revised_prompt=revised if isinstance(revised, str) else None,
                        request_id=rid, usage=usage if isinstance(usage, dict) else None, attempts=attempts,
                        others=pngs[1:])

    def _decode(self, item: dict[str, Any], rid: str | None, lim: limits.CallLimits, fmt: str) -> bytes:
        """One ``data`` item's image: base64 or a link, checked to be in the format asked (``fmt``)."""
        if isinstance(item.get("b64_json"), str):
            try:
                png = base64.b64decode(item["b64_json"], validate=True)
            except (binascii.Error, ValueError):
                raise errors.BadResponseError(
                    "The API sent an image that could not be decoded (bad base64). Try again.",
                    http_status=200, request_id=rid) from None
        elif isinstance(item.get("url"), str):
            png = self._download(item["url"], rid, lim)
        else:
            raise errors.BadResponseError("The API answered without an image. Try again.",
                                          http_status=200, request_id=rid)
        if image_format(png) != fmt:
            raise errors.BadResponseError(
                f"The API sent something that is not a {fmt.upper()} image. Try again; if it repeats, "
                "check that OPENAI_BASE_URL points at an OpenAI-compatible server.", http_status=200, request_id=rid)
        return png

    def _download(self, url: str, rid: str | None, lim: limits.CallLimits) -> bytes:
        """Fetch an image URL; no Authorization header, since it may be another host."""
        lim = replace(lim, max_bytes=lim.max_image_bytes)
        try:
            response = requests.get(url, timeout=(lim.connect_s, lim.read_s), stream=True, auth=NoCredentials())
        except requests.RequestException as exc:
            raise answers.network_failure(exc, self.settings.base_url, read_s=lim.read_s, attempts=1) from None
        with response:
            try:
                raw = body.read_all(response, lim, time.monotonic() + lim.deadline_s)
            except body.BodyFailure as failure:
                raise self._body_error(failure, response, lim, 1, None) from None
            if response.status_code != 200:
                raise errors.BadResponseError(
                    f"The image link the API sent could not be fetched (HTTP {response.status_code}). Try again.",
                    http_status=response.status_code, request_id=rid)
        return raw


LISTING_MAX_BYTES = 4 * 1024 * 1024  # a model listing is a few KB


def _json(raw: bytes, response: requests.Response) -> dict[str, Any]:
    return answers.json_object(raw, status=response.status_code, request_id=response.headers.get("x-request-id"),
                               billed=False)
