"""Jobs as OpenAI Batches: half price, done within 24 hours, and they survive a restart.

Submitting writes the job's requests as JSONL (a ``custom_id`` per row),
uploads it (``POST /files``, ``purpose=batch``) and creates the Batch
(``POST /batches``). The job, its batch id and its rows are kept in the outputs
folder (:mod:`dalle3.jobs.store`); each pending Batch is checked with a
growing pause, and at the end downloads the output and error
files as streams, saves each row's images with that row's parameters, and
settles the spend cap from each row's ``usage`` at Batch prices.

:class:`dalle3.jobs.poll.BatchPoller` does the polling. Keys: a Batch on the server key
reserves its worst case at Batch prices when it is submitted (held again after a restart)
and is allowed only where the person may spend that key (a login, or the page served on loopback). A visitor's own
key submits on their behalf: the job is theirs alone, the key is kept in memory
only, so after a restart their Batch waits until they look at it with the key.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any, Callable

from dalle3.errors import DalleError, PermissionDeniedError, ValidationError, scrub
from dalle3.jobs import batch_files, edit_job, spec
from dalle3.jobs.batch_http import BatchHttp
from dalle3.jobs.sheet import sheet_for_job
from dalle3.jobs.spec import Job, refusal, request_from
from dalle3.jobs.store import SERVER_OWNER, SIMULATOR_OWNER, JobNotFoundError, JobRecord, JobStore, new_job_id
from dalle3.library import _loopback
from dalle3.results import SIMULATOR
from dalle3.settings import Settings
from dalle3.studio import Studio

BATCH_STATES = ("validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling",
                "cancelled")
TERMINAL = ("completed", "failed", "expired", "cancelled")


def server_key_allowed(settings: Settings, host: str) -> bool:
    """Whether a person at the page may spend the server key on a Batch: behind a login, or on loopback."""
    return bool(settings.auth) or (not settings.on_space and _loopback(host))


def is_open(record: JobRecord) -> bool:
    """A Batch still to follow: pending, or ended with its results not yet saved and its bill not settled."""
    return record.kind == "batch" and record.batch_id is not None and not record.settled


def visible(record: JobRecord, owner: str, server_allowed: bool) -> bool:
    """A job is its owner's; server and simulator jobs are shown where the server key may be spent."""
    return record.owner == owner or (server_allowed and record.owner in (SERVER_OWNER, SIMULATOR_OWNER))


