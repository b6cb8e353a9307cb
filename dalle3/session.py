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


@dataclass(frozen=True)
class SessionState:
    """What a browser session has done: images (newest first, bounded) and spend."""

    history: tuple[HistoryEntry, ...] = ()
    spent_usd: float = 0.0
    images: int = 0

    def after(self, result: GenerationResult) -> "SessionState":
        """The state with ``result`` on top of the history.

        A cache hit for an image already in this history moves it to the top rather than
        listing it twice, so the gallery and the image count always agree.
        """
        path = str(result.path)
        earlier = [entry for entry in self.history if entry.path == path] if result.cached else []
        if earlier:
            rest = tuple(entry for entry in self.history if entry.path != path)
            return replace(self, history=(earlier[0], *rest), spent_usd=self.spent_usd + result.cost.usd)
        caption = f"{result.request.prompt[:60]} · seed {result.request.seed}"
        entry = HistoryEntry(path, result.request.parameters(), caption)
        return replace(
            self,
            history=(entry, *self.history)[:HISTORY_LIMIT],
            spent_usd=self.spent_usd + result.cost.usd,
            images=self.images + 1,
        )

    def gallery(self) -> list[tuple[str, str]]:
        return [(entry.path, entry.caption) for entry in self.history]
