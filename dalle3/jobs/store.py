"""Jobs kept in the outputs folder, so a restart finds every pending Batch again.

Each job is a folder ``.jobs/<job id>/`` beside the images: ``job.json`` (its
record, replaced atomically), ``rows.jsonl`` (every row's ``custom_id`` and
parameters, written once) and ``results.jsonl`` (one line per finished row,
appended). Whose job it is: "server" (the server key), "simulator", or
"own:" + an HMAC of the visitor's key under a salt kept in the same folder:
the key itself is never written, and the same key finds its jobs after a restart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from dalle3.errors import DalleError
from dalle3.files.storage import atomic_replace

JOBS_DIR = ".jobs"
SERVER_OWNER = "server"
SIMULATOR_OWNER = "simulator"
_SALT = ".owner-salt"
_JOB_ID = re.compile(r"job-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}")
_MAX_RECORD_BYTES = 64 * 1024

PENDING = ("submitting", "validating", "in_progress", "finalizing", "cancelling", "running", "downloading")
FINISHED = ("completed", "failed", "expired", "cancelled", "stopped", "done")


class JobNotFoundError(DalleError):
    """No job with that id is visible to the one asking."""

    title = "Jobs"


@dataclass(frozen=True)
class JobRecord:
    """One job as it is kept; ``status`` is the Batch's own word for a Batch, else running/done/stopped."""

    id: str
    kind: str  # "now" | "batch"
    owner: str
    created: float
    count: int
    status: str
    estimate_usd: float = 0.0
    reserved_usd: float = 0.0  # a server-key Batch's hold on the spend cap until it settles
    spent_usd: float = 0.0
    done: int = 0
    failed: int = 0
    axes: tuple[str, ...] = ()
    endpoint: str = "/v1/images/generations"
    batch_id: str | None = None
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    message: str = ""  # a sentence for people: why it failed, what is left to do
    settled: bool = False
    sheet: str | None = None  # the contact sheet's file name, relative to the outputs folder
    # a job of edits: what each image records of its references (hashes and names, never pixels), their
    # input tokens, and a Batch's uploaded file ids ({"images": {sha256: file id}, "mask": file id})
    edit: dict[str, Any] | None = None
    updated: float = 0.0

    @property
    def pending(self) -> bool:
        return self.status in PENDING

    @property
    def left(self) -> int:
        return max(0, self.count - self.done - self.failed)

    def public(self) -> dict[str, Any]:
        """The record as the API and MCP show it (no owner hash)."""
        data = dataclasses.asdict(self)
        data.pop("owner")
        data["axes"] = list(self.axes)
        data["sheet"] = shown_name(self.sheet) if self.sheet else None
        data["left"] = self.left
        return data


def shown_name(path: str | Path) -> str:
    """``YYYY-MM-DD/name.png``: enough to find a file in the outputs folder, no server path."""
    parts = str(path).replace("\\", "/").rsplit("/", 2)
    return "/".join(parts[-2:])


def new_job_id() -> str:
    return time.strftime("job-%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(3)


class JobStore:
    """The ``.jobs`` folder of one outputs folder; thread-safe."""

    def __init__(self, output_dir: Path) -> None:
        self.root = Path(output_dir) / JOBS_DIR
        self._lock = threading.Lock()
        self._salt: bytes | None = None

    def owner_for(self, own_key: str | None, simulated: bool = False) -> str:
        """Whose a job made with ``own_key`` is (see the module docstring)."""
        if simulated:
            return SIMULATOR_OWNER
        if not own_key:
            return SERVER_OWNER
        return "own:" + hmac.new(self._owner_salt(), own_key.encode("utf-8"), hashlib.sha256).hexdigest()

    def _owner_salt(self) -> bytes:
        with self._lock:
            if self._salt is None:
                path = self.root / _SALT
                try:
                    self._salt = path.read_bytes()
                except FileNotFoundError:
                    self._salt = b""
                if len(self._salt) < 32:
                    self._salt = secrets.token_bytes(32)
                    atomic_replace(path, self._salt)
            return self._salt

    def folder(self, job_id: str) -> Path:
        if not _JOB_ID.fullmatch(job_id or ""):
            raise JobNotFoundError(f"{str(job_id)[:40]!r} is not a job id (they look like job-20260101-120000-abc123).")
        return self.root / job_id

    def create(self, record: JobRecord, rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> JobRecord:
        """Write a new job's rows, then its record (a record never points at rows half written)."""
        folder = self.folder(record.id)
        folder.mkdir(parents=True, exist_ok=False)
        with open(folder / "rows.jsonl", "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        return self.save(record)

    def save(self, record: JobRecord) -> JobRecord:
        record = dataclasses.replace(record, updated=time.time())
        data = json.dumps(dataclasses.asdict(record), ensure_ascii=False).encode("utf-8")
        atomic_replace(self.folder(record.id) / "job.json", data)
        return record

    def load(self, job_id: str) -> JobRecord:
        path = self.folder(job_id) / "job.json"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise JobNotFoundError(f"There is no job {job_id} here.") from None
        return _record(raw, job_id)

    def all(self) -> list[JobRecord]:
        """Every job whose record can be read, newest first (an unreadable one is skipped)."""
        try:
            names = [e.name for e in os.scandir(self.root) if e.is_dir() and _JOB_ID.fullmatch(e.name)]
        except OSError:
            return []
        records = []
        for name in names:
            try:
                records.append(self.load(name))
            except (JobNotFoundError, OSError):
                continue
        return sorted(records, key=lambda r: r.created, reverse=True)

    def rows(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The job's rows as written, read a line at a time."""
        with open(self.folder(job_id) / "rows.jsonl", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)

    def add_result(self, job_id: str, result: dict[str, Any]) -> None:
        line = json.dumps(result, ensure_ascii=False) + "\n"
        with self._lock, open(self.folder(job_id) / "results.jsonl", "a", encoding="utf-8") as handle:
            handle.write(line)

    def results(self, job_id: str) -> Iterator[dict[str, Any]]:
        try:
            handle = open(self.folder(job_id) / "results.jsonl", encoding="utf-8")
        except FileNotFoundError:
            return
        with handle:
            for line in handle:
                try:
                    yield json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash mid-write


def _record(raw: bytes, job_id: str) -> JobRecord:
    problem = JobNotFoundError(f"The record of job {job_id} cannot be read (damaged?).")
    if len(raw) > _MAX_RECORD_BYTES:
        raise problem
    try:
        data = json.loads(raw)
        names = {f.name for f in dataclasses.fields(JobRecord)}
        data = {k: v for k, v in data.items() if k in names}
        data["axes"] = tuple(data.get("axes") or ())
        if not isinstance(data.get("edit"), (dict, type(None))):
            raise ValueError("edit")
        record = JobRecord(**data)
    except (ValueError, TypeError, AttributeError):
        raise problem from None
    if record.id != job_id:
        raise problem
    return record