class BatchManager:
    """Submits, polls, cancels and finishes Batches; one per process, thread-safe."""

    def __init__(self, studio: Studio, store: JobStore, http: BatchHttp | None = None) -> None:
        self.studio = studio
        self.store = store
        self.http = http or BatchHttp(studio.client)
        self.on_change: Callable[[str], None] = lambda job_id: None  # a poller checks that job soon
        self._keys: dict[str, str] = {}  # job id -> a visitor's own key, in memory only
        self._lock = threading.Lock()
        self._busy: set[str] = set()

    # ----- who may see and pay

    def owner(self, own_key: str | None) -> str:
        return self.store.owner_for(own_key, self.studio.backend_for(own_key) == SIMULATOR)

    def visible_jobs(self, own_key: str | None, server_allowed: bool) -> list[JobRecord]:
        owner = self.owner(own_key)
        return [r for r in self.store.all() if visible(r, owner, server_allowed)]

    def get(self, job_id: str, own_key: str | None, server_allowed: bool) -> JobRecord:
        record = self.store.load(job_id)
        if not visible(record, self.owner(own_key), server_allowed):
            raise JobNotFoundError(f"There is no job {job_id} here that you can see.")
        return record

    def _key_for(self, record: JobRecord, own_key: str | None = None) -> str | None:
        if record.owner == SERVER_OWNER:
            return self.studio.settings.api_key
        if own_key and self.store.owner_for(own_key) == record.owner:
            with self._lock:
                self._keys[record.id] = own_key
            return own_key
        with self._lock:
            return self._keys.get(record.id)

    # ----- submit, check, cancel

    def submit(self, job: Job, own_key: str | None = None, *, server_allowed: bool) -> JobRecord:
        """Send ``job`` as a Batch and keep it; raises DalleError (nothing is kept or reserved then)."""
        own_key = (own_key or "").strip() or None
        if self.studio.backend_for(own_key) == SIMULATOR:
            raise ValidationError("A Batch needs an OpenAI API key (the offline simulator cannot take one): set "
                                  "OPENAI_API_KEY or enter your own key, or run the job now.")
        owner = self.owner(own_key)
        if owner == SERVER_OWNER and not server_allowed:
            raise PermissionDeniedError("Batches on this server's key need a login (DALLE3_AUTH) here. Enter your "
                                        "own OpenAI API key to submit the Batch on your account.")
        estimate = job.estimate()
        reserved = estimate.batch_worst_usd if owner == SERVER_OWNER and self.studio.ledger.cap is not None else 0.0
        if owner == SERVER_OWNER and (why := refusal(job, batch=True, remaining_usd=self.studio.ledger.remaining)):
            raise ValidationError(why)
        if reserved:
            self.studio.ledger.reserve(reserved)
        record = JobRecord(id=new_job_id(), kind="batch", owner=owner, created=time.time(), count=job.count,
                           status="submitting", estimate_usd=estimate.batch_usd, reserved_usd=reserved, axes=job.axes,
                           endpoint=spec.endpoint(job), edit=edit_job.stored(job.edit))
        rows = (spec.stored_row(r) for r in job.rows)
        record = self.store.create(record, rows)
        key = own_key or self.studio.settings.api_key or ""
        try:
            path = self.store.folder(record.id) / "input.jsonl"
            files, record = self._upload_edit(job, record, key)
            batch_files.write_input(job.rows, path, record.endpoint, files=files)
            uploaded = self.http.upload(path, key)
            batch = self.http.create(uploaded["id"], record.endpoint, key, {"dalle3_job": record.id})
        except DalleError as exc:
            self._close(dataclasses.replace(record, status="failed", message=exc.user_message), images=0)
            raise
        if own_key:
            with self._lock:
                self._keys[record.id] = own_key
        record = self.store.save(self._apply(dataclasses.replace(record, input_file_id=uploaded["id"]), batch))
        self.on_change(record.id)
        return record

    def _upload_edit(self, job: Job, record: JobRecord, key: str) -> tuple[dict[str, Any] | None, JobRecord]:
        """A job of edits' files uploaded once each (:func:`dalle3.jobs.edit_job.upload`): the parts every
        row's body carries, and the record with the file ids kept so a restart knows what the Batch names."""
        if job.edit is None:
            return None, record
        files, kept = edit_job.upload(self.http, job.edit, key)
        return files, self.store.save(dataclasses.replace(record, edit={**(record.edit or {}), "files": kept}))

    def refresh(self, job_id: str, own_key: str | None = None) -> JobRecord:
        """Ask the API where a pending Batch stands; finish it when it has ended."""
        record = self.store.load(job_id)
        if not is_open(record):
            return record
        key = self._key_for(record, own_key)
        if not key:
            return dataclasses.replace(record, message="Enter the OpenAI API key this Batch was submitted with to "
                                                       "see where it stands.")
        with self._lock:
            if job_id in self._busy:
                return record
            self._busy.add(job_id)
        try:
            if record.status not in TERMINAL:  # an ended Batch whose files could not be saved yet is not asked again
                record = self.store.save(self._apply(record, self.http.retrieve(record.batch_id or "", key)))
            if record.status in TERMINAL:
                record = self._finish(record, key)
            return record
        finally:
            with self._lock:
                self._busy.discard(job_id)

    def cancel(self, job_id: str, own_key: str | None = None) -> JobRecord:
        """Ask the API to cancel a pending Batch; rows already done are still fetched and billed."""
        record = self.store.load(job_id)
        if record.kind != "batch" or not record.pending or record.batch_id is None:
            raise ValidationError(f"Job {job_id} is not a pending Batch, so there is nothing to cancel.")
        key = self._key_for(record, own_key)
        if not key:
            raise ValidationError("Enter the OpenAI API key this Batch was submitted with to cancel it.")
        record = self.store.save(self._apply(record, self.http.cancel(record.batch_id, key)))
        self.on_change(job_id)
        return record

    def _apply(self, record: JobRecord, batch: dict[str, Any]) -> JobRecord:
        """``record`` updated from a Batch object (status, counts, file ids, a failed Batch's reason)."""
        said = batch.get("status")
        status: str = said if isinstance(said, str) and said in BATCH_STATES else record.status
        given = batch.get("request_counts")
        counts: dict[str, Any] = given if isinstance(given, dict) else {}
        done: int = counts["completed"] if isinstance(counts.get("completed"), int) else record.done
        failed: int = counts["failed"] if isinstance(counts.get("failed"), int) else record.failed
        ids: dict[str, Any] = {name: batch.get(name) if isinstance(batch.get(name), str) else getattr(record, name)
                               for name in ("output_file_id", "error_file_id")}
        message = record.message
        if status == "failed":
            problems = (batch.get("errors") or {}).get("data") if isinstance(batch.get("errors"), dict) else None
            first = problems[0] if isinstance(problems, list) and problems and isinstance(problems[0], dict) else {}
            message = ("OpenAI refused the Batch: " + scrub(str(first.get("message") or "no reason given"))[:300])
        return dataclasses.replace(record, batch_id=batch.get("id", record.batch_id), status=status,
                                   done=min(done, record.count), failed=min(failed, record.count), message=message,
                                   **ids)

    # ----- the end of a Batch

    def _finish(self, record: JobRecord, key: str) -> JobRecord:
        """Download and save the results (skipping rows saved before a restart), then settle the cap."""
        folder = self.store.folder(record.id)
        seen = {r.get("custom_id") for r in self.store.results(record.id)}
        rows = {r["custom_id"]: r for r in self.store.rows(record.id)}
        for file_id, name in ((record.output_file_id, "output.jsonl"), (record.error_file_id, "errors.jsonl")):
            if not file_id:
                continue
            path = folder / name
            self.http.download(file_id, path, key)
            self.save_results(record, path, rows, seen)
            if name == "output.jsonl":
                path.unlink(missing_ok=True)  # the images are saved; gigabytes of base64 need not stay
        left = self._why_not_run(record)
        for custom_id in rows:
            if custom_id not in seen:
                self.store.add_result(record.id, {"custom_id": custom_id, "ok": False, "error": left, "paths": [],
                                                  "cost_usd": 0.0, "labels": rows[custom_id].get("labels", [])})
        if (sheet := sheet_for_job(self.store, record, self.studio.output_dir)) is not None:
            record = dataclasses.replace(record, sheet=str(sheet))
        return self._close(record)

    def save_results(self, record: JobRecord, path: Path, rows: dict[str, dict[str, Any]], seen: set[Any]) -> None:
        """Save every row of a downloaded output or error file, a line at a time (``seen`` rows are skipped)."""
        edit = record.edit or {}
        tags = {"job_id": record.id, "batch_id": record.batch_id, **(edit.get("parameters") or {})}
        tokens = int(edit.get("input_tokens") or 0)
        for line in batch_files.read_lines(path, self.studio.settings.base_url_shown):
            if line.custom_id in rows and line.custom_id not in seen:
                seen.add(line.custom_id)
                self.store.add_result(record.id, self._result(line, rows[line.custom_id], tags, tokens))

    def _result(self, line: batch_files.BatchLine, row: dict[str, Any], tags: dict[str, Any],
                input_tokens: int = 0) -> dict[str, Any]:
        result = {"custom_id": line.custom_id, "ok": False, "paths": [], "cost_usd": 0.0, "error": line.error,
                  "labels": row.get("labels", [])}
        if line.body is None:
            return result
        try:
            request = request_from(row["parameters"])
            paths, cost = batch_files.save_line(self.studio, line, request, {**tags, "job_row": line.custom_id},
                                                input_tokens)
        except (DalleError, OSError, KeyError) as exc:
            return {**result, "error": batch_files.describe(exc)}
        return {**result, "ok": True, "paths": [str(p) for p in paths], "cost_usd": round(cost.usd, 6),
                "cost_exact": not cost.estimate, "images": len(paths)}

    @staticmethod
    def _why_not_run(record: JobRecord) -> str:
        if record.status == "failed":
            return record.message or "OpenAI refused the Batch."
        if record.status == "expired":
            return "The Batch's 24 hours ran out before this request ran; it was not billed."
        if record.status == "cancelled":
            return "The Batch was cancelled before this request ran; it was not billed."
        return "The Batch's files did not mention this request."

    def _close(self, record: JobRecord, images: int | None = None) -> JobRecord:
        """Count the results, settle the reservation once, and keep the record."""
        results = list(self.store.results(record.id))
        spent = sum(float(r.get("cost_usd") or 0.0) for r in results)
        made = sum(int(r.get("images") or 0) for r in results) if images is None else images
        done, failed = sum(bool(r.get("ok")) for r in results), sum(not r.get("ok") for r in results)
        if not record.settled and record.owner == SERVER_OWNER:
            self.studio.ledger.settle(record.reserved_usd, spent, made)
        if results:
            record = dataclasses.replace(record, done=done, failed=failed)
        return self.store.save(dataclasses.replace(record, spent_usd=round(spent, 6), settled=True))

    # ----- after a restart

    def resume(self) -> list[str]:
        """Hold again the reservations of Batches open at the last stop; return their ids, to be polled.

        A job stopped between the upload and the Batch's creation has no Batch to follow: it is failed,
        its reservation released.
        """
        open_ids = []
        for record in self.store.all():
            if record.kind != "batch" or record.settled:
                continue
            if record.status == "submitting":
                self._close(dataclasses.replace(record, status="failed", message=(
                    "The app stopped while this Batch was being submitted; check "
                    "https://platform.openai.com/batches before submitting it again.")), images=0)
                continue
            if record.owner == SERVER_OWNER and record.reserved_usd:
                self.studio.ledger.reserve(record.reserved_usd, checked=False)
            open_ids.append(record.id)
        return open_ids
