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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Mapping, cast

import gradio as gr
from gradio.blocks import Block
from PIL import Image

from dalle3 import DalleError, safety
from dalle3.chat import view
from dalle3.chat.models import choose
from dalle3.chat.request import ACTIONS, DEFAULT_IMAGE_MODEL, MAX_PREVIEWS, ToolSettings
from dalle3.chat.store import SHARED, Conversation, owner_for
from dalle3.chat.turn import Chat, TurnAsk, TurnResult
from dalle3.http.discovery import Discovery
from dalle3.edits.inputs import mask_from_painting
from dalle3.views.live import live_call
from dalle3.files.metadata import read_parameters
from dalle3.models.table import CHAT_MODELS
from dalle3.models import MODELS
from dalle3.params import profile_for
from dalle3.results import Preview
from dalle3.views.status import inert
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
    settings: Mapping[str, gr.components.Component]
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
                fields = {
                    "chat_model": gr.Dropdown(list(dict.fromkeys([settings.chat_model, *CHAT_MODELS])),
                                           value=settings.chat_model, allow_custom_value=True,
                                           label="Mainline model", elem_id="chat_model"),
                    "image_model": gr.Dropdown(IMAGE_MODELS, value=DEFAULT_IMAGE_MODEL, label="Image model",
                                            elem_id="chat_image_model"),
                    "quality": gr.Dropdown(_choices(p.qualities), value=DEFAULT, label="Quality"),
                    "size": gr.Dropdown(_choices(p.sizes), value=DEFAULT, label="Size", allow_custom_value=True),
                    "background": gr.Dropdown(_choices(p.extras.get("background", ())), value=DEFAULT,
                                           label="Background"),
                    "moderation": gr.Dropdown(_choices(p.extras.get("moderation", ())), value=DEFAULT,
                                           label="Moderation"),
                    "complexity": gr.Dropdown(_choices(p.extras.get("complexity", ())), value=DEFAULT,
                                           label="Complexity", visible="complexity" in p.extras),
                    "output_format": gr.Dropdown(_choices(p.output_formats), value=DEFAULT, label="Output format"),
                    "output_compression": gr.Slider(0, 100, value=100, step=1, label="Compression (jpeg, webp)"),
                    "input_fidelity": gr.Dropdown(_choices(p.input_fidelity), value=DEFAULT, label="Input fidelity",
                                               visible=bool(p.input_fidelity)),
                    "action": gr.Radio(list(ACTIONS), value="auto", label="Action"),
                    "partial_images": gr.Slider(0, MAX_PREVIEWS, value=1, step=1, label="Previews")}
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
    if painted is None or cast("tuple[int, int]", painted.getchannel("A").getextrema())[1] == 0:
        return (buffer.getvalue(),), None
    return (buffer.getvalue(),), mask_from_painting(painted)


@dataclass(frozen=True)
class _Wiring:
    """What every handler of the tab shares: the controls, the engine, whose conversations these are."""

    cc: ChatControls
    chat: Chat
    keeper: gr.BrowserState  # the browser's random token (outside the tabs: see wire_chat)
    shared: bool
    secret: bytes = field(repr=False)
    own_key: gr.State | None

    def owner(self, token: str | None) -> str:
        return SHARED if self.shared else owner_for(False, self.secret, token)

    def render(self, conversation: Conversation | None, upto: int | None = None) -> Updates:
        cc = self.cc
        found = self.chat.store.listing(conversation.owner) if conversation else []
        return {cc.current: conversation.id if conversation else None,
                cc.conversation: gr.update(choices=view.conversation_choices(found),
                                           value=conversation.id if conversation else None),
                cc.chatbot: view.messages(conversation, upto, self.chat.image_path),
                cc.continue_from: gr.update(choices=view.turn_choices(conversation), value=view.LATEST),
                cc.branches: view.branches_text(conversation)}

    @property
    def shown(self) -> list[gr.components.Component]:
        """What :meth:`render` updates, in order."""
        cc = self.cc
        return [cc.current, cc.conversation, cc.chatbot, cc.continue_from, cc.branches]

    @property
    def key_input(self) -> list[gr.State]:
        return [self.own_key] if self.own_key is not None else []


