"""The fake's ``POST /v1/responses``: a mainline model with the ``image_generation`` tool.

Checked like the images routes: auth, JSON, then the ``openai`` SDK's own
``ResponseCreateParams`` types (``tests/sdk_check.py``), then the image tool's
per-model rules (the images route's checks, on the tool's fields), then
``previous_response_id`` against the responses this fake has kept. Only then is
a scripted :class:`~tests.fake_openai.scripting.Outcome` consumed (the images routes' queue).

Fake-specific choices (tests rely on them):

* A turn whose text ends with ``?`` gets a text answer only; any other turn calls
  the image tool once, with ``revised_prompt`` "Revised: <text>" and the answer
  text "Here is your image: <text>". The image is the images route's (the size
  asked, ``auto`` as 1024x1024).
* Bills: the mainline model reads the whole conversation again, ``input_tokens``
  = the previous response's input + output tokens (all ``cached_tokens``) +
  ``len(text) // 4`` (at least 1) + 1000 per input image, ``output_tokens`` =
  20 + ``len(answer) // 4``. The image tool's ``tool_usage.image_gen`` is the
  images route's bill (output tokens by quality and size, +100 per partial image when streamed).
* :attr:`ResponsesState.mode` ``"absent"`` answers 404 (no such route), as an
  endpoint without the Responses API; :attr:`ResponsesState.keep` False keeps
  no response, so chaining gets 400 ``previous_response_not_found`` (``store: false``).
* Streamed (``stream: true``): ``response.created``, the partial images
  (spread over the delay as on the images route), ``response.output_item.done``,
  ``response.output_text.delta``, ``response.completed`` — one chunk each, with
  ``sequence_number``. The images route's stream faults apply (reset, malformed,
  error event, stall, truncated) after ``nbytes`` partial images; two more outcomes:
  :func:`failed_response` (``response.failed`` / a failed plain answer) and
  :func:`image_blocked` (the tool call ``failed`` with ``moderation_blocked``).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dalle3.http.shapes import json_list

from tests.fake_openai import stream
from tests.fake_openai.answers import act, success_payload
from tests.fake_openai.handler import Handler, error_payload
from tests.fake_openai.scripting import Outcome, SeenRequest
from tests.fake_openai.spec import bad_request, check_gpt_image
from tests.sdk_check import responses_params_problem

if TYPE_CHECKING:
    from tests.fake_openai.server import FakeOpenAI

PATH = "/v1/responses"
IMAGE_INPUT_TOKENS = 1000


@dataclass
class ResponsesState:
    """Per fake: what it serves and what it kept (set ``mode``/``keep`` any time)."""

    mode: str = "on"  # "on" | "absent"
    keep: bool = True
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def state(fake: FakeOpenAI) -> ResponsesState:
    """The fake's responses state (made on first use)."""
    with fake._lock:
        if getattr(fake, "_responses", None) is None:
            fake._responses = ResponsesState()  # type: ignore[attr-defined]
        return fake._responses  # type: ignore[attr-defined]


def failed_response(code: str = "server_error", message: str = "The model could not finish.") -> Outcome:
    return Outcome("response_failed", code=code, message=message)


def image_blocked() -> Outcome:
    return Outcome("image_blocked")


