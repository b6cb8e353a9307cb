"""Reading a Responses API answer: the model's text, the image tool's call, the two bills.

A ``Response`` (the plain JSON answer, or the ``response`` of a streamed
``response.completed`` event) holds ``output`` items: ``message`` (``output_text``
or ``refusal`` parts), ``image_generation_call`` (``result`` in base64,
``revised_prompt``, ``status``, and an ``error`` when moderation blocked it),
others (reasoning) skipped. ``usage`` bills the mainline model; ``tool_usage.image_gen``
bills the image tool (the shapes of the ``openai`` SDK's ``types/responses``).

Everything read is text from outside: ids are checked against a pattern, texts
bounded, the image decoded from base64 within a byte bound and checked to be the
format asked.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from dalle3 import errors
from dalle3.files.metadata import image_format
from dalle3.http.shapes import json_list, json_object, json_text

RESPONSE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_TEXT_CHARS = 100_000


@dataclass(frozen=True)
class Answer:
    """One turn's answer. ``image`` None: a text-only answer (or the image failed: see ``note``)."""

    response_id: str
    text: str = ""
    image: bytes | None = field(default=None, repr=False)
    revised_prompt: str | None = None
    usage: dict[str, Any] | None = None  # the mainline model's tokens
    tool_usage: dict[str, Any] | None = None  # the image tool's tokens (tool_usage.image_gen)
    image_calls: int = 0  # image_generation_call items (billed whether or not they finished)
    note: str | None = None  # said plainly beside the answer: a refusal, a blocked image, a cut answer
    request_id: str | None = None
    partials: int = 0
    size: str | None = None  # the size the tool used (auto resolved), when it says


def _text(value: Any) -> str | None:
    return value[:MAX_TEXT_CHARS] if isinstance(value, str) else None


def response_id(payload: dict[str, Any], rid: str | None) -> str:
    """The response's id, checked; a missing or odd id means the answer cannot be continued from."""
    value = payload.get("id")
    if not isinstance(value, str) or not RESPONSE_ID.fullmatch(value):
        raise errors.BadResponseError(
            "The API's answer had no usable response id, so the conversation could not go on from it. "
            "Check that OPENAI_BASE_URL points at an OpenAI-compatible server.", http_status=200, request_id=rid)
    return value


def failure(payload: dict[str, Any], rid: str | None) -> errors.DalleError | None:
    """The error of a ``failed`` response, said for a person; None when it did not fail."""
    if payload.get("status") != "failed":
        return None
    error = json_object(payload.get("error"))
    code = json_text(error.get("code"))
    said = errors.scrub(str(error.get("message") or "")).strip() or "no reason given"
    if code in ("content_policy_violation", "moderation_blocked", "image_content_policy_violation"):
        return errors.ContentPolicyError(
            "OpenAI's safety system stopped this turn. Rephrase it and try again; the conversation goes on "
            "from the last good turn.", http_status=200, code=code, request_id=rid)
    if code in ("insufficient_quota", "billing_hard_limit_reached"):
        return errors.QuotaExceededError(
            f"The OpenAI account behind this key is out of credit. Add credit at {errors.BILLING_URL}.",
            http_status=200, code=code, request_id=rid)
    return errors.ServerError(f"OpenAI could not finish this turn: {said}", http_status=200, code=code,
                              request_id=rid, abandoned=True)


def read(payload: dict[str, Any], rid: str | None, max_image_bytes: int, fmt: str, partials: int = 0) -> Answer:
    """The :class:`Answer` in a ``Response`` object; raises DalleError for a failed or unreadable one."""
    if (problem := failure(payload, rid)) is not None:
        raise problem
    ident = response_id(payload, rid)
    texts: list[str] = []
    notes: list[str] = []
    image, revised, size, calls = None, None, None, 0
    output = json_list(payload.get("output"))
    for item in output:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "message":
            _message(item, texts, notes)
        elif item.get("type") == "image_generation_call":
            calls += 1
            if image is None:
                image, note = _image_call(item, rid, max_image_bytes, fmt)
                revised = _text(item.get("revised_prompt"))
                size = item.get("size") if isinstance(item.get("size"), str) else None
                if note:
                    notes.append(note)
    if payload.get("status") == "incomplete":
        notes.append(_incomplete(payload))
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else None
    tool_usage = json_object(payload.get("tool_usage"))
    image_gen = tool_usage.get("image_gen") if isinstance(tool_usage.get("image_gen"), dict) else None
    return Answer(response_id=ident, text="\n\n".join(texts), image=image, revised_prompt=revised, usage=usage,
                  tool_usage=image_gen, image_calls=calls, note=" ".join(notes) or None, request_id=rid,
                  partials=partials, size=size)


def _message(item: dict[str, Any], texts: list[str], notes: list[str]) -> None:
    for part in json_list(item.get("content")):
        if not isinstance(part, dict):
            continue
        if part.get("type") == "output_text" and (text := _text(part.get("text"))):
            texts.append(text)
        elif part.get("type") == "refusal" and (text := _text(part.get("refusal"))):
            notes.append(f"The model declined: {text}")


def _image_call(item: dict[str, Any], rid: str | None, max_bytes: int, fmt: str) -> tuple[bytes | None, str | None]:
    """The call's image, or (None, why there is none)."""
    error = item.get("error") if isinstance(item.get("error"), dict) else None
    if item.get("status") == "failed" or error:
        code = error.get("code") if error else None
        if code == "moderation_blocked" or (error and error.get("type") == "image_generation_user_error"):
            return None, "OpenAI's safety system blocked the image; the text answer stands. Rephrase and try again."
        said = errors.scrub(str((error or {}).get("message") or "")).strip() or "no reason given"
        return None, f"The image could not be made: {said}"
    encoded = item.get("result")
    if not isinstance(encoded, str) or not encoded:
        return None, "The image tool answered without an image."
    if len(encoded) > max_bytes * 4 // 3 + 4:
        raise errors.BadResponseError("The API sent an image larger than the requested size can be. "
                                      "It may still be billed.", http_status=200, request_id=rid)
    try:
        image = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        image = b""
    if image_format(image) != fmt:
        raise errors.BadResponseError(
            f"The image tool sent something that is not a {fmt.upper()} image. It may still be billed; "
            "check that OPENAI_BASE_URL points at an OpenAI-compatible server.", http_status=200, request_id=rid)
    return image, None


def _incomplete(payload: dict[str, Any]) -> str:
    details = json_object(payload.get("incomplete_details"))
    reason = details.get("reason")
    if reason == "content_filter":
        return "OpenAI's content filter cut the answer short."
    if reason == "max_output_tokens":
        return "The answer was cut short (it reached its length limit)."
    return "The answer is incomplete."
