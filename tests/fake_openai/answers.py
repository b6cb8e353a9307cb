"""Answers: carrying out one scripted :class:`Outcome` on a connection, and the success body.

A success is a spec-valid ``ImagesResponse`` for the request (the fake-specific choices are in
the package docstring: GPT Image quality ``auto`` reported as ``medium``, background ``auto`` as
``opaque``, output tokens by quality and size); the other outcomes are API errors, broken
bodies and broken transports, as the constructors of :class:`Outcome` describe them.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import TYPE_CHECKING, Any, Mapping

from tests.fake_openai.edits import is_gpt_image
from tests.fake_openai.handler import Handler, error_payload, new_request_id
from tests.fake_openai.scripting import MSG_SERVER_ERROR, Outcome, render_image
from tests.fake_openai.spec import parse_size

if TYPE_CHECKING:
    from tests.fake_openai.server import FakeOpenAI

#: Output image tokens for a 1024x1024 (1048576 px) image, per quality.
OUTPUT_TOKENS_PER_MEGAPIXEL = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 7396, "max": 16640}
_MEGAPIXEL = 1_048_576
_HTML_BAD_GATEWAY = (
    "<html><head><title>{status} Bad Gateway</title></head><body>"
    "<center><h1>{status} Bad Gateway</h1></center><hr><center>cloudflare</center>"
    "</body></html>"
)
_HTML_TOO_LARGE = (
    b"<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 "
    b"Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>"
)


def act(fake: FakeOpenAI, h: Handler, outcome: Outcome, *, token: str, request: Mapping[str, Any],
        input_image_tokens: int = 0) -> None:
    """Carry out one outcome on the handler's connection."""
    kind = outcome.kind
    if kind == "error":
        headers = dict(outcome.headers)
        request_id = headers.pop("x-request-id", None)
        message = outcome.message_for(token, str(request.get("model") or "dall-e-2"))
        h.send_json(outcome.status, error_payload(message, outcome.type, outcome.param, outcome.code),
                    headers=headers, request_id=request_id)
    elif kind in ("success", "success_url"):
        delay = outcome.delay_s if outcome.delay_s is not None else fake.default_delay_s
        fake._await_rendezvous()
        if not fake._sleep(delay):
            h.reset()
            return
        payload = success_payload(fake, outcome, request, force_url=kind == "success_url",
                                  input_image_tokens=input_image_tokens)
        h.send_json(200, payload, request_id=outcome.request_id)
    elif kind == "hang":
        if not fake._sleep(outcome.seconds):
            h.reset()
            return
        h.send_json(200, success_payload(fake, Outcome.success(), request, force_url=False))
    elif kind == "broken_body":
        if outcome.status == 200:
            payload = success_payload(fake, Outcome.success(), request, force_url=False)
        else:
            payload = error_payload(MSG_SERVER_ERROR, "server_error", None, None)
        h.send_broken(outcome.status, json.dumps(payload).encode(), outcome.seconds, fake)
    else:
        _send_fixed(h, outcome)


def _send_fixed(h: Handler, outcome: Outcome) -> None:
    """The outcomes whose answer does not depend on the request: a proxy's page, bad bodies, resets."""
    kind = outcome.kind
    if kind == "html":
        page = _HTML_BAD_GATEWAY.format(status=outcome.status).encode()
        h.send_bytes(outcome.status, page, content_type="text/html")
    elif kind == "not_json":
        h.send_bytes(200, b"this is not json", headers={"x-request-id": new_request_id()})
    elif kind == "empty_data":
        h.send_json(200, {"created": int(time.time()), "data": []})
    elif kind == "bad_base64":
        h.send_json(200, {"created": int(time.time()), "data": [{"b64_json": "!!!not base64!!!"}]})
    elif kind == "not_an_image":
        fake_b64 = base64.b64encode(b"hello, not a png").decode()
        h.send_json(200, {"created": int(time.time()), "data": [{"b64_json": fake_b64}]})
    elif kind == "huge":
        h.stream_huge(outcome.nbytes)
    elif kind == "reset_connection":
        h.reset()
    elif kind == "too_large":
        h.send_bytes(413, _HTML_TOO_LARGE, content_type="text/html")
    else:  # pragma: no cover - guarded by the constructors
        raise ValueError(f"unknown outcome kind {kind!r}")


