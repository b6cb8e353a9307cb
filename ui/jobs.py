"""The Jobs tab and the ``/batch`` API: many requests at once, run now or as a half-price OpenAI Batch.

The tab makes a job (prompts, a template with lists, compare axes, settings for
every row, or a CSV/JSONL file), shows its count and estimates before anything
runs, runs it now with a progress bar and Stop, or submits it as a Batch and
lists pending jobs with their status and a Cancel. Reference images (and a mask)
added to a job make it a job of edits: every row edits them. ``/batch`` takes
them as ``/edit`` does (uploaded files or data URLs, through the same guard). The logic is in
:mod:`dalle3.jobs`; this module is layout, wiring and the API functions.

Keys: the visitor's own key (the Studio tab's) pays where given; a Batch on the
server key only where :func:`dalle3.jobs.batch.server_key_allowed` says the
person may spend it. Jobs are listed by :func:`dalle3.jobs.batch.visible`.
"""

from __future__ import annotations

import inspect
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import gradio as gr
from gradio.blocks import Block

from dalle3 import DalleError, Studio, safety
from dalle3.views import studio_view, status
from dalle3.errors import ValidationError
from dalle3.jobs import edit_job, spec
from dalle3.jobs.batch import server_key_allowed
from dalle3.results import SIMULATOR
from dalle3.jobs.run import Progress, RowResult
from dalle3.jobs.service import (Jobs, failures_markdown, job_from, jobs_for, jobs_table, progress_markdown)
from ui.api import KEY_HEADER, edit_sources_from_arguments
from dalle3.run import EditSources
from ui.sessions import forget_api_only_session
from ui.wiring import PRIVATE, Updates

GALLERY_MAX = 60  # newest results shown while a job runs
TABLE_HEADERS = ["job", "kind", "status", "done", "failed", "left", "cost", "note"]
FIELDS = ("prompts", "template", "lists", "axes", "settings", "model")


@dataclass(frozen=True)
class JobsControls:
    prompts: gr.Textbox
    template: gr.Textbox
    lists: gr.Textbox
    axes: gr.Textbox
    settings: gr.Textbox
    model: gr.Dropdown
    upload: gr.File
    check: gr.Button
    run: gr.Button
    stop: gr.Button
    submit: gr.Button
    summary: gr.Markdown
    progress: gr.Markdown
    gallery: gr.Gallery
    sheet: gr.Image
    failures: gr.Markdown
    running: gr.State
    table: gr.Dataframe
    refresh: gr.Button
    picked: gr.Textbox
    cancel: gr.Button
    show: gr.Button
    timer: gr.Timer
    images: gr.File
    mask: gr.File


