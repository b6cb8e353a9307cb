"""The spend cap on the server key, kept across restarts.

The person who set ``DALLE3_MAX_SPEND_USD`` on a public Space pays for every
visitor, so the cap must hold under concurrency: a request *reserves* its
worst-case price before the call (two requests cannot both squeeze under the
cap), then settles at the real price. The total is written atomically to a
small JSON file next to the outputs, so a restart does not reset it.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from dalle3.errors import SpendCapError
from dalle3.pricing import format_usd
from dalle3.storage import atomic_replace

LEDGER_NAME = ".spend-ledger.json"


class SpendLedger:
    """Spent and reserved USD on the server key; ``cap`` None means no cap."""

    def __init__(self, path: Path, cap: float | None) -> None:
        self.path = path
        self.cap = cap
        self._lock = threading.Lock()
        self._reserved = 0.0
        self.spent, self.images = self._load()

    def _load(self) -> tuple[float, int]:
        try:
            data = json.loads(self.path.read_text())
            return float(data.get("spent_usd", 0.0)), int(data.get("images", 0))
        except (OSError, ValueError, AttributeError):  # no ledger yet, or not one we wrote
            return 0.0, 0

    @contextmanager
    def hold(self, worst_case: float) -> Iterator["_Charge"]:
        """Reserve ``worst_case`` for one call; record what ``charge.usd`` says when it ends."""
        with self._lock:
            if self.cap is not None and self.spent + self._reserved + worst_case > self.cap + 1e-9:
                raise SpendCapError(
                    f"This server's spending cap ({format_usd(self.cap)}) is reached: "
                    f"{format_usd(self.spent)} spent so far. Enter your own OpenAI API key to keep "
                    "generating, or ask the owner to raise DALLE3_MAX_SPEND_USD.")
            self._reserved += worst_case
        charge = _Charge()
        try:
            yield charge
        finally:
            with self._lock:
                self._reserved -= worst_case
                if charge.usd:
                    self.spent += charge.usd
                    self.images += 1
                    payload = {"spent_usd": round(self.spent, 6), "images": self.images}
                    atomic_replace(self.path, json.dumps(payload).encode())


class _Charge:
    """Set ``usd`` to what the call really cost; left at 0 when it failed."""

    usd: float = 0.0