def success_payload(fake: FakeOpenAI, outcome: Outcome, request: Mapping[str, Any], *, force_url: bool,
                    input_image_tokens: int = 0) -> dict[str, Any]:
    """A spec-valid ``ImagesResponse`` for *request* (see the package docstring for choices); an edit's
    ``input_image_tokens`` are added to its usage."""
    model = str(request.get("model") or "")
    if is_gpt_image(model):
        payload = _gpt_image_response(fake, outcome, request, force_url=force_url)
    else:
        payload = _dalle3_response(fake, outcome, request, force_url=force_url)
    if input_image_tokens and "usage" in payload:
        usage = payload["usage"]
        usage["input_tokens_details"]["image_tokens"] = input_image_tokens
        usage["input_tokens"] += input_image_tokens
        usage["total_tokens"] += input_image_tokens
    return payload


def _gpt_image_response(fake: FakeOpenAI, outcome: Outcome, request: Mapping[str, Any], *,
                        force_url: bool) -> dict[str, Any]:
    prompt = str(request.get("prompt") or "")
    width, height = parse_size(request.get("size") or "auto") or (1024, 1024)
    fmt = request.get("output_format") or "png"
    background = "transparent" if request.get("background") == "transparent" else "opaque"
    quality = request.get("quality") or "auto"
    quality = "medium" if quality == "auto" else quality
    n = int(request.get("n") or 1)
    image = outcome.image or fake.default_image or render_image(width, height, fmt, background == "transparent")
    items = [_image_item(fake, image, fmt, as_url=force_url) for _ in range(n)]
    input_tokens = max(1, len(prompt) // 4)
    billed = fake.billed_quality or quality
    output_tokens = round(OUTPUT_TOKENS_PER_MEGAPIXEL[billed] * width * height / _MEGAPIXEL) * n
    payload: dict[str, Any] = {
        "created": int(time.time()),
        "data": items,
        "background": background,
        "output_format": fmt,
        "quality": quality,
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"text_tokens": input_tokens, "image_tokens": 0},
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
            "output_tokens_details": {"image_tokens": output_tokens, "text_tokens": 0},
        },
    }
    if isinstance(request.get("safety_identifier"), str) and request["safety_identifier"]:
        payload["safety_identifier"] = request["safety_identifier"]
    resolved_size = f"{width}x{height}"
    if resolved_size in ("1024x1024", "1024x1536", "1536x1024"):
        payload["size"] = resolved_size
    return payload


def _dalle3_response(fake: FakeOpenAI, outcome: Outcome, request: Mapping[str, Any], *,
                     force_url: bool) -> dict[str, Any]:
    prompt = str(request.get("prompt") or "")
    width, height = parse_size(request.get("size") or "auto") or (1024, 1024)
    # The spec's default response_format is "url".
    use_url = force_url or request.get("response_format") in (None, "url")
    image = outcome.image or fake.default_image or render_image(width, height, "png")
    item = _image_item(fake, image, "png", as_url=use_url)
    item["revised_prompt"] = outcome.revised_prompt if outcome.revised_prompt is not None else f"Revised: {prompt}"
    return {"created": int(time.time()), "data": [item]}


def _image_item(fake: FakeOpenAI, image: bytes, fmt: str, *, as_url: bool) -> dict[str, Any]:
    if not as_url:
        return {"b64_json": base64.b64encode(image).decode("ascii")}
    file_id = uuid.uuid4().hex
    with fake._lock:
        fake._files[file_id] = (image, f"image/{fmt}")
    return {"url": f"{fake.base_url}/files/{file_id}.{fmt}"}
