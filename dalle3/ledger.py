"""The spend cap on the server key, kept across restarts.

The person who set ``DALLE3_MAX_SPEND_USD`` on a public Space pays for every
visitor, so the cap must hold under concurrency: a request *reserves* its
worst-case price before the call (two requests cannot both squeeze under the
cap), then settles at the real price. The total is written atomically to a
small JSON file next to the outputs, so a restart does not reset it.

It fails closed: a ledger that exists but cannot be read, is not JSON, or
holds a total that is not a finite, non-negative number stops the server key
(with one log line naming the file) until an operator fixes or deletes it.
Treating it as $0 would let a truncated file reset the spending, and a NaN
total would switch the cap off for good (every comparison with NaN is false).
A missing file is a fresh start.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from dalle3.errors import LedgerUnreadableError, SpendCapError
from dalle3.models.pricing import format_usd
from dalle3.files.storage import atomic_replace

LEDGER_NAME = ".spend-ledger.json"
_MAX_LEDGER_BYTES = 4096  # ours is ~40 bytes; anything far bigger is not one we wrote

log = logging.getLogger("dalle3")


class _Unreadable(Exception):
    """Why the ledger file cannot be trusted (a phrase: "is not valid JSON")."""


def read_ledger(path: Path) -> tuple[float, int]:
    """(spent USD, images) from ``path``; (0, 0) when it does not exist; _Unreadable otherwise."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return 0.0, 0
    except OSError as exc:
        raise _Unreadable(f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > _MAX_LEDGER_BYTES:
        raise _Unreadable(f"is {len(raw):,} bytes, far larger than a ledger this app writes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise _Unreadable("is not valid JSON (truncated or edited?)") from None
    spent = data.get("spent_usd") if isinstance(data, dict) else None
    images = data.get("images", 0) if isinstance(data, dict) else None
    if isinstance(spent, bool) or not isinstance(spent, (int, float)) or not math.isfinite(spent) or spent < 0:
        raise _Unreadable("has no finite, non-negative spent_usd")
    if isinstance(images, bool) or not isinstance(images, int) or images < 0:
        raise _Unreadable("has no whole, non-negative images count")
    return float(spent), images


class SpendLedger:
    """Spent and reserved USD on the server key; ``cap`` None means no cap."""

    def __init__(self, path: Path, cap: float | None) -> None:
        self.path = path
        self.cap = cap
        self._lock = threading.Lock()
        self._reserved = 0.0
        self.spent, self.images = 0.0, 0
        self.problem: str | None = None  # why the file cannot be trusted; None when it can
        self._reload()

    def _reload(self) -> None:
        try:
            self.spent, self.images = read_ledger(self.path)
        except _Unreadable as reason:
            if str(reason) != self.problem:  # one log line per distinct problem, not one per visitor
                log.error("Spend ledger %s %s. The server key is stopped until an operator fixes or deletes "
                          "that file (deleting it restarts the count at $0).", self.path, reason)
            self.problem = str(reason)
            return
        if self.problem is not None:
            log.warning("Spend ledger %s is readable again: the server key is back on.", self.path)
        self.problem = None

    def check(self, worst_case: float) -> None:
        """Raise what :meth:`hold` would raise for ``worst_case`` now, reserving nothing.

        For work that comes before the call (decoding reference images): a call the cap
        refuses is refused before that work, and :meth:`hold` still decides at the call.
        """
        with self._lock:
            self._admit(worst_case)

    def reserve(self, worst_case: float, *, checked: bool = True) -> None:
        """Hold ``worst_case`` until :meth:`settle` (a Batch, which outlives any one call).

        ``checked=False`` re-holds a reservation admitted before a restart, without the cap check.
        """
        with self._lock:
            if checked:
                self._admit(worst_case)
            self._reserved += worst_case

    def settle(self, worst_case: float, usd: float, images: int) -> None:
        """Release a :meth:`reserve` and record what was billed (``usd`` for ``images``)."""
        with self._lock:
            self._reserved = max(0.0, self._reserved - worst_case)
            if usd:
                self.spent += usd
                self.images += images
                self._persist()

    @property
    def remaining(self) -> float | None:
        """What is left under the cap now (reservations count as spent); None without a cap."""
        with self._lock:
            return None if self.cap is None else self.cap - self.spent - self._reserved

    @contextmanager
    def hold(self, worst_case: float, images: int = 1) -> Iterator["_Charge"]:
        """Reserve ``worst_case`` for one call (a batch of ``images``); record ``charge`` when it ends."""
        with self._lock:
            self._admit(worst_case)
            self._reserved += worst_case
        charge = _Charge()
        charge.images = images
        try:
            yield charge
        finally:
            with self._lock:
                self._reserved -= worst_case
                if charge.usd:
                    self.spent += charge.usd
                    self.images += 0 if charge.abandoned else charge.images
                    self._persist()

    def _admit(self, worst_case: float) -> None:
        """Raise unless ``worst_case`` more fits under the cap (lock held)."""
        if self.problem is not None:
            self._reload()  # the operator may have fixed or deleted the file since
        if self.problem is not None and self.cap is not None:
            raise LedgerUnreadableError(
                f"The server key is paused: its spending record ({self.path.name}) could not be read, "
                "so the spending cap cannot be checked. Enter your own OpenAI API key to keep generating; "
                f"the owner must fix or delete {self.path.name} in the output folder (the server log says why).")
        if self.cap is not None and self.spent + self._reserved + worst_case > self.cap + 1e-9:
            raise SpendCapError(
                f"This server's spending cap ({format_usd(self.cap)}) is reached: "
                f"{format_usd(self.spent)} spent so far. Enter your own OpenAI API key to keep "
                "generating, or ask the owner to raise DALLE3_MAX_SPEND_USD.")

    def _persist(self) -> None:
        """Write the total (lock held); a broken file is left alone for the operator to see."""
        if self.problem is not None:
            return
        payload = {"spent_usd": round(self.spent, 6), "images": self.images}
        try:
            atomic_replace(self.path, json.dumps(payload).encode())
        except OSError as exc:  # the total in memory still holds the cap in this process
            log.error("Could not write the spend ledger %s (%s); the cap holds until this process ends.",
                      self.path, exc.strerror or type(exc).__name__)


class _Charge:
    """Set ``usd`` to what the call cost: the bill, or its reservation when it was abandoned
    (``abandoned``: sent, then given up on, so it may be billed); left at 0 when nothing was billed.
    ``images``: how many the call made (a batch), counted when it is billed and not abandoned."""

    usd: float = 0.0
    abandoned: bool = False
    images: int = 1