def wire_chat(cc: ChatControls, chat: Chat, *, host: str, shared: bool, own_key: gr.State | None = None,
              discovery: Discovery | None = None, sources: dict[str, gr.Image] | None = None,
              demo: gr.Blocks) -> None:
    """Load, pick, start, estimate and send; ``shared``: conversations are everyone's (the library is on)."""
    secret = chat.store.secret()
    # Outside the tabs: a hidden tab's components mount (and read localStorage) only when it is opened.
    # Its secret is public (the browser decrypts with it): derived from, never equal to, the owner secret.
    keeper = gr.BrowserState("", storage_key="dalle3-chat",
                             secret=hmac.new(secret, b"browser-state", hashlib.sha256).hexdigest())
    w = _Wiring(cc, chat, keeper, shared, secret, own_key)
    _wire_load(w, discovery, demo)
    _wire_navigation(w)
    _wire_send(w, host)
    _wire_sources(w, sources or {})


def _wire_load(w: _Wiring, discovery: Discovery | None, demo: gr.Blocks) -> None:
    """On page load: this browser's token, its newest conversation, the models the endpoint offers."""
    cc, chat = w.cc, w.chat

    def on_load(token: str | None, key: str | None) -> Updates:
        token = token or secrets.token_urlsafe(24)
        found = chat.store.listing(w.owner(token))
        updates = {w.keeper: token, **w.render(found[0] if found else None)}
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

    demo.load(lambda t, *k: on_load(t, k[0] if k else None), [w.keeper, *w.key_input],
              [w.keeper, *w.shown, cc.notice, *cc.setting_inputs], **PRIVATE)


def _wire_navigation(w: _Wiring) -> None:
    """Pick a conversation, a turn to continue from, start a new one, change the image model."""
    cc, chat = w.cc, w.chat

    def on_pick(conversation_id: str | None, token: str | None) -> Updates:
        found = chat.store.get(conversation_id or "", w.owner(token))
        return {**w.render(found), **(_settings_updates(cc, found.settings) if found else {})}

    cc.conversation.input(on_pick, [cc.conversation, w.keeper], [*w.shown, *cc.setting_inputs], **PRIVATE)

    def on_from(conversation_id: str | None, chosen: str | None, token: str | None) -> Updates:
        found = chat.store.get(conversation_id or "", w.owner(token))
        return {cc.chatbot: view.messages(found, int(chosen) if chosen else None, chat.image_path)}

    cc.continue_from.input(on_from, [cc.current, cc.continue_from, w.keeper], [cc.chatbot], **PRIVATE)

    def on_new(data: dict) -> Updates:
        conversation = chat.start(owner=w.owner(data[w.keeper]), settings=_tool_settings(cc, data),
                                  chat_model=data[cc.settings["chat_model"]])
        return {**w.render(conversation), cc.cost: ""}

    cc.new.click(on_new, {w.keeper, *cc.setting_inputs}, [*w.shown, cc.cost], **PRIVATE)

    def on_image_model(data: dict) -> Updates:  # a new model's own defaults, not the last one's quality and size
        return _settings_updates(cc, _tool_settings(cc, {**data, cc.settings["quality"]: "",
                                                         cc.settings["size"]: ""}))

    image_model = cast(gr.Dropdown, cc.settings["image_model"])
    image_model.input(on_image_model, set[Block](cc.setting_inputs), cc.setting_inputs, **PRIVATE)


