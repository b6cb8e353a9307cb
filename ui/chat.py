"""The Chat tab: talk to an image through the Responses API's image tool.

Layout (:func:`layout_chat`) and wiring (:func:`wire_chat`) only; what is shown is
computed in :mod:`dalle3.chat.view`, turns run in :mod:`dalle3.chat.turn`. The
conversation survives a reload and a restart: it is kept on disk, and the
browser keeps a random token (``gr.BrowserState``) that says whose it is where
the library is off (a visitor sees only their own).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from typing import Any, Iterator

import gradio as gr
from PIL import Image

from dalle3 import DalleError, safety
from dalle3.chat import view
from dalle3.chat.models import choose
from dalle3.chat.request import ACTIONS, DEFAULT_IMAGE_MODEL, MAX_PREVIEWS, ToolSettings
from dalle3.chat.store import SHARED, Conversation, owner_for
from dalle3.chat.turn import Chat, TurnAsk, TurnResult
from dalle3.discovery import Discovery
from dalle3.edits import mask_from_painting
from dalle3.live import live_call
from dalle3.metadata import read_parameters
from dalle3.model_table import CHAT_MODELS
from dalle3.models import MODELS
from dalle3.params import profile_for
from dalle3.results import Preview
from dalle3.status import inert
from ui.edit import _painted
from ui.wiring import PRIVATE, Updates

IMAGE_MODELS = [m for m, p in MODELS.items() if p.billing == "tokens" and p.lifecycle != "retired"]
DEFAULT = ""  # a setting left to the image model's default
NEEDS = ("Conversations use OpenAI's Responses API (`POST /responses`) with a mainline model and the "
         "`image_generation` tool; the endpoint must keep responses so each turn can continue from the last.")


@dataclass(frozen=True)
class ChatControls:
    notice: gr.Markdown
    conversation: gr.Dropdown
    new: gr.Button
    chatbot: gr.Chatbot
    continue_from: gr.Dropdown
    branches: gr.Markdown
    text: gr.Textbox
    send: gr.Button
    cost: gr.Markdown
    settings: dict[str, gr.components.Component]
    editor: gr.ImageEditor
    start: gr.Accordion
    sources: gr.Row
    current: gr.State

    @property
    def setting_inputs(self) -> list[gr.components.Component]:
        return list(self.settings.values())


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [("model's default", DEFAULT), *((v, v) for v in values)]


def layout_chat(settings: Any) -> ChatControls:
    """The tab's components; call inside ``gr.Tab``."""
    p = profile_for(DEFAULT_IMAGE_MODEL)
    notice = gr.Markdown(NEEDS if settings.simulated is False else
                         "Offline simulator: each turn draws a stand-in picture at no cost. " + NEEDS,
                         elem_id="chat_notice")
    with gr.Row():
        conversation = gr.Dropdown([], label="Conversation", scale=4, elem_id="chat_conversation")
        new = gr.Button("New conversation", scale=1, elem_id="chat_new")
    with gr.Row(equal_height=False):
        with gr.Column(scale=6):
            chatbot = gr.Chatbot(label="Conversation", height=560, render_markdown=False, elem_id="chat_view",
                                 buttons=["copy"])
            with gr.Row():
                text = gr.Textbox(label="Your turn", placeholder="a fox in snow · now stormier · why a boat?",
                                  lines=2, scale=5, elem_id="chat_text")
                send = gr.Button("Send", variant="primary", scale=1, elem_id="chat_send")
            cost = gr.Markdown(elem_id="chat_cost")
        with gr.Column(scale=4):
            continue_from = gr.Dropdown(view.turn_choices(None), value=view.LATEST, label="Continue from",
                                        info="an earlier turn starts a new branch", elem_id="chat_from")
            branches = gr.Markdown(elem_id="chat_branches")
            with gr.Accordion("Image tool settings (this conversation; changeable per turn)", open=False):
                fields = dict(
                    chat_model=gr.Dropdown(list(dict.fromkeys([settings.chat_model, *CHAT_MODELS])),
                                           value=settings.chat_model, allow_custom_value=True,
                                           label="Mainline model", elem_id="chat_model"),
                    image_model=gr.Dropdown(IMAGE_MODELS, value=DEFAULT_IMAGE_MODEL, label="Image model",
                                            elem_id="chat_image_model"),
                    quality=gr.Dropdown(_choices(p.qualities), value=DEFAULT, label="Quality"),
                    size=gr.Dropdown(_choices(p.sizes), value=DEFAULT, label="Size", allow_custom_value=True),
                    background=gr.Dropdown(_choices(p.extras.get("background", ())), value=DEFAULT,
                                           label="Background"),
                    moderation=gr.Dropdown(_choices(p.extras.get("moderation", ())), value=DEFAULT,
                                           label="Moderation"),
                    complexity=gr.Dropdown(_choices(p.extras.get("complexity", ())), value=DEFAULT,
                                           label="Complexity", visible="complexity" in p.extras),
                    output_format=gr.Dropdown(_choices(p.output_formats), value=DEFAULT, label="Output format"),
                    output_compression=gr.Slider(0, 100, value=100, step=1, label="Compression (jpeg, webp)"),
                    input_fidelity=gr.Dropdown(_choices(p.input_fidelity), value=DEFAULT, label="Input fidelity",
                                               visible=bool(p.input_fidelity)),
                    action=gr.Radio(list(ACTIONS), value="auto", label="Action"),
                    partial_images=gr.Slider(0, MAX_PREVIEWS, value=1, step=1, label="Previews"))
            with gr.Accordion("Start from an image (sent with the next turn)", open=False) as start:
                editor = gr.ImageEditor(type="pil", format="png", sources=("upload", "clipboard"), transforms=(),
                                        layers=False, label="An image; paint the area that may change (optional)",
                                        brush=gr.Brush(colors=["#ffffff"], default_color="#ffffff"),
                                        elem_id="chat_editor")
            sources = gr.Row()
    return ChatControls(notice, conversation, new, chatbot, continue_from, branches, text, send, cost, fields,
                        editor, start, sources, gr.State(None))