def handle(fake: FakeOpenAI, h: Handler, raw: bytes, body: Any, seen: SeenRequest) -> None:
    """Answer one ``POST /v1/responses``."""
    st = state(fake)
    with st.lock:
        st.requests.append(seen)
    if st.mode == "absent":
        h.send_json(404, error_payload(f"Invalid URL (POST {PATH})", "invalid_request_error", None, None))
        return
    token = fake._bearer(seen.headers)
    rejection = None
    if token is None:
        rejection = Outcome.error(401, None, "You didn't provide an API key.")
    elif not isinstance(body, dict):
        rejection = bad_request(None, "We could not parse the JSON body of your request.", None)
    elif (problem := responses_params_problem(body)) is not None:
        rejection = bad_request(problem.param, problem.message, problem.code)
    else:
        tool = _image_tool(body)
        if tool is not None:
            fields = {k: v for k, v in tool.items() if k not in ("type", "action", "partial_images", "model",
                                                                 "input_image_mask", "input_fidelity")}
            rejection = check_gpt_image(str(tool.get("model") or "gpt-image-2.6-sunburst"),
                                         {**fields, "prompt": _text(body)})
        previous = body.get("previous_response_id")
        if rejection is None and previous is not None:
            with st.lock:
                known = previous in st.stored
            if not known:
                rejection = Outcome.error(400, "previous_response_not_found",
                                          f"Previous response with id '{previous}' not found.",
                                          param="previous_response_id")
    if rejection is not None:
        act(fake, h, rejection, token=token or "", request={})
        return
    outcome = fake._next_outcome()
    if outcome.kind == "error":
        act(fake, h, outcome, token=token or "", request={})
        return
    if outcome.kind == "reset_connection":
        h.reset()
        return
    response = _response(fake, body, outcome)
    if outcome.kind != "response_failed" and st.keep:
        with st.lock:
            st.stored[response["id"]] = response
    if body.get("stream") is True:
        _stream(fake, h, body, outcome, response)
    else:
        if not fake._sleep(outcome.delay_s if outcome.delay_s is not None else fake.default_delay_s):
            h.reset()
            return
        h.send_json(200, response, request_id=outcome.request_id)


def _image_tool(body: Mapping[str, Any]) -> dict[str, Any] | None:
    tools = body.get("tools") or []
    return next((t for t in tools if isinstance(t, dict) and t.get("type") == "image_generation"), None)


def _text(body: Mapping[str, Any]) -> str:
    """The turn's text: a string input, or the input_text parts of the last message."""
    given = body.get("input")
    if isinstance(given, str):
        return given
    texts = [part.get("text", "") for item in (given if isinstance(given, list) else []) if isinstance(item, dict)
             for part in json_list(item.get("content"))
             if isinstance(part, dict) and part.get("type") == "input_text"]
    return " ".join(texts)


def _input_images(body: Mapping[str, Any]) -> int:
    given = body.get("input")
    return sum(1 for item in given or [] if isinstance(item, dict) and isinstance(item.get("content"), list)
               for part in item["content"] if isinstance(part, dict) and part.get("type") == "input_image")


def _response(fake: FakeOpenAI, body: Mapping[str, Any], outcome: Outcome) -> dict[str, Any]:
    """The whole ``Response`` object for this turn (status completed, or failed for that outcome)."""
    text = _text(body)
    st = state(fake)
    with st.lock:
        previous = st.stored.get(body.get("previous_response_id") or "")
    context = (previous["usage"]["input_tokens"] + previous["usage"]["output_tokens"]) if previous else 0
    tool = _image_tool(body)
    output: list[dict[str, Any]] = []
    image_gen = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
                 "input_tokens_details": {"image_tokens": 0, "text_tokens": 0},
                 "output_tokens_details": {"image_tokens": 0, "text_tokens": 0}}
    if tool is not None and not text.rstrip().endswith("?"):
        call, image_gen = _image_call(fake, tool, text, outcome, body.get("stream") is True)
        output.append(call)
        reply = f"Here is your image: {text}"
    else:
        reply = f"You asked: {text}"
    output.append({"id": f"msg_{uuid.uuid4().hex}", "type": "message", "role": "assistant", "status": "completed",
                   "content": [{"type": "output_text", "text": reply, "annotations": []}]})
    tokens_in = context + max(1, len(text) // 4) + IMAGE_INPUT_TOKENS * _input_images(body)
    tokens_out = 20 + len(reply) // 4
    response: dict[str, Any] = {
        "id": f"resp_{uuid.uuid4().hex}", "object": "response", "created_at": time.time(), "status": "completed",
        "model": body.get("model"), "output": output, "parallel_tool_calls": True, "tool_choice": "auto",
        "tools": body.get("tools") or [], "previous_response_id": body.get("previous_response_id"),
        "error": None, "incomplete_details": None,
        "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out, "total_tokens": tokens_in + tokens_out,
                  "input_tokens_details": {"cached_tokens": context, "cache_write_tokens": 0},
                  "output_tokens_details": {"reasoning_tokens": 0}},
        "tool_usage": {"image_gen": image_gen, "web_search": {"num_requests": 0}},
    }
    if outcome.kind == "response_failed":
        response.update(status="failed", output=[], error={"code": outcome.code, "message": outcome.message})
    return response


