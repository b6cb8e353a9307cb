"""``python -m dalle3 batch submit|status|fetch|cancel``: jobs from the command line.

``submit`` makes a job from prompts (arguments, or ``--file`` with one per line,
a CSV or a JSONL), a ``--template`` with ``{a|b}`` and ``--list name=a|b``, and
``--axis quality=low,high`` compare axes (with ``--image PATH``, repeated, and
``--mask PATH``: a job of edits, every row editing those files); it prints the count and the
estimates, then sends the job as an OpenAI Batch (half price, within 24 hours)
or, with ``--now``, runs it at once within ``DALLE3_CONCURRENCY``. The command
line is the owner's: it spends the server key (``OPENAI_API_KEY``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from dalle3 import from_env
from dalle3.edits.references import read_file
from dalle3.errors import ValidationError
from dalle3.jobs import edit_job, spec
from dalle3.jobs.batch import BatchManager
from dalle3.jobs.run import JobRunner, Progress, RowResult
from dalle3.jobs.store import JobRecord, JobStore
from dalle3.models.pricing import format_usd
from dalle3.studio import Studio

MAX_FILE_BYTES = spec.MAX_JOB_TEXT


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dalle3 batch",
        description="Many requests at once: a list of prompts, a template with variables or a compare grid, run "
                    "now within DALLE3_CONCURRENCY (--now) or sent as an OpenAI Batch at half price (results "
                    "within 24 hours, kept across restarts in DALLE3_OUTPUT_DIR/.jobs).",
        epilog='Example: python -m dalle3 batch submit --template "a {red|blue} fox in {snow|rain}" '
               "--axis quality=low,high --model gpt-image-2 --now")
    sub = p.add_subparsers(dest="action", required=True)
    s = sub.add_parser("submit", help="make a job and run it (--now) or send it as a Batch")
    s.add_argument("prompts", nargs="*", help="prompts, one per argument")
    s.add_argument("--file", type=Path, metavar="F", help="prompts: one per line, or a .csv / .jsonl with settings "
                   "per row (columns prompt, model, quality, size, style, seed, background, ...)")
    s.add_argument("--template", metavar="T", help="a prompt with {a|b} alternatives and {name} lists")
    s.add_argument("--list", action="append", default=[], metavar="NAME=A|B", help="a named list for {NAME}")
    s.add_argument("--axis", action="append", default=[], metavar="NAME=A,B",
                   help=f"a compare axis: one of {', '.join(spec.AXES)} (repeat for a grid)")
    for name in ("model", "quality", "size", "style", "background", "output_format"):
        s.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="V", help=f"{name} for every row")
    s.add_argument("--seed", metavar="N", help="seed for every row (default: 0)")
    s.add_argument("--image", action="append", default=[], type=Path, metavar="PATH",
                   help="edit this image with every row (repeat for up to 16 references; a GPT Image model)")
    s.add_argument("--mask", type=Path, metavar="PATH", help="with --image: transparent where the first image may "
                   "change (or white strokes on black)")
    s.add_argument("--now", action="store_true", help="run at once instead of as a Batch (full price)")
    s.add_argument("--offline", action="store_true", help="with --now: the offline simulator draws")
    for action, text in (("status", "list jobs, or show one (a pending Batch is checked first)"),
                         ("fetch", "check a Batch and, once it has ended, save its images; list the results"),
                         ("cancel", "cancel a pending Batch")):
        a = sub.add_parser(action, help=text)
        a.add_argument("job", nargs="?" if action == "status" else None, help="the job id (job-...)")
    return p


def make_job(args: argparse.Namespace) -> spec.Job:
    """The job the ``submit`` arguments describe; raises ValidationError."""
    rows = [{"prompt": p} for p in args.prompts]
    if args.file is not None:
        rows += spec.rows_from_file(args.file.name, _read(args.file))
    if args.template:
        lists = spec.named_lists("\n".join(item.replace("=", ":", 1) for item in args.list))
        rows += [{"prompt": p} for p in spec.expand_template(args.template, lists)]
    axes = spec.parse_axes("\n".join(args.axis))
    base = {name: getattr(args, name) for name in ("model", "quality", "size", "style", "background",
                                                   "output_format", "seed") if getattr(args, name) is not None}
    job = spec.build_job(rows, base, axes)
    if not (args.image or args.mask):
        return job
    images = [read_file(path, "reference image") for path in args.image]
    mask = read_file(args.mask, "mask") if args.mask is not None else None
    return edit_job.with_edit(job, images, mask=mask, names=[path.name for path in args.image])


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValidationError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB.")
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValidationError(f"{path.name} could not be read ({exc.strerror or type(exc).__name__}).") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path.name} is not UTF-8 text.") from None


def record_text(record: JobRecord) -> str:
    kind = "Batch" if record.kind == "batch" else "run now"
    cost = format_usd(record.spent_usd) if record.settled or record.kind == "now" else \
        f"≈ {format_usd(record.estimate_usd)} expected"
    line = (f"{record.id}  {kind:<7} {record.status:<11} {record.done}/{record.count} done, {record.failed} failed, "
            f"{record.left} left  {cost}")
    return f"{line}\n  {record.message}" if record.message else line


def run(args: argparse.Namespace) -> str:
    settings = from_env()
    if getattr(args, "offline", False):
        settings = replace(settings, offline=True)
    studio = Studio(settings)
    store = JobStore(studio.output_dir)
    manager = BatchManager(studio, store)
    if args.action == "submit":
        return _submit(args, studio, store, manager)
    if args.action == "status" and not args.job:
        return "\n".join(record_text(r) for r in store.all()) or "No jobs yet."
    if args.action == "cancel":
        return record_text(manager.cancel(args.job))
    record = manager.refresh(args.job)
    if args.action == "status" or record.pending:
        return record_text(record)
    return "\n".join([record_text(record), *_results(store, record)])


def _results(store: JobStore, record: JobRecord) -> list[str]:
    lines = []
    for result in sorted(store.results(record.id), key=lambda r: str(r.get("custom_id"))):
        what = ", ".join(result.get("paths") or []) if result.get("ok") else f"failed: {result.get('error')}"
        lines.append(f"  {result.get('custom_id')}  {what}")
    return lines


def _submit(args: argparse.Namespace, studio: Studio, store: JobStore, manager: BatchManager) -> str:
    job = make_job(args)
    print(spec.summary(job), file=sys.stderr)
    if args.now:
        if why := spec.refusal(job, batch=False, remaining_usd=studio.ledger.remaining):
            raise ValidationError(why)
        runner = JobRunner(studio, store)
        record = runner.create(job)
        print(f"{record.id}: running {job.count} requests, {studio.settings.concurrency} at a time", file=sys.stderr)

        def show(result: RowResult, progress: Progress) -> None:
            what = result.paths[0] if result.paths else (result.error or "stopped")
            print(f"  {result.custom_id}  {what}  [{progress.text()}]", file=sys.stderr)

        try:
            final, _ = runner.run(record, job, on_result=show)
        except KeyboardInterrupt:
            runner.stop(record.id)
            raise
        return "\n".join([record_text(final), *_results(store, final)])
    record = manager.submit(job, server_allowed=True)
    return (f"{record_text(record)}\nSubmitted as OpenAI Batch {record.batch_id}: results within 24 hours. "
            f"Check with: python -m dalle3 batch fetch {record.id}")