def _tool_settings(cc: ChatControls, data: dict) -> ToolSettings:
    s = cc.settings
    fmt = data[s["output_format"]]
    return ToolSettings(
        image_model=data[s["image_model"]], quality=data[s["quality"]] or "", size=data[s["size"]] or "",
        background=data[s["background"]] or "", moderation=data[s["moderation"]] or "",
        complexity=data[s["complexity"]] or "", output_format=fmt or "",
        output_compression=int(data[s["output_compression"]]) if fmt in ("jpeg", "webp") else None,
        input_fidelity=data[s["input_fidelity"]] or "", action=data[s["action"]] or "auto",
        partial_images=int(data[s["partial_images"]] or 0))


def _settings_updates(cc: ChatControls, chosen: ToolSettings) -> Updates:
    """The settings controls for ``chosen``'s image model, showing ``chosen``'s values."""
    p = profile_for(chosen.image_model)
    s = cc.settings
    return {
        s["image_model"]: gr.update(value=p.id),
        s["quality"]: gr.update(choices=_choices(p.qualities), value=chosen.quality if chosen.quality in p.qualities
                                else DEFAULT),
        s["size"]: gr.update(choices=_choices(p.sizes), value=chosen.size or DEFAULT),
        s["background"]: gr.update(choices=_choices(p.extras.get("background", ())), value=chosen.background),
        s["moderation"]: gr.update(choices=_choices(p.extras.get("moderation", ())), value=chosen.moderation),
        s["complexity"]: gr.update(choices=_choices(p.extras.get("complexity", ())), value=chosen.complexity
                                   if "complexity" in p.extras else DEFAULT, visible="complexity" in p.extras),
        s["output_format"]: gr.update(choices=_choices(p.output_formats), value=chosen.output_format),
        s["input_fidelity"]: gr.update(choices=_choices(p.input_fidelity), value=chosen.input_fidelity
                                       if chosen.input_fidelity in p.input_fidelity else DEFAULT,
                                       visible=bool(p.input_fidelity)),
        s["action"]: gr.update(value=chosen.action), s["partial_images"]: gr.update(value=chosen.partial_images),
    }


def _inputs_of(value: Any) -> tuple[tuple[bytes, ...], bytes | None]:
    """The editor's image (sent as input_image) and the painting on it (as the mask), if any."""
    background = (value or {}).get("background") if isinstance(value, dict) else None
    if not isinstance(background, Image.Image):
        return (), None
    buffer = io.BytesIO()
    background.save(buffer, format="PNG")
    painted = _painted(value)
    has_paint = painted is not None and painted.getchannel("A").getextrema()[1] > 0
    return (buffer.getvalue(),), mask_from_painting(painted) if has_paint else None


