"""The HTTP call of one turn: ``POST {base}/responses``, plain or streamed.

Shares the images client's ``requests.Session`` and pieces (timeouts and byte
bounds from :mod:`dalle3.http.limits`, the body reader, the error mapping). Retried
only where nothing can have been billed: a connection that never opened, an
error answer the policy retries (429, 5xx), a 400 refusing ``stream`` (asked
again plainly). Once the endpoint has the turn, it is never sent again.

Two endpoint shapes cannot hold a conversation and are remembered per base URL
(said once, then answered without a call): no ``/responses`` at all (404 on the
route), and one that does not keep responses (``store: false`` behaviour: it
cannot find the previous response a turn continues from).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from dalle3 import errors
from dalle3.http import body, limits
from dalle3.chat import answer, request, stream
from dalle3.http.answers import (error_fields, from_status, json_object, network_failure, refuses_streaming,
                                 request_was_sent)
from dalle3.http.client import KeyAuth
from dalle3.params import profile_for
from dalle3.http.retry import RetryPolicy
from dalle3.settings import Settings
from dalle3.http.stream import billing_note, is_event_stream
from dalle3.results import Preview

log = logging.getLogger("dalle3")

NO_RESPONSES = ("{base} has no /responses endpoint, so conversations cannot run there. The Chat tab needs an "
                "endpoint with OpenAI's Responses API and its image_generation tool (api.openai.com has both); "
                "the Studio tab works as before.")
NO_STORE = ("{base} does not keep earlier answers (it behaves as store: false), so a turn cannot continue from "
            "one. Start a new conversation for each request there, or use an endpoint that keeps responses "
            "(api.openai.com keeps them for 30 days).")


class EndpointUnsuitable(errors.BadRequestError):
    """The endpoint cannot hold a conversation (no /responses, or it keeps no responses)."""

    title = "This endpoint cannot hold a conversation"


class ResponsesClient:
    """Calls ``/responses``; raises :class:`dalle3.errors.DalleError` subclasses only."""

    def __init__(self, settings: Settings, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.policy = RetryPolicy(max_retries=settings.max_retries)
        self.session = session or requests.Session()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._plain_only: set[str] = set()
        self._no_responses: set[str] = set()
        self._no_store: set[str] = set()

    def problem(self) -> str | None:
        """Why this endpoint cannot hold a conversation, once found; None when it can (or is untried)."""
        base = self.settings.base_url
        with self._lock:
            if base in self._no_responses:
                return NO_RESPONSES.format(base=self.settings.base_url_shown)
            if base in self._no_store:
                return NO_STORE.format(base=self.settings.base_url_shown)
        return None

    def send(self, turn: request.Turn, api_key: str, on_partial: Callable[[Preview], None] | None = None
             ) -> answer.Answer:
        """The answer to ``turn``; previews to ``on_partial`` when the turn asks for them and the endpoint streams."""
        self._refuse_known(turn)
        base = self.settings.base_url
        with self._lock:
            plain = base in self._plain_only
        streaming = bool(turn.previews and on_partial is not None and not plain)
        url = f"{base}/responses"
        attempt = 0
        while True:
            attempt += 1
            lim = self._limits(turn, streaming)
            started = time.monotonic()
            try:
                response = self.session.post(url, json=request.body(turn, streaming), stream=True,
                                             timeout=(lim.connect_s, lim.read_s), auth=KeyAuth(api_key, base))
            except requests.RequestException as exc:
                if self.policy.should_retry(attempt, None) and not request_was_sent(exc):
                    self._sleep(self.policy.delay_s(attempt))
                    continue
                raise network_failure(exc, base, read_s=lim.read_s, attempts=attempt) from None
            with response:
                outcome = self._answer(response, turn, lim, started, streaming, on_partial, attempt)
            if outcome == "plain":
                streaming, attempt = False, attempt - 1
                continue
            if outcome == "retry":
                continue
            assert isinstance(outcome, answer.Answer)  # the two words above are the only other outcomes
            return outcome

    def _answer(self, response: requests.Response, turn: request.Turn, lim: limits.CallLimits, started: float,
                streaming: bool, on_partial: Callable[[Preview], None] | None, attempt: int
                ) -> answer.Answer | str:
        status, rid = response.status_code, response.headers.get("x-request-id")
        fmt = turn.image.output_format or "png"
        if status == 200 and is_event_stream(response):
            return stream.read(response, lim, started, turn.previews if streaming else 0, on_partial,
                               self.settings.base_url_shown, fmt)
        try:
            raw = body.read_all(response, lim, started + lim.deadline_s)
        except body.BodyFailure as failure:
            if status != 200 and failure.kind != "too_big" and self.policy.should_retry(attempt, status):
                return "retry"
            raise _cut(failure, status, rid, self.settings.base_url_shown) from None
        if status == 200:
            if streaming:
                with self._lock:
                    self._plain_only.add(self.settings.base_url)
            return answer.read(json_object(raw, status=200, request_id=rid, billed=True), rid, lim.max_image_bytes, fmt)
        error = error_fields(raw)
        if streaming and status == 400 and refuses_streaming(error):
            with self._lock:
                self._plain_only.add(self.settings.base_url)
            return "plain"
        if unsuitable := self._unsuitable(status, error, turn, rid):
            raise unsuitable
        if self.policy.should_retry(attempt, status, error.get("code")):
            self._sleep(self.policy.delay_s(attempt, response.headers))
            return "retry"
        raise _refused(status, error, rid, self.settings.base_url, turn, attempt)

    def _unsuitable(self, status: int, error: dict[str, Any], turn: request.Turn, rid: str | None
                    ) -> EndpointUnsuitable | None:
        """No /responses (404 without a model complaint), or no stored previous response."""
        base, said = self.settings.base_url, str(error.get("message") or "").lower()
        if status == 404 and error.get("code") != "model_not_found" and "model" not in said \
                and "previous" not in said:
            with self._lock:
                self._no_responses.add(base)
            log.warning("%s has no /responses endpoint; conversations are unavailable there",
                        self.settings.base_url_shown)
            return EndpointUnsuitable(NO_RESPONSES.format(base=self.settings.base_url_shown), http_status=status,
                                      request_id=rid, abandoned=False)
        if turn.previous_response_id and status in (400, 404) and (
                error.get("code") == "previous_response_not_found" or error.get("param") == "previous_response_id"):
            with self._lock:
                self._no_store.add(base)
            return EndpointUnsuitable(NO_STORE.format(base=self.settings.base_url_shown), http_status=status,
                                      code=error.get("code") if isinstance(error.get("code"), str) else None,
                                      request_id=rid, abandoned=False)
        return None

    def _refuse_known(self, turn: request.Turn) -> None:
        base = self.settings.base_url
        with self._lock:
            known_no_responses = base in self._no_responses
            known_no_store = base in self._no_store and bool(turn.previous_response_id)
        if known_no_responses or known_no_store:
            raise EndpointUnsuitable(self.problem() or "", abandoned=False)

    def _limits(self, turn: request.Turn, streaming: bool) -> limits.CallLimits:
        profile = profile_for(turn.image.model)
        # a streamed answer repeats the final image (the output item and the completed response)
        extra = turn.previews + 2 if streaming else 0
        return limits.for_call(profile, turn.image.quality, turn.image.size, streaming=streaming,
                               partial_images=extra, timeout_s=self.settings.timeout_s,
                               connect_s=self.settings.connect_timeout_s)


def _refused(status: int, error: dict[str, Any], rid: str | None, base: str, turn: request.Turn,
             attempts: int) -> errors.DalleError:
    """An error answer (not billed), worded for a conversation."""
    mapped = from_status(status, error, request_id=rid, base_url=base, model=turn.chat_model, attempts=attempts)
    if isinstance(mapped, errors.ModelUnavailableError):
        return errors.BadRequestError(
            f"This endpoint does not offer {turn.chat_model} (or the image model {turn.image.model}) for "
            "conversations. Choose another model in the conversation's settings.", http_status=status,
            code=mapped.code, request_id=rid, abandoned=False)
    return mapped


def _cut(failure: body.BodyFailure, status: int, rid: str | None, base: str) -> errors.DalleError:
    paid = f" {billing_note(rid)}" if status == 200 else " Try again."
    if failure.kind in ("stall", "deadline"):
        return errors.RequestTimeoutError(f"The answer from {base} stopped coming while it was being read.{paid}",
                                          http_status=status, request_id=rid, abandoned=status == 200)
    return errors.BadResponseError(f"The connection to {base} broke while the answer was being read.{paid}",
                                   http_status=status, request_id=rid, abandoned=status == 200)


