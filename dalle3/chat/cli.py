"""``python -m dalle3 chat``: a conversation with an image in the terminal.

Two ways: ``python -m dalle3 chat "a fox in snow"`` sends one turn (a new
conversation, or ``--continue ID`` an existing one, ``--from-turn N`` to branch
from an earlier turn) and prints the answer, the saved image and the cost;
without text it reads turns line by line from stdin, where ``/from N`` branches
from turn N, ``/turns`` shows the conversation and ``/quit`` (or end of input) stops.

Like ``python -m dalle3 library``, the CLI runs on the machine that holds the
files, so it may continue any conversation whose id it is given.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from dalle3.chat.request import ACTIONS, DEFAULT_IMAGE_MODEL, MAX_PREVIEWS, ToolSettings
from dalle3.chat.store import SHARED, Conversation, check_id
from dalle3.chat.turn import Chat, TurnAsk, TurnResult
from dalle3.cli import preview_line
from dalle3.errors import DalleError, ValidationError
from dalle3.views.status import one_line
from dalle3.models import OUTPUT_FORMATS
from dalle3.edits.references import read_file
from dalle3.results import Preview
from dalle3.settings import from_env
from dalle3.studio import Studio


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dalle3 chat",
        description="Talk to an image: each turn goes to a mainline model with OpenAI's image_generation tool "
                    "(POST /responses), continuing the conversation; images are saved with their settings and "
                    "the conversation, and conversations are kept beside the library. Without TEXT, turns are "
                    "read from stdin (/from N branches from turn N, /turns shows them, /quit stops).",
        epilog='Examples: python -m dalle3 chat "a fox in snow"; python -m dalle3 chat --continue ID "now at '
               'night"; python -m dalle3 chat --continue ID --from-turn 1 "a hare instead".')
    p.add_argument("text", nargs="?", help="one turn to send (default: read turns from stdin)")
    p.add_argument("--continue", dest="conversation", metavar="ID", help="the conversation to continue")
    p.add_argument("--from-turn", type=int, metavar="N", help="continue from turn N (a new branch); "
                   "default: the last good turn")
    p.add_argument("--image", type=Path, action="append", default=[], metavar="FILE",
                   help="an image to start from or show the model (repeatable)")
    p.add_argument("--mask", type=Path, metavar="M", help="a mask on the first --image (transparent, or "
                   "painted white, where it may change)")
    p.add_argument("--model", metavar="M", help="the mainline model (default: DALLE3_CHAT_MODEL, or the "
                   "conversation's)")
    p.add_argument("--image-model", metavar="M", help=f"the image tool's model (default: {DEFAULT_IMAGE_MODEL}, "
                   "the SDK's default, or the conversation's)")
    for name in ("quality", "size", "background", "moderation", "complexity", "input_fidelity"):
        p.add_argument(f"--{name.replace('_', '-')}", metavar="V", help="as in the studio (default: the model's)")
    p.add_argument("--output-format", choices=OUTPUT_FORMATS, help="png, webp or jpeg (default: png)")
    p.add_argument("--output-compression", type=int, metavar="0-100", help="jpeg and webp only")
    p.add_argument("--action", choices=ACTIONS, help="the image tool's action (default: auto)")
    p.add_argument("--previews", type=int, choices=range(MAX_PREVIEWS + 1), metavar="N",
                   help="rough images streamed while the image is made, 0-3 (default: 1)")
    p.add_argument("--list", action="store_true", help="list the conversations kept here and exit")
    p.add_argument("--offline", action="store_true", help="use the offline simulator even when a key is set")
    return p


def _settings(args: argparse.Namespace, base: ToolSettings) -> ToolSettings:
    """The conversation's settings with what the command line changes."""
    changed = {name: getattr(args, name) for name in ("quality", "size", "background", "moderation",
                                                      "complexity", "input_fidelity", "output_format",
                                                      "output_compression", "action")
               if getattr(args, name) is not None}
    if args.image_model:
        changed["image_model"] = args.image_model
    if args.previews is not None:
        changed["partial_images"] = args.previews
    return replace(base, **changed)


