"""Per-browser-session state: seed control, the session's spend, its history.

The page keeps one :class:`SessionState` in a ``gr.State``; these functions
return new values rather than mutate, so a failed generation leaves the
previous state untouched. Own API keys never go in here (history and totals
may be shown; a key must not be).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from dalle3.params import SEED_MAX
from dalle3.results import GenerationResult

SEED_CONTROLS = ("fixed", "increment", "decrement", "randomize")
SEED_CONTROL_DEFAULT = "randomize"  # as ComfyUI: a new image each click unless the person fixes the seed
HISTORY_LIMIT = 48


def next_seed(seed: int, control: str, rng: random.Random | None = None) -> int:
    """The seed after a successful generation, as ComfyUI's "control after generate" does."""
    if control == "increment":
        return min(seed + 1, SEED_MAX)
    if control == "decrement":
        return max(seed - 1, 0)
    if control == "randomize":
        return (rng or random).randint(0, SEED_MAX)
    return seed


@dataclass(frozen=True)
class HistoryEntry:
    """One image of this session: where it is and the settings that made it."""

    path: str
    parameters: dict[str, Any] = field(hash=False)
    caption: str = ""
    files: tuple[str, ...] = ()  # an edit's files as the person named them (references, then mask/markup)
    previews: int = 0  # previews streamed on the way (the request asked for them)


@dataclass(frozen=True)
class SessionState:
    """What a browser session has done: images (newest first, bounded) and spend."""

    history: tuple[HistoryEntry, ...] = ()
    spent_usd: float = 0.0
    images: int = 0

    def after(self, result: GenerationResult, files: tuple[str, ...] = ()) -> "SessionState":
        """The state with every image of ``result`` on top of the history (the first image first).

        A cache hit for images already in this history moves them to the top rather than
        listing them twice, so the gallery and the image count always agree. A batch adds one
        entry per image, each with its index and (for an edit) the references by hash.
        """
        paths = [str(p) for p in result.paths]
        if result.cached and all(any(e.path == p for e in self.history) for p in paths):
            moved = tuple(next(e for e in self.history if e.path == p) for p in paths)
            rest = tuple(entry for entry in self.history if entry.path not in paths)
            return replace(self, history=(*moved, *rest), spent_usd=self.spent_usd + result.cost.usd)
        caption = f"{result.request.prompt[:60]} · seed {result.request.seed}"
        parameters = {**result.request.parameters(), **(result.inputs.parameters() if result.inputs else {})}
        batch = len(paths) > 1
        entries = tuple(
            HistoryEntry(path, {**parameters, **({"batch_index": i} if batch else {})},
                         caption + (f" · {i + 1} of {len(paths)}" if batch else ""), files, result.previews)
            for i, path in enumerate(paths))
        return replace(
            self,
            history=(*entries, *self.history)[:HISTORY_LIMIT],
            spent_usd=self.spent_usd + result.cost.usd,
            images=self.images + len(paths),
        )

    def gallery(self) -> list[tuple[str, str]]:
        return [(entry.path, entry.caption) for entry in self.history]
