"""Running a job now: its requests within ``DALLE3_CONCURRENCY``, each through :class:`~dalle3.studio.Studio`.

A job of edits sends each row through :meth:`~dalle3.studio.Studio.edit` with the
job's references, so its images record them as a single edit's do. So every
request is what a click would be: validated already, answered from the
cache when repeated, reserved against the spend cap one by one on the server
key, saved with its parameters (and the job's id and row) and recorded in the
library. One failed request is reported and the others go on; Stop ends what
has not started (what is in flight finishes and is kept).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from dalle3.edits.inputs import EditInputs
from dalle3.errors import DalleError
from dalle3.jobs.sheet import sheet_for_job
from dalle3.jobs import edit_job, spec
from dalle3.jobs.spec import Job, JobRow
from dalle3.jobs.store import JobRecord, JobStore, new_job_id
from dalle3.studio import Studio

PROGRESS_EVERY = 25  # rows between writes of the job's record while it runs


@dataclass(frozen=True)
class RowResult:
    """One row's outcome: its images, or the plain-language reason it failed (or that it was stopped)."""

    custom_id: str
    labels: tuple[tuple[str, str], ...]
    paths: tuple[Path, ...] = ()
    error: str | None = None
    cost_usd: float = 0.0
    cost_exact: bool = False
    seconds: float = 0.0
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.stopped

    def stored(self) -> dict:
        return {"custom_id": self.custom_id, "ok": self.ok, "paths": [str(p) for p in self.paths],
                "error": self.error, "cost_usd": round(self.cost_usd, 6), "cost_exact": self.cost_exact,
                "seconds": round(self.seconds, 3), "stopped": self.stopped, "labels": [list(pair) for pair in self.labels]}


@dataclass(frozen=True)
class Progress:
    """Where a running job stands: the progress bar's figures."""

    total: int
    done: int = 0
    failed: int = 0
    stopped: int = 0
    spent_usd: float = 0.0
    elapsed_s: float = 0.0

    @property
    def left(self) -> int:
        return self.total - self.done - self.failed - self.stopped

    @property
    def fraction(self) -> float:
        return (self.total - self.left) / self.total if self.total else 1.0

    def text(self) -> str:
        stopped = f" · {self.stopped} stopped" if self.stopped else ""
        return (f"{self.done} done · {self.failed} failed · {self.left} left{stopped} · "
                f"${self.spent_usd:.3f} spent · {self.elapsed_s:.0f} s")


class JobRunner:
    """Starts run-now jobs and stops them by id; one per process."""

    def __init__(self, studio: Studio, store: JobStore) -> None:
        self.studio = studio
        self.store = store
        self._stops: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        # DALLE3_CONCURRENCY holds across jobs: two people's jobs share it rather than doubling it
        self._slots = threading.BoundedSemaphore(max(1, studio.settings.concurrency))

    def create(self, job: Job, own_key: str | None = None) -> JobRecord:
        """Keep ``job`` as a new run-now job (status "running") and return its record."""
        owner = self.store.owner_for(own_key, self.studio.backend_for(own_key) == "simulator")
        record = JobRecord(id=new_job_id(), kind="now", owner=owner, created=time.time(), count=job.count,
                           status="running", estimate_usd=job.estimate().now_usd, axes=job.axes,
                           endpoint=spec.endpoint(job), edit=edit_job.stored(job.edit))
        rows = (spec.stored_row(r) for r in job.rows)
        record = self.store.create(record, rows)
        with self._lock:
            self._stops[record.id] = threading.Event()
        return record

    def stop(self, job_id: str) -> bool:
        """Ask a running job to start nothing more; False when no such job runs here."""
        with self._lock:
            event = self._stops.get(job_id)
        if event is None:
            return False
        event.set()
        return True

    def run(self, record: JobRecord, job: Job, own_key: str | None = None,
            on_result: Callable[[RowResult, Progress], None] | None = None,
            concurrency: int | None = None) -> tuple[JobRecord, list[RowResult]]:
        """Run every row of ``job`` (blocking); ``on_result`` is called as each row ends, from worker threads."""
        with self._lock:
            stop = self._stops.setdefault(record.id, threading.Event())
        workers = max(1, concurrency or self.studio.settings.concurrency)
        started = time.perf_counter()
        state = {"progress": Progress(job.count)}
        results: list[RowResult] = []
        guard = threading.Lock()

        def one(row: JobRow) -> None:
            result = self._row(record.id, row, own_key, stop, job.edit)
            with guard:
                p = state["progress"]
                p = dataclasses.replace(p, done=p.done + (result.ok and not result.stopped),
                                        failed=p.failed + (result.error is not None),
                                        stopped=p.stopped + result.stopped, spent_usd=p.spent_usd + result.cost_usd,
                                        elapsed_s=time.perf_counter() - started)
                state["progress"] = p
                results.append(result)
                if not result.stopped:
                    self.store.add_result(record.id, result.stored())
                if len(results) % PROGRESS_EVERY == 0:
                    self._save_progress(record, p, "running")
            if on_result is not None:
                on_result(result, p)

        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"job-{record.id[-6:]}") as pool:
                for future in [pool.submit(one, row) for row in job.rows]:
                    future.result()
        finally:
            with self._lock:
                self._stops.pop(record.id, None)
        progress = state["progress"]
        final = self._save_progress(record, progress, "stopped" if progress.stopped else "done")
        if job.axes and (path := sheet_for_job(self.store, final, self.studio.output_dir)) is not None:
            final = self.store.save(dataclasses.replace(final, sheet=str(path)))
        return final, sorted(results, key=lambda r: r.custom_id)

    def _save_progress(self, record: JobRecord, progress: Progress, status: str) -> JobRecord:
        return self.store.save(dataclasses.replace(record, status=status, done=progress.done, failed=progress.failed,
                                                   spent_usd=round(progress.spent_usd, 6)))

    def _row(self, job_id: str, row: JobRow, own_key: str | None, stop: threading.Event,
             edit: EditInputs | None) -> RowResult:
        if stop.is_set():
            return RowResult(row.custom_id, row.labels, stopped=True)
        with self._slots:
            if stop.is_set():  # Stop was pressed while this row waited for a slot
                return RowResult(row.custom_id, row.labels, stopped=True)
            return self._call(job_id, row, own_key, edit)

    def _call(self, job_id: str, row: JobRow, own_key: str | None, edit: EditInputs | None) -> RowResult:
        """One row through the studio: an edit of the job's references, or a generation."""
        began = time.perf_counter()
        tags = {"job_id": job_id, "job_row": row.custom_id}
        try:
            if edit is not None:
                result = self.studio.edit(row.request, edit, own_key, job=tags)
            else:
                result = self.studio.generate(row.request, own_key, job=tags)
        except DalleError as exc:
            return RowResult(row.custom_id, row.labels, error=exc.user_message, seconds=time.perf_counter() - began)
        except Exception as exc:  # noqa: BLE001 - one broken row must not stop the others
            return RowResult(row.custom_id, row.labels, error=f"This request failed unexpectedly "
                             f"({type(exc).__name__}); the other requests go on.", seconds=time.perf_counter() - began)
        return RowResult(row.custom_id, row.labels, paths=result.paths, cost_usd=result.cost.usd,
                         cost_exact=not result.cost.estimate, seconds=result.elapsed_s)