def _wire_send(w: _Wiring, host: str) -> None:
    """The estimate while typing; Send: previews as they come, then the answer and its bill."""
    cc, chat = w.cc, w.chat
    every: set[Block] = {w.keeper, cc.current, cc.text, cc.editor, cc.continue_from, *cc.setting_inputs, *w.key_input}

    def ask_of(data: dict, conversation_id: str, request: gr.Request | None) -> TurnAsk:
        images, mask = _inputs_of(data[cc.editor])
        chosen = data[cc.continue_from]
        return TurnAsk(conversation_id=conversation_id, owner=w.owner(data[w.keeper]), text=data[cc.text],
                       settings=_tool_settings(cc, data), chat_model=data[cc.settings["chat_model"]],
                       parent=int(chosen) if chosen else None, images=images, mask=mask,
                       own_key=data[w.own_key] if w.own_key is not None else None,
                       safety_identifier=safety.identifier_for(chat.studio.settings, host,
                                                               request.session_hash if request else None))

    def on_estimate(data: dict) -> Updates:
        if not (data[cc.text] or "").strip():
            return {cc.cost: ""}
        try:
            return {cc.cost: view.estimate_text(chat.estimate(ask_of(data, data[cc.current] or "", None)))}
        except DalleError as exc:
            return {cc.cost: inert(exc.user_message)}

    cc.text.input(on_estimate, every, [cc.cost], trigger_mode="always_last", show_progress="hidden", **PRIVATE)

    def on_send(data: dict, request: gr.Request) -> Iterator[Updates]:
        if not (data[cc.text] or "").strip():  # said before a conversation is made for nothing
            yield {cc.cost: "Write something first: the turn is empty."}
            return
        owner = w.owner(data[w.keeper])
        conversation = chat.store.get(data[cc.current] or "", owner) or chat.start(
            owner=owner, settings=_tool_settings(cc, data), chat_model=data[cc.settings["chat_model"]],
            title=data[cc.text] or "")
        try:
            ask = ask_of(data, conversation.id, request)
            chat.prepare(ask)
        except DalleError as exc:
            yield {cc.cost: inert(exc.user_message)}
            return
        before = view.messages(conversation, ask.parent, chat.image_path)
        yield {cc.chatbot: before + view.pending(ask.text), cc.cost: "Sending…", cc.current: conversation.id}
        try:
            for item in live_call(lambda on_preview: chat.turn(ask, on_preview)):
                if isinstance(item, Preview):
                    yield {cc.chatbot: before + view.pending(ask.text, item.path, item.label)}
                    continue
                result: TurnResult = item
                yield {**w.render(result.conversation, result.record.number), cc.text: "", cc.editor: None,
                       cc.cost: view.result_text(result)}
        except DalleError as exc:
            yield {**w.render(chat.store.get(conversation.id)), cc.cost: inert(exc.user_message)}

    for trigger in (cc.send.click, cc.text.submit):
        trigger(on_send, every, [*w.shown, cc.text, cc.editor, cc.cost],
                concurrency_limit=chat.studio.settings.concurrency, concurrency_id="chat", **PRIVATE)


def _wire_sources(w: _Wiring, sources: dict[str, gr.Image]) -> None:
    """For each image elsewhere on the page: start from it, or reopen the conversation it was made in."""
    cc, chat = w.cc, w.chat

    def on_reopen(path: str | None, token: str | None) -> Updates:
        parameters = read_parameters(path) if path else None
        ident, turn = (parameters or {}).get("conversation"), (parameters or {}).get("turn")
        found = chat.store.get(ident, w.owner(token)) if isinstance(ident, str) else None
        if found is None or not isinstance(turn, int) or found.turn(turn) is None:
            return {cc.cost: "That image was not made in a conversation you can open here."}
        return {**w.render(found, turn), **_settings_updates(cc, found.settings),
                cc.continue_from: gr.update(choices=view.turn_choices(found), value=str(turn)),
                cc.cost: f"Conversation reopened at turn {turn}: the next turn continues from it."}

    def use(path: str | None) -> Updates:
        return {cc.editor: {"background": path, "layers": [], "composite": path} if path else None,
                cc.start: gr.update(open=True)}

    with cc.sources:
        for label, component in sources.items():
            gr.Button(f"Use the {label}", size="sm").click(use, [component], [cc.editor, cc.start], **PRIVATE)
            gr.Button(f"Reopen the {label}'s conversation", size="sm").click(
                on_reopen, [component, w.keeper], [*w.shown, cc.cost, *cc.setting_inputs], **PRIVATE)
