"""One process's jobs: the store, the run-now runner and the Batch manager, plus what the doors show.

:func:`jobs_for` gives one :class:`Jobs` per :class:`~dalle3.studio.Studio`, so the
page, the HTTP API and MCP share one poller (two pollers over one folder would
save a Batch's images twice). The texts here are computed without Gradio;
anything that came from outside (prompts, the API's error text) is escaped.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from typing import Any, Mapping

from dalle3.errors import ValidationError
from dalle3.jobs import spec
from dalle3.jobs.batch import BatchManager
from dalle3.jobs.poll import BatchPoller
from dalle3.jobs.run import JobRunner, Progress
from dalle3.jobs.store import JobRecord, JobStore, shown_name
from dalle3.models.pricing import format_usd
from dalle3.views.status import inert
from dalle3.studio import Studio

_REGISTRY: "weakref.WeakKeyDictionary[Studio, Jobs]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
RESULTS_SHOWN = 200  # rows listed by a status answer; the rest are in the outputs folder


class Jobs:
    """The jobs of one outputs folder."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.store = JobStore(studio.output_dir)
        self.runner = JobRunner(studio, self.store)
        self.batches = BatchManager(studio, self.store)
        self.poller = BatchPoller(self.batches)
        self._started = False

    def start(self) -> None:
        """Resume pending Batches in the background (once)."""
        with _LOCK:
            if self._started:
                return
            self._started = True
        for record in self.store.all():  # a run-now job cannot outlive its process: what it saved is kept
            if record.kind == "now" and record.status == "running":
                self.store.save(dataclasses.replace(record, status="stopped", message=(
                    "The app stopped while this job ran; the images it saved are kept. Run the job again for "
                    "the rest.")))
        self.poller.start()

    def run_in_background(self, job: spec.Job, own_key: str | None) -> JobRecord:
        """Start a run-now job on a thread and return its record at once (the HTTP API and MCP)."""
        record = self.runner.create(job, own_key)
        threading.Thread(target=self.runner.run, args=(record, job, own_key), daemon=True,
                         name=f"dalle3-{record.id}").start()
        return record

    def report(self, record: JobRecord) -> dict[str, Any]:
        """A job as the API shows it: its record, and its results (file names, not server paths) once ended."""
        data = record.public()
        if not record.pending:
            rows: list[dict[str, Any]] = []
            for result in self.store.results(record.id):
                if len(rows) >= RESULTS_SHOWN:
                    data["results_truncated"] = True
                    break
                rows.append({"custom_id": result.get("custom_id"), "ok": bool(result.get("ok")),
                             "error": result.get("error"), "cost_usd": result.get("cost_usd", 0.0),
                             "labels": dict(map(tuple, result.get("labels") or [])),
                             "files": [shown_name(p) for p in result.get("paths") or []]})
            data["results"] = sorted(rows, key=lambda r: str(r["custom_id"]))
        return data


def jobs_for(studio: Studio) -> Jobs:
    with _LOCK:
        if studio not in _REGISTRY:
            _REGISTRY[studio] = Jobs(studio)
        return _REGISTRY[studio]


def parse_shared_parameters(text: str) -> dict[str, str]:
    """``name: value`` per line: the settings every row of a job shares (a row's own settings win)."""
    settings: dict[str, str] = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not value.strip():
            raise ValidationError(f"Write each setting as 'name: value' (such as 'quality: high'); "
                                  f"{line.strip()[:40]!r} is not.")
        settings[name.strip().lower().replace(" ", "_")] = value.strip()
    return settings


def job_from(given: Mapping[str, Any], file_rows: list[dict[str, Any]] | None = None,
             safety_identifier: str | None = None) -> spec.Job:
    """A job from the page's or the API's fields: prompts, template, lists, axes, settings, model."""
    rows = spec.prompt_lines(str(given.get("prompts") or ""))
    if str(given.get("template") or "").strip():
        lists = spec.named_lists(str(given.get("lists") or ""))
        rows += [{"prompt": p} for p in spec.expand_template(str(given["template"]).strip(), lists)]
    rows += file_rows or []
    base = parse_shared_parameters(str(given.get("settings") or ""))
    if given.get("model"):
        base.setdefault("model", str(given["model"]))
    job = spec.build_job(rows, base, spec.parse_axes(str(given.get("axes") or "")))
    if safety_identifier is None:
        return job
    rows_with_id = tuple(dataclasses.replace(r, request=dataclasses.replace(r.request, safety_identifier=safety_identifier))
                         for r in job.rows)
    return dataclasses.replace(job, rows=rows_with_id)


def progress_markdown(progress: Progress) -> str:
    """The progress bar and its figures as HTML in Markdown."""
    done = progress.total - progress.left
    return (f'<progress value="{done}" max="{max(1, progress.total)}" style="width:100%"></progress>\n\n'
            f"{progress.text()}")


def jobs_table(records: list[JobRecord]) -> list[list[Any]]:
    """Rows for the page's table of jobs: id, kind, status, done, failed, left, cost, note."""
    rows = []
    for r in records:
        cost = format_usd(r.spent_usd) if r.settled or r.kind == "now" else f"≈ {format_usd(r.estimate_usd)}"
        rows.append([r.id, "Batch" if r.kind == "batch" else "now", r.status, r.done, r.failed, r.left, cost,
                     r.message[:200]])
    return rows


def failures_markdown(jobs: Jobs, record: JobRecord, limit: int = 20) -> str:
    """The failed rows of an ended job, each with its reason in plain (escaped) words."""
    lines = []
    for result in jobs.store.results(record.id):
        if not result.get("ok") and not result.get("stopped"):
            lines.append(f"- `{inert(str(result.get('custom_id')))}`: {inert(str(result.get('error')))}")
            if len(lines) >= limit:
                lines.append(f"- … see the job's results for the rest ({record.failed} failed in all)")
                break
    return "\n".join(lines)
