"""Repeats answered for free: a bounded cache of finished results, and one call for identical requests.

Unchanged inputs give the same image again at no cost. A key names who pays (see
:mod:`dalle3.studio.payers`), so a payer never receives another's image. Identical requests
in flight at once wait for the first instead of paying again; requests of different payers
never wait for each other.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Hashable, Iterator

from dalle3.cache import LRUCache
from dalle3.models.pricing import Price
from dalle3.results import GenerationResult


class Recall:
    """Long-lived and thread-safe: one per studio."""

    def __init__(self, size: int = 256) -> None:
        self.cache: LRUCache[GenerationResult] = LRUCache(size)
        self._guard = threading.Lock()
        self._inflight: dict[Hashable, threading.Lock] = {}

    def get_or_make(self, key: Hashable, make: Callable[[float], GenerationResult]) -> GenerationResult:
        """The result kept for ``key`` (marked ``cached``, free), else ``make(started)``'s, kept for next time.

        ``started`` is the ``time.perf_counter()`` at the call, so a result's ``elapsed_s``
        includes any wait for an identical request in flight.
        """
        started = time.perf_counter()
        if hit := self._cached(key, started):
            return hit
        with self._single_flight(key):
            if hit := self._cached(key, started):
                return hit
            result = make(started)
            self.cache.put(key, result)
            return result

    def _cached(self, key: Hashable, started: float) -> GenerationResult | None:
        """A kept result whose file is still there, as a free repeat; a result whose file went is dropped."""
        hit = self.cache.get(key)
        if hit is None:
            return None
        if not hit.path.exists():
            self.cache.pop(key)
            return None
        return replace(hit, cached=True, cost=Price(0.0), elapsed_s=time.perf_counter() - started, attempts=0)

    @contextmanager
    def _single_flight(self, key: Hashable) -> Iterator[None]:
        """Identical requests in flight at once wait for the first instead of paying again."""
        with self._guard:
            lock = self._inflight.setdefault(key, threading.Lock())
        try:
            with lock:
                yield
        finally:
            with self._guard:
                if self._inflight.get(key) is lock and not lock.locked():
                    del self._inflight[key]
