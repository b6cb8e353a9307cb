"""``/chat`` on the HTTP API and as an MCP tool: one turn in, the answer and its image out.

An empty ``conversation`` starts one; the facts carry its id to continue with.
Where the library is on, conversations are everyone's (page and API alike);
where it is off, API conversations belong to API callers as a group and are
continued by id only (96 random bits, never listed to anyone): a page visitor's
own conversations are not reachable from here.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from dalle3 import DalleError, safety
from dalle3.chat.models import choose
from dalle3.chat.request import DEFAULT_IMAGE_MODEL, ToolSettings
from dalle3.chat.store import SHARED, check_id
from dalle3.chat.turn import Chat, TurnAsk, TurnResult
from dalle3.http.discovery import Discovery
from dalle3.errors import ValidationError
from dalle3.edits.references import read_file
from dalle3.views.status import inert
from ui.api import KEY_HEADER, _endpoint, _inputs, _source
from dalle3.run import Source
from ui.sessions import forget_api_only_session

API_OWNER = "api"
ARGUMENTS: dict[str, str] = {
    "text": "What to say: a new picture, a change to the last one, or a question (required).",
    "conversation": "The id of the conversation to continue (from an earlier answer's facts); empty: a new one.",
    "from_turn": "Continue from this turn number (a new branch); empty: the last good turn.",
    "model": "The mainline model that talks and calls the image tool (empty: the conversation's, or "
             "DALLE3_CHAT_MODEL).",
    "image_model": f"The image tool's model, a GPT Image model (empty: the conversation's, or {DEFAULT_IMAGE_MODEL}).",
    "quality": "The image's quality, one the image model takes (empty: the image model's default).",
    "size": "The image's size: a preset, auto or WIDTHxHEIGHT the image model takes (empty: the default).",
    "background": "auto, opaque or transparent (empty: the default).",
    "moderation": "auto or low (empty: the default).",
    "complexity": "gpt-image-2.6 models: low, medium or high (empty: the default).",
    "output_format": "png, webp or jpeg (empty: png).",
    "output_compression": "0-100, jpeg and webp only (empty: 100).",
    "input_fidelity": "high or low, where the image model takes it (empty: omitted).",
    "action": "auto, generate or edit (empty: auto).",
    "mask": "A mask on the first image: transparent (or painted white) where it may change.",
    "images": "Images to start from or show the model (files or data:image/...;base64 URLs).",
}
RETURNS = ("\nReturns:\n    The turn's image (none for a text-only answer) with its settings embedded, the answer as "
           "text, and a JSON object: conversation (the id to continue with), turn, parent, answer, "
           "revised_prompt, note, response_id, cost_usd, cost_exact, backend, file.\n")
_SETTING_NAMES = ("image_model", "quality", "size", "background", "moderation", "complexity", "output_format",
                  "output_compression", "input_fidelity", "action")


def facts(result: TurnResult) -> dict[str, Any]:
    record = result.record
    return {"conversation": result.conversation.id, "turn": record.number, "parent": record.parent,
            "answer": record.answer, "revised_prompt": record.revised_prompt, "note": record.note,
            "response_id": record.response_id, "cost_usd": round(result.bill.total.usd, 6),
            "cost_exact": not result.bill.total.estimate, "backend": result.backend,
            "file": record.image}


def _bytes(source: Source, what: str) -> bytes:
    return source if isinstance(source, bytes) else read_file(source, what)


def _turn_number(value: Any) -> int | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise ValidationError("from_turn must be a turn number such as 2, or empty.")
    return int(text)


def wire_chat_api(chat: Chat, discovery: Discovery, *, host: str, shared: bool, demo: gr.Blocks) -> None:
    """The ``/chat`` endpoint (and MCP tool ``chat``); errors as ``gr.Error`` with the plain message."""
    settings = chat.studio.settings
    owner = SHARED if shared else API_OWNER

    def answer(*values: Any) -> tuple[str | None, str, dict[str, Any]]:
        *raw, request = values
        try:
            given = dict(zip(ARGUMENTS, raw))
            key = (request.headers.get(KEY_HEADER) or "").strip() if request is not None else ""
            if given.get("conversation"):
                conversation = chat.store.get(check_id(given["conversation"]), owner)
                if conversation is None:
                    raise ValidationError("No such conversation here; leave conversation empty to start one.")
            else:
                listing = discovery.peek(key or settings.api_key or "")
                model = given.get("model") or choose(listing.chat if listing else None, settings.chat_model)[0]
                conversation = chat.start(owner=owner, settings=ToolSettings(), chat_model=model,
                                          title=str(given.get("text") or ""))
            changed = {n: given[n] for n in _SETTING_NAMES if given.get(n) not in (None, "")}
            tool = ToolSettings.from_dict({**conversation.settings.as_dict(), **changed, "partial_images": 0})
            images = given.get("images") or []
            images = images if isinstance(images, list) else [images]
            ask = TurnAsk(
                conversation_id=conversation.id, owner=owner, text=given.get("text") or "", settings=tool,
                chat_model=given.get("model") or None, parent=_turn_number(given.get("from_turn")),
                images=tuple(_bytes(_source(item, f"Image {i + 1}"), "image")
                             for i, item in enumerate(images[:16])),
                mask=_bytes(_source(given["mask"], "The mask"), "mask") if given.get("mask") else None,
                own_key=key or None,
                safety_identifier=safety.identifier_for(settings, host, request.session_hash if request else None))
            result = chat.turn(ask)
            return (str(result.image_path) if result.image_path else None, inert(result.record.answer),
                    facts(result))
        except DalleError as exc:
            raise gr.Error(exc.user_message, title=exc.title, print_exception=False) from None
        finally:
            forget_api_only_session(demo, request)

    endpoint = _endpoint(ARGUMENTS, answer,
                         "One turn of a conversation with an image (OpenAI's Responses API and its image tool): "
                         "returns the answer, the image it made (if any) and the conversation id to continue.",
                         RETURNS)
    endpoint.__name__ = "chat"
    with gr.Column(visible=False):
        inputs = _inputs(list(ARGUMENTS))
        outputs = [gr.Image(type="filepath", format="png", label="image"), gr.Markdown(label="answer"),
                   gr.JSON(label="facts")]
        trigger = gr.Button(visible=False)
    trigger.click(endpoint, [inputs[n] for n in ARGUMENTS], outputs, api_name="chat", preprocess=False,
                  concurrency_id="chat", concurrency_limit=settings.concurrency)
