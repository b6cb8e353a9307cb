"""Conversations on disk, beside the library: one JSON file each, written whole and atomically.

``DIR/.conversations/<id>.json`` (``DIR`` the outputs folder). A conversation
is a tree: every turn names the turn it continues (``parent``), so continuing
from an earlier turn starts a branch and nothing is ever overwritten. A turn
that failed is kept (its message shows where it happened) but has no response
id, so nothing continues from it: the next turn goes on from the last good one.

Privacy follows the library's rule (:func:`dalle3.library.library_access`):
where the library is on, everyone who can open the page is trusted with every
image, so conversations are listed for everyone ("shared"). Where it is off, each
conversation belongs to an ``owner`` (a hash of a visitor's browser token) and is
listed only to them. The id (96 random bits) is the handle an API caller
continues with; it is never listed to anyone else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from dalle3.cache import LRUCache
from dalle3.chat.request import ToolSettings
from dalle3.errors import ValidationError
from dalle3.files.storage import atomic_replace

log = logging.getLogger("dalle3")

FOLDER = ".conversations"
SHARED = "shared"
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{16}")
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_TURNS = 500
LISTED = 100  # newest conversations listed


@dataclass(frozen=True)
class TurnRecord:
    """One turn as kept: what was said, what came back, what it cost, where its image is."""

    number: int
    parent: int | None
    text: str
    created: str
    chat_model: str
    settings: dict[str, Any] = field(default_factory=dict)
    answer: str = ""
    response_id: str | None = None  # None: the turn failed; nothing continues from it
    image: str | None = None  # the saved file, relative to the outputs folder
    revised_prompt: str | None = None
    note: str | None = None
    error: str | None = None
    cost_usd: float = 0.0
    cost_exact: bool = False
    context_tokens: int = 0  # what the conversation holds after this turn (the next turn's estimate)
    request_id: str | None = None
    inputs: int = 0  # images sent with this turn

    @property
    def good(self) -> bool:
        return self.response_id is not None


@dataclass(frozen=True)
class Conversation:
    id: str
    owner: str
    created: str
    chat_model: str
    settings: ToolSettings
    title: str = ""
    turns: tuple[TurnRecord, ...] = ()

    def turn(self, number: int | None) -> TurnRecord | None:
        return next((t for t in self.turns if t.number == number), None)

    def last_good(self) -> TurnRecord | None:
        """The newest turn that can be continued from."""
        return next((t for t in reversed(self.turns) if t.good), None)

    def path_to(self, number: int | None) -> list[TurnRecord]:
        """The turns from the start to ``number``, in order (one branch)."""
        chain: list[TurnRecord] = []
        seen: set[int] = set()
        current = self.turn(number)
        while current is not None and current.number not in seen:
            seen.add(current.number)
            chain.append(current)
            current = self.turn(current.parent)
        return chain[::-1]

    def children(self, number: int | None) -> list[TurnRecord]:
        return [t for t in self.turns if t.parent == number]

    def leaves(self) -> list[TurnRecord]:
        """The last turn of every branch, oldest branch first."""
        parents = {t.parent for t in self.turns}
        return [t for t in self.turns if t.number not in parents]

    @property
    def updated(self) -> str:
        return self.turns[-1].created if self.turns else self.created


def owner_for(shared: bool, secret: bytes, browser_token: str | None) -> str:
    """Who a conversation belongs to: everyone where the library is on, else a hash of the browser's token."""
    if shared:
        return SHARED
    token = browser_token or ""
    return "visitor:" + hmac.new(secret, token.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def check_id(value: Any) -> str:
    """A conversation id from outside, checked; raises ValidationError."""
    if not isinstance(value, str) or not CONVERSATION_ID.fullmatch(value.strip()):
        raise ValidationError("That is not a conversation id (16 letters, digits, '-' or '_').")
    return value.strip()


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class ConversationStore:
    """Reads and writes conversations under ``root/.conversations`` (thread-safe within a process)."""

    def __init__(self, root: Path) -> None:
        self.folder = root / FOLDER
        self._lock = threading.Lock()
        # parsed files by name, kept while their mtime and size are unchanged: a page load lists
        # conversations, and reading every file again each time grows with the folder
        self._parsed: LRUCache[tuple[int, int, Conversation]] = LRUCache(LISTED * 20)

    def secret(self) -> bytes:
        """A random secret kept beside the conversations (made once): what visitors' owner hashes are keyed
        with, so a visitor keeps their conversations across restarts; never shown or sent."""
        path = self.folder / ".owner-secret"
        with self._lock:
            try:
                data = path.read_bytes()
                if len(data) == 32:
                    return data
            except OSError:
                pass
            data = secrets.token_bytes(32)
            atomic_replace(path, data)
            os.chmod(path, 0o600)
            return data

    def create(self, *, owner: str, chat_model: str, settings: ToolSettings, title: str) -> Conversation:
        conversation = Conversation(id=secrets.token_urlsafe(12), owner=owner, created=now(),
                                    chat_model=chat_model, settings=settings, title=title[:80])
        with self._lock:
            self._write(conversation)
        return conversation

    def get(self, conversation_id: str, owner: str | None = None) -> Conversation | None:
        """The conversation, or None (unknown, unreadable, or — with ``owner`` — someone else's)."""
        if not CONVERSATION_ID.fullmatch(conversation_id or ""):
            return None
        found = self._read(self.folder / f"{conversation_id}.json")
        if found is None or (owner is not None and found.owner != owner):
            return None
        return found

    def add_turn(self, conversation_id: str, record: TurnRecord, settings: ToolSettings | None = None,
                 chat_model: str | None = None) -> Conversation:
        """Append ``record`` (numbered here) and keep the conversation's latest settings."""
        with self._lock:
            current = self.get(conversation_id)
            if current is None:
                raise ValidationError("That conversation is no longer there; start a new one.")
            if len(current.turns) >= MAX_TURNS:
                raise ValidationError(f"This conversation has {MAX_TURNS} turns, the most kept; start a new one.")
            numbered = replace(record, number=len(current.turns) + 1)
            updated = replace(current, turns=(*current.turns, numbered), settings=settings or current.settings,
                              chat_model=chat_model or current.chat_model,
                              title=current.title or record.text[:80])
            self._write(updated)
        return updated

    def listing(self, owner: str | None) -> list[Conversation]:
        """``owner``'s conversations (None: everyone's, for the CLI), most recently changed first."""
        found = [c for c in self._all() if owner is None or c.owner == owner]
        return sorted(found, key=lambda c: c.updated, reverse=True)[:LISTED]

    def _all(self) -> Iterator[Conversation]:
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.stat().st_mtime, reverse=True)
        except OSError:
            return
        for entry in entries[:LISTED * 20]:
            if entry.name.endswith(".json") and (found := self._read(Path(entry.path))) is not None:
                yield found

    def _write(self, conversation: Conversation) -> None:
        """Written whole under a temporary name, then renamed over the old file (readers never see half).

        No fsync, as for images: a process crash cannot tear a closed file, and every turn writes here.
        """
        data = asdict(conversation)
        data["settings"] = conversation.settings.as_dict()
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            os.replace(tmp, self.folder / f"{conversation.id}.json")
        except BaseException:
            os.unlink(tmp)
            raise

    def _read(self, path: Path) -> Conversation | None:
        try:
            stat = path.stat()
            if stat.st_size > MAX_FILE_BYTES:
                return None
            known = self._parsed.get(path.name)
            if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
                return known[2]
            found = self._parse(path)
            self._parsed.put(path.name, (stat.st_mtime_ns, stat.st_size, found))
            return found
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, RecursionError, ValidationError) as exc:
            log.warning("conversation file %s could not be read (%s); it is left alone", path.name,
                        type(exc).__name__)
            return None

    @staticmethod
    def _parse(path: Path) -> Conversation:
        """The conversation in ``path``; raises for anything that is not one of ours."""
        data = json.loads(path.read_bytes())
        turns = tuple(_turn(t) for t in data["turns"])
        return Conversation(id=check_id(data["id"]), owner=str(data["owner"]), created=str(data["created"]),
                            chat_model=str(data["chat_model"]), settings=ToolSettings.from_dict(data["settings"]),
                            title=str(data.get("title") or ""), turns=turns)


def _turn(data: Any) -> TurnRecord:
    if not isinstance(data, dict):
        raise TypeError("turn is not an object")
    known = {k: v for k, v in data.items() if k in TurnRecord.__dataclass_fields__}
    record = TurnRecord(**known)
    if not isinstance(record.number, int) or not isinstance(record.text, str):
        raise TypeError("turn fields of the wrong type")
    return record