def layout_jobs(default_model: str) -> JobsControls:
    """The tab's components; call inside ``gr.Tab``."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            prompts = gr.Textbox(label="Prompts, one per line", lines=5, elem_id="job_prompts",
                                 placeholder="a lighthouse at dawn\na fox in the snow")
            template = gr.Textbox(label="Template", elem_id="job_template",
                                  placeholder="a {red|blue} {animal} in {weather}",
                                  info="{a|b} tries each alternative; {name} each value of a list below")
            lists = gr.Textbox(label="Lists", lines=2, elem_id="job_lists", placeholder="animal: fox | owl")
            upload = gr.File(label="Or a file: .txt (one prompt per line), .csv or .jsonl (settings per row)",
                             file_types=[".txt", ".csv", ".jsonl"], elem_id="job_file", height=120)
            images = gr.File(label="Edit these images with every row", file_count="multiple", file_types=["image"],
                             elem_id="job_images", height=120)
            mask = gr.File(label="Mask for the first image (optional): transparent where it may change",
                           file_types=["image"], elem_id="job_mask", height=100)
        with gr.Column(scale=4):
            model = gr.Dropdown(studio_view.model_choices(), value=default_model, label="Model", elem_id="job_model")
            axes = gr.Textbox(label="Compare axes", lines=2, elem_id="job_axes",
                              placeholder="quality: low | high\nsize: 1024x1024 | 1536x1024",
                              info=f"any of {', '.join(spec.AXES)}: every prompt × every combination")
            settings = gr.Textbox(label="Settings for every row", lines=2, elem_id="job_settings",
                                  placeholder="quality: high\nbackground: transparent")
            summary = gr.Markdown(elem_id="job_summary")
            with gr.Row():
                check = gr.Button("Count and estimate", elem_id="job_check")
                run = gr.Button("Run now", variant="primary", elem_id="job_run")
                stop = gr.Button("Stop", variant="stop", elem_id="job_stop")
                submit = gr.Button("Submit as a Batch (half price, within 24 h)", elem_id="job_submit")
    progress = gr.Markdown(elem_id="job_progress")
    with gr.Row(equal_height=False):
        gallery = gr.Gallery(label="Results", columns=6, height=360, elem_id="job_gallery")
        sheet = gr.Image(label="Contact sheet", type="filepath", interactive=False, elem_id="job_sheet")
    failures = gr.Markdown(elem_id="job_failures")
    gr.Markdown("### Jobs")
    table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, elem_id="job_table", wrap=True)
    with gr.Row():
        picked = gr.Textbox(label="Job id", scale=3, elem_id="job_picked", placeholder="job-…")
        show = gr.Button("Check and show results", elem_id="job_show")
        cancel = gr.Button("Cancel the Batch", elem_id="job_cancel")
        refresh = gr.Button("Refresh the list", elem_id="job_refresh")
    return JobsControls(prompts, template, lists, axes, settings, model, upload, check, run, stop, submit, summary,
                        progress, gallery, sheet, failures, gr.State(None), table, refresh, picked, cancel, show,
                        gr.Timer(30), images=images, mask=mask)


def _file_rows(upload: Any) -> list[dict[str, Any]]:
    path = upload if isinstance(upload, str) else getattr(upload, "name", None)
    if not path:
        return []
    file = Path(path)
    if file.stat().st_size > spec.MAX_JOB_TEXT:
        raise ValidationError(f"The file is larger than {spec.MAX_JOB_TEXT // 2**20} MB.")
    try:
        return spec.rows_from_file(file.name, file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text.") from None


def _edited(job: spec.Job, sources: EditSources, studio: Studio, key: str | None) -> spec.Job:
    """``job`` as a job of edits when ``sources`` has images or a mask, else as it is.

    As for a single edit, who pays is asked before any pixel is decoded (:meth:`Studio.admit`:
    a visitor's key that can be sent, or room under the server key's cap for one row).
    """
    if not sources:
        return job
    images, mask, names = sources.read()

    def admit(sizes: tuple[tuple[int, int], ...]) -> None:
        studio.admit(job.rows[0].request, sizes, key)

    return edit_job.with_edit(job, images, mask=mask, names=names, before_decoding=admit)


def _page_sources(images: Any, mask: Any) -> EditSources:
    """The Jobs tab's reference files and mask: paths of files Gradio took in."""
    paths = images if isinstance(images, list) else [images] if images else []
    return EditSources(tuple(Path(p) for p in paths if p), Path(mask) if mask else None)


def _remaining(jobs: Jobs, own_key: str | None) -> float | None:
    """What the cap leaves when the server key pays; None when the visitor's key, the simulator or no cap does."""
    simulated = jobs.studio.backend_for(own_key) == SIMULATOR
    return None if own_key or simulated else jobs.studio.ledger.remaining