def _image_call(fake: FakeOpenAI, tool: Mapping[str, Any], text: str, outcome: Outcome, streamed: bool
                ) -> tuple[dict[str, Any], dict[str, Any]]:
    request = {**{k: v for k, v in tool.items() if k not in ("type", "action", "partial_images")},
               "prompt": text, "model": tool.get("model") or "gpt-image-2.6-sunburst", "n": 1}
    payload = success_payload(fake, Outcome.success(image=outcome.image), request, force_url=False)
    usage = payload["usage"]
    partials = int(tool.get("partial_images") or 0) if streamed else 0  # previews are made only when streamed
    usage["output_tokens"] += stream.PARTIAL_TOKENS * partials
    usage["output_tokens_details"]["image_tokens"] += stream.PARTIAL_TOKENS * partials
    usage["total_tokens"] += stream.PARTIAL_TOKENS * partials
    call: dict[str, Any] = {"id": f"ig_{uuid.uuid4().hex}", "type": "image_generation_call", "status": "completed",
                            "action": tool.get("action") or "generate", "background": payload["background"],
                            "output_format": payload["output_format"], "quality": payload["quality"],
                            "size": stream.answer_size(request, payload), "revised_prompt": f"Revised: {text}",
                            "result": payload["data"][0]["b64_json"]}
    if outcome.kind == "image_blocked":
        call.update(status="failed", result=None, error={
            "code": "moderation_blocked", "type": "image_generation_user_error",
            "message": "Your request was rejected by the safety system."})
    return call, usage


def _stream(fake: FakeOpenAI, h: Handler, body: Mapping[str, Any], outcome: Outcome,
            response: dict[str, Any]) -> None:
    """The turn as events, on the images stream's schedule and with its faults."""
    tool = _image_tool(body) or {}
    call = next((item for item in response["output"] if item["type"] == "image_generation_call"), None)
    partials = int(tool.get("partial_images") or 0) if call and call.get("result") else 0
    delay = outcome.delay_s if outcome.delay_s is not None else fake.default_delay_s
    step = delay / (partials + 1)
    fault_after = outcome.nbytes if outcome.kind in stream.FAULTS else None
    sequence = iter(range(10_000))
    try:
        stream.start_event_stream(h, outcome.request_id)
        _send(h, "response.created", {"response": {**response, "status": "in_progress", "output": []}}, sequence)
        started = h.started
        for index in range(partials + 1):
            if index == fault_after:
                if stream.carry_out_fault(fake, h, outcome):
                    return
                started += outcome.seconds if outcome.kind == "stream_stall" else 0.0
            if not fake._sleep(started + step * (index + 1) - time.monotonic()):
                h.reset()
                return
            if index < partials and call is not None:
                _send(h, "response.image_generation_call.partial_image", {
                    "item_id": call["id"], "output_index": 0, "partial_image_b64": call["result"],
                    "partial_image_index": index, "size": call["size"], "quality": call["quality"],
                    "background": call["background"], "output_format": call["output_format"]}, sequence)
        for item in response["output"]:
            _send(h, "response.output_item.done", {"item": item, "output_index": 0}, sequence)
        text = response["output"][-1]["content"][0]["text"] if response["output"] else ""
        if text:
            _send(h, "response.output_text.delta", {"delta": text, "item_id": "msg", "output_index": 0,
                                                    "content_index": 0, "logprobs": []}, sequence)
        final = "response.failed" if response["status"] == "failed" else "response.completed"
        _send(h, final, {"response": response}, sequence)
        stream.end_stream(h)
    except OSError:
        h.close_connection = True


def _send(h: Handler, kind: str, data: dict[str, Any], sequence: Any) -> None:
    stream.send_event(h, kind, json.dumps({"type": kind, "sequence_number": next(sequence), **data}))


def image_of(response: Mapping[str, Any]) -> bytes | None:
    """The image a kept response carries (for tests)."""
    call = next((i for i in response.get("output", []) if i.get("type") == "image_generation_call"), None)
    return base64.b64decode(call["result"]) if call and call.get("result") else None
