"""One turn of a conversation end to end: check, reserve, call, save, settle, record.

The spend cap (server key only) reserves the turn's worst case before the call
and settles at the bill. The image is saved like a studio image — the API's own
bytes with the parameters spliced in, in the library — and its parameters name
the conversation, the turn, the image it continued from and the response id.
A turn that fails is recorded with its message and raised; the conversation
goes on from the last good turn. A turn the endpoint may have billed is never
sent again (the client does not retry after sending).

Offline (no key, or ``DALLE3_OFFLINE``) the simulator answers: a labelled
stand-in image for every turn, and a line of text saying so, at no cost.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dalle3 import simulator
from dalle3.files import metadata
from dalle3.chat import costs
from dalle3.chat.answer import Answer
from dalle3.chat.client import ResponsesClient
from dalle3.chat.costs import Bill
from dalle3.chat.request import ToolSettings, Turn, check_turn
from dalle3.chat.store import Conversation, ConversationStore, TurnRecord, now
from dalle3.files.containers import EXTENSIONS
from dalle3.errors import DalleError, ValidationError
from dalle3.models.pricing import Price
from dalle3.results import OPENAI, SIMULATOR, Preview
from dalle3.files.storage import save_image
from dalle3.studio import Studio
from dalle3.version import __version__

SIMULATED_TEXT = "(offline simulator) Here is a stand-in picture for: {text}"


@dataclass(frozen=True)
class TurnResult:
    """A finished turn: the conversation as it now stands, the turn's record, its image, its bill."""

    conversation: Conversation
    record: TurnRecord
    image_path: Path | None
    bill: Bill
    backend: str


@dataclass(frozen=True)
class TurnAsk:
    """What a person asked for in one turn (the values that travel from a door to :meth:`Chat.turn`)."""

    conversation_id: str
    owner: str
    text: str
    settings: ToolSettings
    chat_model: str | None = None  # None: the conversation's
    parent: int | None = None  # the turn to continue from; None: the last good turn
    images: tuple[bytes, ...] = ()
    mask: bytes | None = None
    own_key: str | None = None
    safety_identifier: str | None = None