def wire_jobs(jc: JobsControls, own_key: gr.State, studio: Studio, host: str) -> None:
    """Count, run now (progress, Stop), submit as a Batch, list, check, cancel."""
    jobs = jobs_for(studio)
    jobs.start()
    allowed = server_key_allowed(studio.settings, host)
    fields = [jc.prompts, jc.template, jc.lists, jc.axes, jc.settings, jc.model]
    form: set[Block] = {*fields, jc.upload, jc.images, jc.mask, own_key}  # a set: handlers get {component: value}

    def make(data: dict, session: str | None) -> tuple[spec.Job, str | None]:
        key = (data[own_key] or "").strip() or None
        identifier = safety.identifier_for(studio.settings, host, session)
        given = {name: data[component] for name, component in zip(FIELDS, fields)}
        job = job_from(given, _file_rows(data[jc.upload]), identifier)
        return _edited(job, _page_sources(data[jc.images], data[jc.mask]), studio, key), key

    def on_check(data: dict, request: gr.Request) -> Updates:
        try:
            job, key = make(data, request.session_hash)
        except DalleError as exc:
            return {jc.summary: status.failure(exc)}
        refused = spec.refusal(job, batch=False, remaining_usd=_remaining(jobs, key))
        return {jc.summary: spec.summary(job) + (f"\n\n**{status.inert(refused)}**" if refused else "")}

    jc.check.click(on_check, form, [jc.summary], **PRIVATE)

    def on_run(data: dict, request: gr.Request) -> Iterator[Updates]:
        try:
            job, key = make(data, request.session_hash)
            if refused := spec.refusal(job, batch=False, remaining_usd=_remaining(jobs, key)):
                raise ValidationError(refused)
        except DalleError as exc:
            yield {jc.summary: status.failure(exc)}
            return
        record = jobs.runner.create(job, key)
        yield {jc.running: record.id, jc.summary: f"{spec.summary(job)}\n\nRunning as `{record.id}`…",
               jc.progress: progress_markdown(Progress(job.count)), jc.gallery: [], jc.sheet: None, jc.failures: ""}
        yield from _follow(jobs, jc, record, job, key, allowed)

    jc.run.click(on_run, form, [jc.running, jc.summary, jc.progress, jc.gallery, jc.sheet, jc.failures, jc.table],
                 concurrency_limit=studio.settings.concurrency, **PRIVATE)
    jc.stop.click(lambda job_id: {jc.summary: "Stopping: what has started finishes, nothing new starts."}
                  if job_id and jobs.runner.stop(job_id) else {jc.summary: "No job is running."},
                  [jc.running], [jc.summary], **PRIVATE)

    def on_submit(data: dict, request: gr.Request) -> Updates:
        try:
            job, key = make(data, request.session_hash)
            record = jobs.batches.submit(job, key, server_allowed=allowed)
        except DalleError as exc:
            return {jc.summary: status.failure(exc)}
        return {jc.summary: f"{spec.summary(job)}\n\nSubmitted as `{record.id}` (OpenAI Batch "
                            f"`{status.inert(record.batch_id or '')}`): results within 24 hours. This page checks it "
                            "in the background; the list below shows where it stands.",
                jc.picked: record.id, jc.table: jobs_table(jobs.batches.visible_jobs(key, allowed))}

    jc.submit.click(on_submit, form, [jc.summary, jc.picked, jc.table], **PRIVATE)
    _wire_list(jc, jobs, own_key, allowed)


def _follow(jobs: Jobs, jc: JobsControls, record: Any, job: spec.Job, key: str | None,
            allowed: bool) -> Iterator[Updates]:
    """Run ``job`` on a thread and yield the progress and newest images as rows finish."""
    events: queue.Queue[tuple[RowResult, Progress] | None] = queue.Queue()
    finished: dict[str, Any] = {}

    def work() -> None:
        try:
            finished["record"], _ = jobs.runner.run(record, job, key, on_result=lambda r, p: events.put((r, p)))
        finally:
            events.put(None)

    threading.Thread(target=work, daemon=True, name=f"dalle3-page-{record.id}").start()
    shown: list[str] = []
    while (event := events.get()) is not None:
        result, progress = event
        shown = ([str(p) for p in result.paths] + shown)[:GALLERY_MAX]
        yield {jc.progress: progress_markdown(progress), jc.gallery: shown}
    final = finished.get("record") or record
    yield {jc.summary: f"{spec.summary(job)}\n\nJob `{final.id}`: {final.status} · {final.done} done · "
                       f"{final.failed} failed · ${final.spent_usd:.3f} spent", jc.sheet: final.sheet,
           jc.failures: failures_markdown(jobs, final), jc.running: None,
           jc.table: jobs_table(jobs.batches.visible_jobs(key, allowed))}


