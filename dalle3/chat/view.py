"""What the Chat tab shows, computed without Gradio: the messages of one branch, the turns to
continue from, the branches, the conversations to pick, the cost lines.

Text from outside (the model's answers, refusals, error messages from the API) is
shown as plain text (the chat view does not render Markdown); Markdown lines built
here escape it with :func:`dalle3.views.status.inert`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dalle3.chat.costs import Bill
from dalle3.chat.store import Conversation, TurnRecord
from dalle3.chat.turn import TurnResult
from dalle3.models.pricing import Price
from dalle3.views.status import inert

LATEST = ""  # the "continue from" choice meaning the last good turn


def messages(conversation: Conversation | None, upto: int | None,
             image_of: Callable[[TurnRecord], Path | None]) -> list[dict[str, Any]]:
    """The chat messages of the branch that ends at turn ``upto`` (None: the newest turn)."""
    if conversation is None or not conversation.turns:
        return []
    last = upto if upto is not None else conversation.turns[-1].number
    shown: list[dict[str, Any]] = []
    for turn in conversation.path_to(last):
        said = turn.text + (f"\n[{turn.inputs} image{'s' if turn.inputs != 1 else ''} attached]" if turn.inputs
                            else "")
        shown.append({"role": "user", "content": said})
        shown.append({"role": "assistant", "content": answer_content(turn, image_of(turn))})
    return shown


def answer_content(turn: TurnRecord, image: Path | None) -> list[Any]:
    """One answer: its text, a note or the failure, the cost, and the image."""
    lines = []
    if turn.error:
        lines.append(f"This turn failed: {turn.error}\nThe conversation goes on from the last good turn.")
    else:
        lines.append(turn.answer or "(no text)")
        if turn.note:
            lines.append(turn.note)
        cost = Price(turn.cost_usd, not turn.cost_exact)
        lines.append(f"turn {turn.number} · {cost}" + (f" · from turn {turn.parent}" if turn.parent else ""))
    content: list[Any] = ["\n\n".join(lines)]
    if image is not None:
        content.append({"path": str(image)})
    return content


def pending(text: str, preview: Path | None = None, label: str = "thinking…") -> list[dict[str, Any]]:
    """The two messages shown while a turn runs (with the newest preview image, if any)."""
    content: list[Any] = [label]
    if preview is not None:
        content.append({"path": str(preview)})
    return [{"role": "user", "content": text}, {"role": "assistant", "content": content}]


def turn_choices(conversation: Conversation | None) -> list[tuple[str, str]]:
    """("label", value) for "continue from": the last good turn, then every good turn."""
    choices = [("the last good turn", LATEST)]
    for turn in conversation.turns if conversation else ():
        if turn.good:
            choices.append((f"turn {turn.number}: {turn.text[:40]}", str(turn.number)))
    return choices


def branches_text(conversation: Conversation | None) -> str:
    """The branches as Markdown: one line per branch, its turns in order."""
    if conversation is None or not conversation.turns:
        return ""
    leaves = conversation.leaves()
    if len(leaves) < 2:
        return f"One branch, {len(conversation.turns)} turn{'s' if len(conversation.turns) != 1 else ''}."
    lines = [f"**{len(leaves)} branches**"]
    for leaf in leaves:
        path = " → ".join(str(t.number) for t in conversation.path_to(leaf.number))
        lines.append(f"- turns {path}: {inert(leaf.text[:50])}")
    return "\n".join(lines)


def conversation_choices(found: list[Conversation]) -> list[tuple[str, str]]:
    return [(f"{c.title[:50] or 'untitled'} · {len(c.turns)} turns · {c.updated[:16].replace('T', ' ')}", c.id)
            for c in found]


def lineage(parameters: Any) -> str | None:
    """For an image made in a conversation (its stored parameters): where it came from, as inert Markdown."""
    if not isinstance(parameters, dict) or not isinstance(parameters.get("conversation"), str):
        return None
    turn = parameters.get("turn")
    line = f"Made in conversation {inert(parameters['conversation'][:16])}"
    line += f", turn {turn}" if isinstance(turn, int) and not isinstance(turn, bool) else ""
    if isinstance(parameters.get("parent_image"), str):
        line += f", continuing from {inert(parameters['parent_image'][:120])}"
    return line + " (the Chat tab reopens it there)."


def estimate_text(bill: Bill) -> str:
    return (f"This turn: {Price(bill.total.usd, True)} (image tool {Price(bill.tool.usd, True)} + "
            f"model {Price(bill.mainline.usd, True)})")


def result_text(result: TurnResult) -> str:
    if result.backend == "simulator":
        return "Offline simulator: no charge."
    bill = result.bill
    return f"This turn cost {bill.total} (image tool {bill.tool} + model {bill.mainline})."