def wire_chat(cc: ChatControls, chat: Chat, *, host: str, shared: bool, own_key: gr.State | None = None,
              discovery: Discovery | None = None, sources: dict[str, gr.Image] | None = None,
              demo: gr.Blocks) -> None:
    """Load, pick, start, estimate and send; ``shared``: conversations are everyone's (the library is on)."""
    secret = chat.store.secret()
    # Outside the tabs: a hidden tab's components mount (and read localStorage) only when it is opened.
    # Its secret is public (the browser decrypts with it): derived from, never equal to, the owner secret.
    keeper = gr.BrowserState("", storage_key="dalle3-chat",
                             secret=hmac.new(secret, b"browser-state", hashlib.sha256).hexdigest())

    def owner(token: str | None) -> str:
        return SHARED if shared else owner_for(False, secret, token)

    def render(conversation: Conversation | None, upto: int | None = None) -> Updates:
        found = chat.store.listing(conversation.owner) if conversation else []
        return {cc.current: conversation.id if conversation else None,
                cc.conversation: gr.update(choices=view.conversation_choices(found),
                                           value=conversation.id if conversation else None),
                cc.chatbot: view.messages(conversation, upto, chat.image_path),
                cc.continue_from: gr.update(choices=view.turn_choices(conversation), value=view.LATEST),
                cc.branches: view.branches_text(conversation)}

    def on_load(token: str | None, key: str | None) -> Updates:
        token = token or secrets.token_urlsafe(24)
        found = chat.store.listing(owner(token))
        updates = {keeper: token, **render(found[0] if found else None)}
        if found:
            updates.update(_settings_updates(cc, found[0].settings))
            updates[cc.settings["chat_model"]] = gr.update(value=found[0].chat_model)
        notes = [chat.client.problem() or ""]
        api_key = (key or "").strip() or chat.studio.settings.api_key
        if discovery is not None and api_key and not chat.studio.settings.offline:
            listing = discovery.listing(api_key)
            if listing.chat:
                model, note = choose(listing.chat, chat.studio.settings.chat_model)
                notes.append(note or "")
                updates[cc.settings["chat_model"]] = gr.update(
                    choices=list(dict.fromkeys([model, *listing.chat])),
                    value=found[0].chat_model if found else model)
        if text := " ".join(n for n in notes if n):
            updates[cc.notice] = inert(text) + "\n\n" + NEEDS
        return updates

    load_outputs = [keeper, cc.current, cc.conversation, cc.chatbot, cc.continue_from, cc.branches, cc.notice,
                    *cc.setting_inputs]
    key_input = [own_key] if own_key is not None else []
    demo.load(lambda t, *k: on_load(t, k[0] if k else None), [keeper, *key_input], load_outputs, **PRIVATE)

    def on_pick(conversation_id: str | None, token: str | None) -> Updates:
        found = chat.store.get(conversation_id or "", owner(token))
        updates = render(found)
        if found:
            updates.update(_settings_updates(cc, found.settings))
        return updates

    cc.conversation.input(on_pick, [cc.conversation, keeper], load_outputs[1:6] + cc.setting_inputs, **PRIVATE)
    cc.continue_from.input(
        lambda conversation_id, chosen, token: {cc.chatbot: view.messages(
            chat.store.get(conversation_id or "", owner(token)), int(chosen) if chosen else None, chat.image_path)},
        [cc.current, cc.continue_from, keeper], [cc.chatbot], **PRIVATE)

    def on_new(data: dict) -> Updates:
        conversation = chat.start(owner=owner(data[keeper]), settings=_tool_settings(cc, data),
                                  chat_model=data[cc.settings["chat_model"]])
        return {**render(conversation), cc.cost: ""}

    cc.new.click(on_new, {keeper, *cc.setting_inputs}, [*load_outputs[1:6], cc.cost], **PRIVATE)

    def ask_of(data: dict, conversation_id: str, request: gr.Request | None) -> TurnAsk:
        images, mask = _inputs_of(data[cc.editor])
        chosen = data[cc.continue_from]
        return TurnAsk(conversation_id=conversation_id, owner=owner(data[keeper]), text=data[cc.text],
                       settings=_tool_settings(cc, data), chat_model=data[cc.settings["chat_model"]],
                       parent=int(chosen) if chosen else None, images=images, mask=mask,
                       own_key=data[own_key] if own_key is not None else None,
                       safety_identifier=safety.identifier_for(chat.studio.settings, host,
                                                               request.session_hash if request else None))

    every = {keeper, cc.current, cc.text, cc.editor, cc.continue_from, *cc.setting_inputs, *key_input}

    def on_estimate(data: dict) -> Updates:
        if not (data[cc.text] or "").strip() or not data[cc.current]:
            return {cc.cost: ""}
        try:
            return {cc.cost: view.estimate_text(chat.estimate(ask_of(data, data[cc.current], None)))}
        except DalleError as exc:
            return {cc.cost: inert(exc.user_message)}

    cc.text.input(on_estimate, every, [cc.cost], trigger_mode="always_last", show_progress="hidden", **PRIVATE)

    def on_send(data: dict, request: gr.Request) -> Iterator[Updates]:
        conversation = chat.store.get(data[cc.current] or "", owner(data[keeper]))
        if conversation is None:
            conversation = chat.start(owner=owner(data[keeper]), settings=_tool_settings(cc, data),
                                      chat_model=data[cc.settings["chat_model"]], title=data[cc.text] or "")
        try:
            ask = ask_of(data, conversation.id, request)
            chat.prepare(ask)
        except DalleError as exc:
            yield {cc.cost: inert(exc.user_message)}
            return
        before = view.messages(conversation, int(data[cc.continue_from]) if data[cc.continue_from] else None,
                               chat.image_path)
        yield {cc.chatbot: before + view.pending(ask.text), cc.cost: "Sending…", cc.current: conversation.id}
        try:
            for item in live_call(lambda on_preview: chat.turn(ask, on_preview)):
                if isinstance(item, Preview):
                    yield {cc.chatbot: before + view.pending(ask.text, item.path, item.label)}
                    continue
                result: TurnResult = item
                yield {**render(result.conversation, result.record.number), cc.text: "", cc.editor: None,
                       cc.cost: view.result_text(result)}
        except DalleError as exc:
            yield {**render(chat.store.get(conversation.id)), cc.cost: inert(exc.user_message)}

    send_outputs = [*load_outputs[1:6], cc.text, cc.editor, cc.cost]
    for trigger in (cc.send.click, cc.text.submit):
        trigger(on_send, every, send_outputs, concurrency_limit=chat.studio.settings.concurrency,
                concurrency_id="chat", **PRIVATE)

    image_model = cc.settings["image_model"]
    image_model.input(lambda data: _settings_updates(cc, _tool_settings(cc, {**data, cc.settings["quality"]: "",
                                                                           cc.settings["size"]: ""})),
                      set(cc.setting_inputs), cc.setting_inputs, **PRIVATE)
    def on_reopen(path: str | None, token: str | None) -> Updates:
        """The conversation an image was made in, shown at its turn (if it is this visitor's)."""
        parameters = read_parameters(path) if path else None
        ident, turn = (parameters or {}).get("conversation"), (parameters or {}).get("turn")
        found = chat.store.get(ident, owner(token)) if isinstance(ident, str) else None
        if found is None or not isinstance(turn, int) or found.turn(turn) is None:
            return {cc.cost: "That image was not made in a conversation you can open here."}
        return {**render(found, turn), **_settings_updates(cc, found.settings),
                cc.continue_from: gr.update(choices=view.turn_choices(found), value=str(turn)),
                cc.cost: f"Conversation reopened at turn {turn}: the next turn continues from it."}

    with cc.sources:
        for label, component in (sources or {}).items():
            button = gr.Button(f"Use the {label}", size="sm")
            button.click(lambda path: {cc.editor: {"background": path, "layers": [], "composite": path} if path
                                       else None, cc.start: gr.update(open=True)},
                         [component], [cc.editor, cc.start], **PRIVATE)
            reopen = gr.Button(f"Reopen the {label}'s conversation", size="sm")
            reopen.click(on_reopen, [component, keeper], [*load_outputs[1:6], cc.cost, *cc.setting_inputs],
                         **PRIVATE)