def _wire_list(jc: JobsControls, jobs: Jobs, own_key: gr.State, allowed: bool) -> None:
    def listing(key: str | None) -> Updates:
        return {jc.table: jobs_table(jobs.batches.visible_jobs((key or "").strip() or None, allowed))}

    jc.refresh.click(listing, [own_key], [jc.table], **PRIVATE)
    jc.timer.tick(listing, [own_key], [jc.table], show_progress="hidden", **PRIVATE)

    def on_show(job_id: str, key: str | None) -> Updates:
        key = (key or "").strip() or None
        try:
            record = jobs.batches.get((job_id or "").strip(), key, allowed)
            record = jobs.batches.refresh(record.id, key)
        except DalleError as exc:
            return {jc.summary: status.failure(exc)}
        files = [p for r in jobs.store.results(record.id) if r.get("ok") for p in r.get("paths") or []]
        return {jc.summary: f"Job `{record.id}`: {status.inert(record.status)} · {record.done} done · "
                            f"{record.failed} failed · {record.left} left"
                            + (f"\n\n{status.inert(record.message)}" if record.message else ""),
                jc.gallery: files[:GALLERY_MAX], jc.sheet: record.sheet, jc.failures: failures_markdown(jobs, record),
                **listing(key)}

    jc.show.click(on_show, [jc.picked, own_key], [jc.summary, jc.gallery, jc.sheet, jc.failures, jc.table],
                  **PRIVATE)

    def on_cancel(job_id: str, key: str | None) -> Updates:
        key = (key or "").strip() or None
        try:
            record = jobs.batches.get((job_id or "").strip(), key, allowed)
            record = jobs.batches.cancel(record.id, key)
        except DalleError as exc:
            return {jc.summary: status.failure(exc)}
        return {jc.summary: f"Cancelling `{record.id}`: rows already done are still saved and billed.",
                **listing(key)}

    jc.cancel.click(on_cancel, [jc.picked, own_key], [jc.summary, jc.table], **PRIVATE)


# One line per argument: Gradio reads each "name: text" line as that parameter's description.
AXES = ", ".join(spec.AXES)
SUBMIT_DOC = f"""Make a job of many image requests and run it: as an OpenAI Batch (half price, results within 24 hours,
kept across restarts) or now. Returns the job as JSON (id, status, count, estimate_usd); /batch_status with
its id reports progress and results.

Args:
    prompts: Prompts, one per line.
    template: A prompt with {{a|b}} alternatives and {{name}} lists, e.g. "a {{red|blue}} fox in {{snow|rain}}".
    lists: Named lists for the template, one per line: "animal: fox | owl".
    axes: Compare axes, one per line, every prompt x every combination: "quality: low | high" (axes: {AXES}).
    settings: Settings every row shares, one per line: "quality: high".
    model: The model of every row (empty: the server's).
    mode: "batch" (empty: batch) or "now" (runs at once within the server's concurrency, full price).
    images: Reference images to edit with every row (a job of edits; up to 16, GPT Image models), as /edit takes them.
    mask: A mask for the first image (transparent where it may change), as /edit takes it; only with images.
"""
STATUS_DOC = """Where a job stands: status, done, failed, left, spent_usd, and once it has ended its results (each row's
files, cost and error in plain words). A pending Batch is checked with OpenAI first. Without job_id: every job you
may see.

Args:
    job_id: The job's id (job-..., from the answer that made the job); empty: every job you may see.
"""
CANCEL_DOC = """Cancel a pending OpenAI Batch; rows already done are still saved and billed.

Args:
    job_id: The job's id (job-..., from the answer that made the job).
"""


def _api(name: str, doc: str, arguments: tuple[str, ...], answer: Any) -> Any:
    def endpoint(*values: Any) -> Any:
        return answer(*values)

    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str,
                                default=None if n in FILE_ARGS else "") for n in arguments]
    params.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request,
                                    default=None))
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__annotations__ = {**{n: str for n in arguments}, "request": gr.Request}
    endpoint.__doc__ = doc
    endpoint.__name__ = name
    return endpoint