class Chat:
    """Long-lived, one per process, shared by every session (thread-safe)."""

    def __init__(self, studio: Studio, client: ResponsesClient | None = None,
                 store: ConversationStore | None = None) -> None:
        self.studio = studio
        self.client = client or ResponsesClient(studio.settings, session=studio.client.session)
        self.store = store or ConversationStore(studio.output_dir)
        self._guard = threading.Lock()
        self._busy: dict[str, threading.Lock] = {}

    def start(self, *, owner: str, settings: ToolSettings, chat_model: str | None = None,
              title: str = "") -> Conversation:
        return self.store.create(owner=owner, chat_model=chat_model or self.studio.settings.chat_model,
                                 settings=settings, title=title)

    def prepare(self, ask: TurnAsk) -> tuple[Conversation, TurnRecord | None, Turn]:
        """The conversation, the turn continued from, and the checked turn; raises ValidationError."""
        conversation = self.store.get(ask.conversation_id, ask.owner)
        if conversation is None:
            raise ValidationError("That conversation is not there (or not yours); start a new one.")
        parent = conversation.last_good() if ask.parent is None else conversation.turn(ask.parent)
        if ask.parent is not None and parent is None:
            raise ValidationError(f"This conversation has no turn {ask.parent}.")
        if parent is not None and not parent.good:
            raise ValidationError(f"Turn {parent.number} failed, so nothing can continue from it; "
                                  "continue from an earlier turn.")
        turn = check_turn(chat_model=ask.chat_model or conversation.chat_model, text=ask.text,
                          settings=ask.settings, images=ask.images, mask=ask.mask,
                          previous_response_id=parent.response_id if parent else None,
                          safety_identifier=ask.safety_identifier)
        return conversation, parent, turn

    def estimate(self, ask: TurnAsk) -> Bill:
        """The turn's cost before it is sent (≈); raises ValidationError like :meth:`turn`.

        An empty ``conversation_id``: the first turn of a conversation not started yet.
        """
        if not ask.conversation_id:
            first = check_turn(chat_model=ask.chat_model or self.studio.settings.chat_model, text=ask.text,
                               settings=ask.settings, images=ask.images, mask=ask.mask)
            return costs.estimate(first, 0)
        _, parent, turn = self.prepare(ask)
        return costs.estimate(turn, parent.context_tokens if parent else 0)

    def turn(self, ask: TurnAsk, on_preview: Callable[[Preview], None] | None = None) -> TurnResult:
        """Send one turn and record it; raises DalleError (the failed turn is recorded first)."""
        with self._one_at_a_time(ask.conversation_id):
            conversation, parent, turn = self.prepare(ask)
            backend = self.studio.backend_for(ask.own_key)
            started = now()
            try:
                result, bill = self._call(turn, parent, backend, ask.own_key, on_preview)
            except DalleError as exc:
                self.store.add_turn(conversation.id, _failed(turn, parent, started, exc),
                                    ask.settings, turn.chat_model)
                raise
            number = len(conversation.turns) + 1
            path = self._save(result, turn, conversation, number, parent, bill, backend) if result.image else None
            record = TurnRecord(
                number=number, parent=parent.number if parent else None, text=turn.text, created=started,
                chat_model=turn.chat_model, settings=ask.settings.as_dict(), answer=result.text,
                response_id=result.response_id, image=self._relative(path), revised_prompt=result.revised_prompt,
                note=result.note, cost_usd=round(bill.total.usd, 6), cost_exact=not bill.total.estimate,
                context_tokens=(parent.context_tokens if parent else 0) if result.usage is None
                else costs.context_after(result), request_id=result.request_id,
                inputs=len(turn.inputs.images) if turn.inputs else 0)
            updated = self.store.add_turn(conversation.id, record, ask.settings, turn.chat_model)
            return TurnResult(updated, updated.turns[-1], path, bill, backend)

    def _call(self, turn: Turn, parent: TurnRecord | None, backend: str, own_key: str | None,
              on_preview: Callable[[Preview], None] | None) -> tuple[Answer, Bill]:
        if backend == SIMULATOR:
            return _simulated(turn), Bill(Price(0.0), Price(0.0))
        on_partial = self.studio.previews.writer(turn.image.seed, on_preview) if on_preview else None
        if own_key and own_key.strip():
            result = self.client.send(turn, own_key.strip(), on_partial)
            return result, costs.bill(turn, result)
        reserved = costs.worst_case(turn, parent.context_tokens if parent else 0)
        with self.studio.ledger.hold(reserved) as charge:
            try:
                result = self.client.send(turn, self.studio.settings.api_key or "", on_partial)
            except DalleError as exc:
                if exc.abandoned:  # sent, then given up on: it may be billed, so it counts
                    charge.usd, charge.abandoned = reserved, True
                raise
            bill = costs.bill(turn, result)
            readable = costs.mainline_bill(turn.chat_model, result.usage) is not None and (
                result.tool_usage is not None or not result.image_calls)
            # settle at the bill; without a readable one the reservation stands (the cap fails closed)
            charge.usd = bill.total.usd if readable else reserved
            charge.images = 1 if result.image else 0
        return result, bill

    def _save(self, result: Answer, turn: Turn, conversation: Conversation, number: int,
              parent: TurnRecord | None, bill: Bill, backend: str) -> Path:
        parameters: dict[str, Any] = turn.image.parameters()
        parameters.update(conversation=conversation.id, turn=number, response_id=result.response_id,
                          chat_model=turn.chat_model, action=turn.settings.action)
        if parent is not None and parent.image:
            parameters["parent_image"] = parent.image
        if turn.inputs is not None:
            parameters.update(turn.inputs.parameters())
        if result.revised_prompt:
            parameters["revised_prompt"] = result.revised_prompt
        parameters.update(cost_usd=round(bill.tool.usd + bill.mainline.usd, 6), cost_exact=not bill.total.estimate,
                          backend=backend, created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                          app=f"dalle3-studio {__version__}")
        data = metadata.embed(result.image or b"", parameters)
        suffix = EXTENSIONS.get(metadata.image_format(data) or "png", ".png")
        path = save_image(data, self.studio.output_dir, turn.text, 0, suffix=suffix)
        if self.studio.library is not None:
            self.studio.library.record(path, parameters)
        return path

    def _relative(self, path: Path | None) -> str | None:
        if path is None:
            return None
        try:
            return path.relative_to(self.studio.output_dir).as_posix()
        except ValueError:
            return path.name

    def image_path(self, record: TurnRecord) -> Path | None:
        """The turn's saved image on disk, if it is still there (never outside the outputs folder)."""
        if not record.image or ".." in Path(record.image).parts or Path(record.image).is_absolute():
            return None
        path = self.studio.output_dir / record.image
        return path if path.is_file() else None

    def _one_at_a_time(self, conversation_id: str) -> threading.Lock:
        """Turns of one conversation run one after another (each numbers itself after the last)."""
        with self._guard:
            return self._busy.setdefault(conversation_id, threading.Lock())


def _failed(turn: Turn, parent: TurnRecord | None, started: str, exc: DalleError) -> TurnRecord:
    return TurnRecord(number=0, parent=parent.number if parent else None, text=turn.text, created=started,
                      chat_model=turn.chat_model, settings=turn.settings.as_dict(), error=exc.user_message,
                      request_id=exc.request_id,
                      context_tokens=parent.context_tokens if parent else 0)


def _simulated(turn: Turn) -> Answer:
    image = simulator.render(replace(turn.image, n=1), 0, turn.inputs)
    return Answer(response_id=f"sim_{secrets.token_hex(8)}", text=SIMULATED_TEXT.format(text=turn.text[:200]),
                  image=image, revised_prompt=None)


__all__ = ["OPENAI", "SIMULATOR", "Chat", "TurnAsk", "TurnResult"]