def result_text(result: TurnResult) -> str:
    """What one turn prints: the answer, a note, the image, the cost, how to go on."""
    record = result.record
    lines = [f"[turn {record.number}{f' from turn {record.parent}' if record.parent else ''}] {one_line(record.answer)}"]
    if record.note:
        lines.append(f"note: {one_line(record.note)}")
    if result.image_path is not None:
        lines.append(f"image: {result.image_path}")
    lines.append(f"cost: {result.bill.total}" + (" (offline simulator)" if result.backend == "simulator" else ""))
    return "\n".join(lines)


def turns_text(conversation: Conversation) -> str:
    """The conversation's turns, one line each, with the turn each continues and what it made."""
    rows = [f"conversation {conversation.id} · {conversation.chat_model} · {len(conversation.turns)} turns"]
    for t in conversation.turns:
        made = "failed: " + one_line(t.error or "") if not t.good else (t.image or "text only")
        rows.append(f"  {t.number:>3} ← {t.parent or '-':>3}  {one_line(t.text)[:60]}  [{made}]")
    return "\n".join(rows)


def run(args: argparse.Namespace, stdin: TextIO | None = None, out: TextIO | None = None) -> str:
    settings = from_env()
    if args.offline:
        settings = replace(settings, offline=True)
    chat = Chat(Studio(settings))
    if args.list:
        found = chat.store.listing(None)
        return "\n".join(f"{c.id}  {c.updated}  {len(c.turns):>3} turns  {one_line(c.title)[:60]}"
                         for c in found) or "No conversations kept here yet."
    if args.conversation:
        conversation = chat.store.get(check_id(args.conversation))
        if conversation is None:
            raise ValidationError(f"No conversation {args.conversation} is kept here (python -m dalle3 chat --list).")
    else:
        conversation = chat.start(owner=SHARED, settings=_settings(args, ToolSettings()), chat_model=args.model,
                                  title=args.text or "")
    images = tuple(_read(p) for p in args.image)
    mask = _read(args.mask) if args.mask else None
    ask = TurnAsk(conversation_id=conversation.id, owner=conversation.owner, text="",
                  settings=_settings(args, conversation.settings), chat_model=args.model, parent=args.from_turn,
                  images=images, mask=mask)
    if args.text is not None:
        result = chat.turn(replace(ask, text=args.text), on_preview=_progress)
        return result_text(result) + f"\ncontinue: python -m dalle3 chat --continue {conversation.id} \"...\""
    return _interactive(chat, ask, stdin or sys.stdin, out or sys.stdout)


def _interactive(chat: Chat, ask: TurnAsk, stdin: TextIO, out: TextIO) -> str:
    """Turns from ``stdin`` until /quit or its end; a failed turn is said and the loop goes on."""
    def say(text: str) -> None:
        print(text, file=out, flush=True)

    say(f"conversation {ask.conversation_id}: type a turn; /from N branches, /turns shows them, /quit stops.")
    for line in stdin:
        text = line.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            break
        if text == "/turns":
            conversation = chat.store.get(ask.conversation_id)
            say(turns_text(conversation) if conversation else "The conversation is no longer there.")
            continue
        if text.startswith("/from "):
            number = text.split(maxsplit=1)[1]
            ask = replace(ask, parent=int(number) if number.isdigit() else None)
            say(f"the next turn continues from turn {number}" if number.isdigit() else "/from takes a turn number")
            continue
        try:
            result = chat.turn(replace(ask, text=text), on_preview=_progress)
            say(result_text(result))
        except DalleError as exc:
            say(f"dalle3: {exc.user_message}")
        ask = replace(ask, parent=None, images=(), mask=None)  # the inputs went with the first turn
    return f"conversation {ask.conversation_id}: continue with python -m dalle3 chat --continue {ask.conversation_id}"


def _progress(preview: Preview) -> None:
    print(preview_line(preview, None), file=sys.stderr, flush=True)


def _read(path: Path) -> bytes:
    return read_file(path, "image")