FILE_ARGS = ("images", "mask")
SUBMIT_ARGS = ("prompts", "template", "lists", "axes", "settings", "model", "mode", *FILE_ARGS)
API_INPUTS = {"batch": SUBMIT_ARGS, "batch_status": ("job_id",), "batch_cancel": ("job_id",)}


def _api_input(name: str) -> gr.components.Component:
    """Free text, or a file input taking what ``/edit``'s does (``gradio_client.handle_file``, data URLs)."""
    if name == "images":
        return gr.File(file_count="multiple", label=name)
    return gr.File(None, label=name) if name in FILE_ARGS else gr.Textbox("", label=name)


def wire_jobs_api(studio: Studio, host: str, demo: gr.Blocks) -> None:
    """``/batch``, ``/batch_status`` and ``/batch_cancel``: JSON answers, errors as ``gr.Error``.

    The caller's own key travels in the ``X-OpenAI-Api-Key`` header, as for ``/generate``.
    """
    jobs = jobs_for(studio)
    jobs.start()
    allowed = server_key_allowed(studio.settings, host)

    def guarded(work: Any) -> Any:
        def call(*values: Any) -> Any:
            *raw, request = values
            key = ((request.headers.get(KEY_HEADER) or "").strip() or None) if request is not None else None
            try:
                return work(dict(zip(API_INPUTS[work.__name__], raw)), key, request)
            except DalleError as exc:
                raise gr.Error(exc.user_message, title="Jobs", print_exception=False) from None
            finally:
                forget_api_only_session(demo, request)
        call.__name__ = work.__name__
        return call

    def batch(given: dict[str, str], key: str | None, request: Any) -> dict[str, Any]:
        if not given.get("model"):
            given["model"] = studio.settings.default_model
        mode = (given.get("mode") or "batch").strip().lower()
        if mode not in ("batch", "now"):
            raise ValidationError(f"mode is batch or now; got {mode[:20]!r}.")
        identifier = safety.identifier_for(studio.settings, host, getattr(request, "session_hash", None))
        sources = edit_sources_from_arguments({name: given.get(name) for name in FILE_ARGS})
        job = _edited(job_from(given, None, identifier), sources, studio, key)
        if mode == "now":
            if refused := spec.refusal(job, batch=False, remaining_usd=_remaining(jobs, key)):
                raise ValidationError(refused)
            record = jobs.run_in_background(job, key)
        else:
            record = jobs.batches.submit(job, key, server_allowed=allowed)
        estimate = job.estimate()
        return {**jobs.report(record), "estimate_now_usd": round(estimate.now_usd, 6),
                "estimate_batch_usd": round(estimate.batch_usd, 6)}

    def batch_status(given: dict[str, str], key: str | None, request: Any) -> dict[str, Any]:
        job_id = (given.get("job_id") or "").strip()
        if not job_id:
            return {"jobs": [r.public() for r in jobs.batches.visible_jobs(key, allowed)]}
        record = jobs.batches.get(job_id, key, allowed)
        return jobs.report(jobs.batches.refresh(record.id, key))

    def batch_cancel(given: dict[str, str], key: str | None, request: Any) -> dict[str, Any]:
        record = jobs.batches.get((given.get("job_id") or "").strip(), key, allowed)
        return jobs.report(jobs.batches.cancel(record.id, key))

    for work, doc in ((batch, SUBMIT_DOC), (batch_status, STATUS_DOC), (batch_cancel, CANCEL_DOC)):
        arguments = API_INPUTS[work.__name__]
        fn = _api(work.__name__, doc, arguments, guarded(work))
        with gr.Column(visible=False):
            inputs = [_api_input(name) for name in arguments]
            output = gr.JSON(label="job")
            trigger = gr.Button(visible=False)
        trigger.click(fn, inputs, [output], api_name=work.__name__, preprocess=False, concurrency_id="jobs_api",
                      concurrency_limit=studio.settings.concurrency)
