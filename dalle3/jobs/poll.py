"""Following open Batches in the background: each checked after a pause that grows while nothing changes.

10 seconds after a Batch is submitted, cancelled or changes state; then 1.5 times
longer at each check that finds it unchanged (or fails), up to 5 minutes. A
restart resumes every open Batch at once (:meth:`BatchManager.resume`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from dalle3.errors import DalleError
from dalle3.jobs.batch import BatchManager, is_open
from dalle3.jobs.store import JobNotFoundError, JobRecord

log = logging.getLogger("dalle3.jobs")

POLL_FIRST_S = 10.0
POLL_MAX_S = 300.0
POLL_GROWTH = 1.5


class BatchPoller:
    """One per process (see :func:`dalle3.jobs.service.jobs_for`)."""

    def __init__(self, manager: BatchManager, clock: Callable[[], float] = time.monotonic) -> None:
        self.manager = manager
        self._clock = clock
        self._next: dict[str, tuple[float, float]] = {}  # job id -> (when to check, pause after that)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        manager.on_change = self.schedule

    def resume(self) -> None:
        """Re-hold the reservations of open Batches and check each at once."""
        for job_id in self.manager.resume():
            self.schedule(job_id, 0.0)

    def start(self) -> threading.Thread:
        self.resume()
        self._thread = threading.Thread(target=self._loop, name="dalle3-batches", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def schedule(self, job_id: str, delay_s: float = POLL_FIRST_S) -> None:
        with self._lock:
            self._next[job_id] = (self._clock() + delay_s, max(POLL_FIRST_S, delay_s))
        self._wake.set()

    def poll_due(self) -> list[JobRecord]:
        """Check every open Batch whose pause is over; returns what was found."""
        now = self._clock()
        with self._lock:
            due = [(job_id, pause) for job_id, (when, pause) in self._next.items() if when <= now]
        checked = []
        for job_id, pause in due:
            try:
                before = self.manager.store.load(job_id)
                record: JobRecord | None = self.manager.refresh(job_id)
            except JobNotFoundError:  # its folder was removed: nothing left to follow
                with self._lock:
                    self._next.pop(job_id, None)
                continue
            except DalleError as exc:
                log.warning("Checking job %s failed: %s", job_id, exc.user_message)
                record = None
            with self._lock:
                if record is not None and not is_open(record):
                    self._next.pop(job_id, None)
                else:
                    changed = record is not None and record.status != before.status
                    pause = POLL_FIRST_S if changed else min(POLL_MAX_S, pause * POLL_GROWTH)
                    self._next[job_id] = (self._clock() + pause, pause)
            if record is not None:
                checked.append(record)
        return checked

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_due()
            except Exception:  # noqa: BLE001 - the poller must outlive one bad job
                log.exception("The Batch poller hit an unexpected error; it keeps going.")
            with self._lock:
                soonest = min((when for when, _ in self._next.values()), default=self._clock() + POLL_MAX_S)
            self._wake.wait(max(0.05, min(POLL_MAX_S, soonest - self._clock())))
            self._wake.clear()
