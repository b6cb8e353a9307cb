"""``python -m bench [--quick]``: the real ``python app.py`` against its floors, side by side, in one run.

Every row drives the real ``python app.py`` as a subprocess (its environment
pointing at the loopback fake API, ``tests/fake_openai/``, which answers every
request with the same realistic 1024x1792 PNG from bench/images.py after a fixed
2 s; 0 s for the memory row) and a baseline process: the floor app
(``bench/floor_app.py``) or, for start-up, a Gradio hello world. Within each
row the two sides are sampled alternately, ours then the floor, ABAB..., so load
from other work on the machine falls on both alike; each side's min / median /
max is printed.

The verdict rule (bench/stats.py): the target is a bound on the ratio of the
medians, ours ÷ floor. A side's noise is half its range over its median; the
row's noise is the larger side's. **pass** only when the ratio plus the noise
is within the target (it holds on the median, and a move as large as this run's
own spread would not undo it); **FAIL** when the ratio minus the noise still
misses; otherwise **within noise** (no claim). The memory row holds ours'
growth (RSS after the run ÷ before it) against its target directly, with the
floor's growth beside it.

Then, in the same run (unless ``--core``), every other bench: the library at 10,000 images
(bench/library.py), the page in headless Chromium (bench/browser.py: first load, click to the
final image, the Library's first page), edits and batches (bench/edits.py), streaming
(bench/stream.py), memory per anonymous session (bench/session_memory.py) and per page session
(bench/page_sessions.py), the peak memory of an edit's references (bench/edit_memory.py), jobs run
now and a Batch's files (bench/jobs.py), and a conversation turn (bench/chat.py).

Prints a Markdown table and writes it to bench/results.md. About 3–5 minutes
on a quiet 2-core machine (``--quick``: about 2); a busy machine stretches the
start-ups most.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import time
from contextlib import ExitStack, redirect_stdout
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from gradio_client import Client  # noqa: E402

from bench import rows as measure  # noqa: E402
from bench.common import DELAY_S, ROOT, SIZE, log  # noqa: E402
from bench.images import realistic_png  # noqa: E402
from bench.procs import app_env, floor_env, subprocess_app  # noqa: E402
from bench.stats import Row, Side  # noqa: E402
from dalle3 import Settings  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402


# --------------------------------------------------------------------------- report


def machine_info() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import gradio
    import gradio_client

    return [f"CPU: {cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}",
            f"Python {platform.python_version()}, gradio {gradio.__version__}, "
            f"gradio_client {gradio_client.__version__}"]


def _figure(value: float, unit: str) -> str:
    if unit == "s" and value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.3f}" if unit == "×" else f"{value:.3f} {unit}"


def _range(side: Side, unit: str) -> str:
    return " / ".join(_figure(v, unit) for v in (side.min, side.median, side.max))


def table(rows: list[Row]) -> list[str]:
    lines = ["| measure | ours min / median / max | baseline min / median / max | ratio of medians | noise ± "
             "| target | verdict |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        target = f"≤ {row.target:.2f}" if row.target is not None else "—"
        lines.append(f"| {row.name} | {_range(row.ours, row.unit)} | {_range(row.floor, row.unit)} "
                     f"({row.baseline}) | {row.ratio:.3f} | {row.noise:.3f} | {target} | {row.verdict} |")
    return lines


def folded(quick: bool) -> list[str]:
    """Every other bench in the same run, each with min / median / max: the library and the page in
    headless Chromium as rows of the same kind; edits, streaming and session memory as their own tables."""
    from bench import browser, chat, edit_memory, edits, jobs, library, page_sessions, session_memory, stream  # noqa: PLC0415

    lines = ["## The library (10,000 images)", "", *library.table(library.rows(quick=quick), note=False), "",
             "## The page in headless Chromium", "", *library.table(browser.rows(quick=quick), note=False), "",
             "## Edits and batches", "", edits.table(edits.rows(quick)), ""]
    for title, rows_of in (("## Memory of an edit's references", edit_memory.rows),
                           ("## Memory per page session", page_sessions.rows),
                           ("## A conversation turn", chat.rows)):
        lines += [title, "", *library.table(rows_of(quick), note=False), ""]
    lines += ["## Jobs: run now, and a Batch's files", "", *jobs.table(jobs.rows(quick)), ""]
    for title, run, argv in (("## Streaming", stream.main, ["--quick"] if quick else []),
                             ("## Memory per anonymous session", session_memory.main,
                              ["--calls", "300" if quick else "1000"])):
        printed = io.StringIO()
        with redirect_stdout(printed):  # these two print their own tables
            run(argv)
        lines += [title, "", printed.getvalue().strip(), ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (about 2.5 min instead of 4–5)")
    parser.add_argument("--runs", type=int, default=None, help="samples a side of each 2 s row (default 6, quick 3)")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results.md")
    parser.add_argument("--core", action="store_true", help="only the app-vs-floor rows, without the folded "
                        "benches (library, browser, edits, streaming, memory, jobs, conversation)")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 6)
    startup_runs, burst_runs = (2, 2) if args.quick else (4, 3)
    cache_runs, mem_total = (10, 60) if args.quick else (20, 120)
    concurrency = Settings().concurrency  # DALLE3_CONCURRENCY's default: app.py runs with it
    began, load_before = time.perf_counter(), os.getloadavg()

    png = realistic_png()
    log(f"image: {SIZE} PNG, {len(png) / 1e6:.2f} MB; fake delay {DELAY_S:g} s; runs {runs}")
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-") as tmp, FakeOpenAI() as fake, ExitStack() as stack:
        fake.default_delay_s, fake.default_image = DELAY_S, png
        tmp_path = Path(tmp)
        startup = measure.row_startup(fake, tmp_path / "startup-out", startup_runs)
        ours_proc, ours_url, _ = stack.enter_context(
            subprocess_app(ROOT / "app.py", app_env(fake, tmp_path / "ours")))
        floor_out = tmp_path / "floor"
        floor_proc, floor_url, _ = stack.enter_context(
            subprocess_app(ROOT / "bench" / "floor_app.py", floor_env(fake, floor_out, concurrency)))
        ours, floor = Client(ours_url, verbose=False), Client(floor_url, verbose=False)
        stack.callback(ours.close)
        stack.callback(floor.close)
        rows = [measure.row_e2e(ours, floor, runs)]
        rows.append(measure.row_bare(ours, fake, max(3, runs // 2)))
        rows.append(startup)
        rows.append(measure.row_burst(ours, floor, burst_runs, concurrency))
        rows.append(measure.row_cache(ours, floor, floor_out, cache_runs))
        rows.append(measure.row_memory((ours, ours_proc.pid), (floor, floor_proc.pid), fake, mem_total))
        stage_times = measure.stages(fake, tmp_path / "inproc", max(runs, 7))
    e2e = rows[0]
    added_ms = (e2e.ours.median - e2e.floor.median) * 1000
    stage_lines = ["| stage | ours ms | floor ms | added ms |", "|---|---|---|---|"]
    for name, (a, b) in stage_times.items():
        stage_lines.append(f"| {name} | {a * 1000:.3f} | {b * 1000:.3f} | {(a - b) * 1000:+.3f} |")
    ours_stages = sum(a - b for a, b in stage_times.values()) * 1000
    stage_lines += [f"| Gradio hand-off and the rest (total − stages) | | | {added_ms - ours_stages:+.1f} |",
                    f"| **total added, e2e medians (ours − floor)** | | | **{added_ms:+.1f}** |"]
    extra = [] if args.core else folded(args.quick)  # before the report: its "took" covers every bench
    cmd = "python -m bench" + (" --quick" if args.quick else "") + (f" --runs {args.runs}" if args.runs else "")
    report = "\n".join([
        "# dalle3 studio benchmark", "",
        f"Command: `{cmd}` (from the repository root) — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"took {time.perf_counter() - began:.0f} s.", "",
        *[f"- {line}" for line in machine_info()],
        f"- Load average (1 min) at start {load_before[0]:.2f}, at end {os.getloadavg()[0]:.2f} "
        f"({os.cpu_count()} cores): other work on the machine widens the spread.",
        f"- Fake API: loopback `tests/fake_openai/`, every answer the same {SIZE} PNG of {len(png) / 1e6:.2f} MB "
        f"(bench/images.py) after {DELAY_S:g} s (0 s for the memory row and the stage timings).",
        f"- Ours: the real `python app.py` (subprocess, a server key, OPENAI_BASE_URL at the fake, default "
        f"DALLE3_CONCURRENCY = {concurrency}). Floor: `python bench/floor_app.py` (subprocess; requests.Session "
        f"post → base64 decode → write file → return the path to gr.Image(type='filepath'); the same limit "
        f"{concurrency}). Start-up baseline: `python bench/hello_app.py`. All called through gradio_client.",
        "- Each row samples ours and its baseline alternately (ABAB...). Verdict (bench/stats.py): pass when "
        "ratio + noise ≤ target, FAIL when ratio − noise > target, else within noise; noise = the larger side's "
        "(max − min) / (2 × median).", "",
        *table(rows), "",
        "Added time per generation, by stage (in-process, fake delay 0, medians; the rest from row 1's medians):",
        "",
        *stage_lines, "",
        *extra,
    ])
    print(report)
    if not args.no_write:
        results = ROOT / "bench" / "results.md"
        kept = results.read_text() if results.exists() else ""  # with --core, the other benches' sections stay
        results.write_text(report + (kept[kept.index("\n## "):] if args.core and "\n## " in kept else ""))
        log("written to bench/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
