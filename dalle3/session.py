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
from dalle3.studio import GenerationResult

SEED_CONTROLS = ("fixed", "increment", "decrement", "randomize")
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


@dataclass(frozen=True)
class SessionState:
    """What a browser session has done: images (newest first, bounded) and spend."""

    history: tuple[HistoryEntry, ...] = ()
    spent_usd: float = 0.0
    images: int = 0

    def after(self, result: GenerationResult) -> "SessionState":
        caption = f"{result.request.prompt[:60]} · seed {result.request.seed}"
        entry = HistoryEntry(str(result.path), result.request.parameters(), caption)
        return replace(
            self,
            history=(entry, *self.history)[:HISTORY_LIMIT],
            spent_usd=self.spent_usd + result.cost.usd,
            images=self.images + (0 if result.cached else 1),
        )

    def gallery(self) -> list[tuple[str, str]]:
        return [(entry.path, entry.caption) for entry in self.history]
