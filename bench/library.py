"""``python -m bench.library [--quick]``: the library rows, in the main bench's style.

A temp folder gets 10,000 small realistic PNGs carrying our parameters (64x64
noise; prompts of 8–30 words, revised prompts of ~60 for dall-e-3, five
models, a spread of days, sizes and costs): the index reads only metadata, so
the number of files matters, not their pixels. Rows, each side sampled
alternately as in the other rows (bench/stats.py):

* L1 first start on the unindexed folder (the reconcile, progress reported) —
  target ≤ 20 s absolute; beside it, a bare rescan (walk + read every file's
  parameters), what a library without an index would pay at every look.
* L2 a search as the tab makes it (a page of 48 + the totals of all matches,
  seven queries in turn) — target ≤ 100 ms absolute; beside it a trivial SQLite
  query on the same connection.
* L3 ``python app.py`` to first HTTP 200 with the library on over the indexed
  folder ÷ with ``DALLE3_LIBRARY=0`` — target ≤ 1.05; through ``bench/library_app.py``
  (app.py plus what the page does at start: open the index, reconcile in the background)
  until the page wires the Library tab.
* L3b a later start's stat-only reconcile, in-process (info: it runs in a
  background thread, so start-up does not wait for it).

Not here: the first library page shown in the browser ≤ 300 ms after the tab
is opened (a browser row, with the page).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench.common import ROOT, log, timed
from bench.stats import Row, Side, verdict
from dalle3.files import metadata
from dalle3.library import Library, LibraryQuery
from dalle3.library.index import INDEX_NAME, walk
from dalle3.files.thumbnails import THUMBS_DIR

WORDS = ("fox owl lighthouse dawn snow watercolor city neon forest river castle dragon harbor misty "
         "golden hour portrait cyberpunk street market vintage poster ink sketch mountain lake reflection "
         "cathedral glass sunset desert caravan whale ocean storm garden teapot robot library candle "
         "autumn leaves bicycle rain umbrella tram lantern festival koi pond bamboo temple").split()
MODELS = (("dall-e-3", "hd", "1792x1024", 0.12, True), ("dall-e-3", "standard", "1024x1024", 0.04, True),
          ("gpt-image-2", "high", "1536x1024", 0.1872, True), ("gpt-image-2", "medium", "1024x1024", 0.0317, True),
          ("gpt-image-1-mini", "low", "1024x1024", 0.005, False))
SEARCHES = ("fox", "lighthouse dawn", "neon street", "watercolor fox snow", "zebra", "drag", "cathedral glass")


def make_folder(root: Path, count: int, seed: int = 13) -> None:
    """``count`` PNGs under ``root/YYYY-MM-DD/`` as Studio saves them."""
    rnd = random.Random(seed)
    pixels = []
    for _ in range(16):
        buffer = io.BytesIO()
        Image.frombytes("RGB", (64, 64), rnd.randbytes(64 * 64 * 3)).save(buffer, "PNG")
        pixels.append(buffer.getvalue())
    start = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
    for i in range(count):
        model, quality, size, usd, exact = rnd.choice(MODELS)
        when = start + dt.timedelta(minutes=13 * i)
        parameters = {"prompt": " ".join(rnd.choices(WORDS, k=rnd.randint(8, 30))), "seed": i, "model": model,
                      "quality": quality, "size": size, "backend": "openai",
                      "created": when.isoformat(timespec="seconds"), "cost_usd": usd, "cost_exact": exact,
                      "app": "dalle3-studio bench"}
        if model == "dall-e-3":
            parameters.update(style="vivid", revised_prompt=" ".join(rnd.choices(WORDS, k=60)))
        folder = root / when.date().isoformat()
        folder.mkdir(exist_ok=True)
        (folder / f"image-{i}_seed{i}.png").write_bytes(metadata.embed(pixels[i % len(pixels)], parameters))


def _forget_index(root: Path) -> None:
    for name in (INDEX_NAME, f"{INDEX_NAME}-wal", f"{INDEX_NAME}-shm"):
        (root / name).unlink(missing_ok=True)
    shutil.rmtree(root / THUMBS_DIR, ignore_errors=True)


def row_first_start(root: Path, count: int, runs: int) -> Row:
    from bench.rows import alternate  # noqa: PLC0415 - imports gradio_client

    def first_start() -> float:
        _forget_index(root)
        reports: list[int] = []
        library = Library(root)
        took = timed(lambda: library.reconcile(lambda p: reports.append(p.done)))
        library.close()
        if len(reports) < 3 or reports != sorted(reports) or reports[-1] != count:
            raise RuntimeError(f"progress was not reported as it went: {reports[:5]}…")
        return took

    def rescan() -> float:
        return timed(lambda: [metadata.read_parameters(root / rel) for rel in walk(root)])

    a, b = alternate(first_start, rescan, runs, "library first start (s)")
    return Row(f"L1. First start on an unindexed folder of {count:,} images, progress reported ({runs} each)",
               "s", a, b, "bare rescan: walk + read every file's parameters", 20.0, absolute=True)


def row_search(root: Path, runs: int) -> Row:
    from bench.rows import alternate  # noqa: PLC0415

    library = Library(root)
    library.reconcile()
    conn = library.index.connection()
    queries = itertools.cycle(LibraryQuery(words=w) for w in SEARCHES)
    try:
        a, b = alternate(lambda: timed(lambda: library.browse(next(queries))),
                         lambda: timed(lambda: conn.execute("SELECT id FROM files ORDER BY id LIMIT 48").fetchall()),
                         runs, "library search (s)")
    finally:
        library.close()
    return Row(f"L2. A search as the tab makes it: page of 48 + totals by day and model ({runs} each, "
               f"{len(SEARCHES)} queries in turn)", "s", a, b, "trivial SQLite query", 0.1, absolute=True)


def row_startup(root: Path, runs: int) -> Row:
    from bench.procs import subprocess_app  # noqa: PLC0415
    from bench.rows import alternate  # noqa: PLC0415

    def start(env: dict[str, str]):
        def once() -> float:  # library_app.py: app.py plus what the page will do at start, until it is wired
            with subprocess_app(ROOT / "bench" / "library_app.py", env) as (_, _, took):
                return took
        return once

    base = {"DALLE3_OFFLINE": "1", "DALLE3_OUTPUT_DIR": str(root)}
    a, b = alternate(start(base), start({**base, "DALLE3_LIBRARY": "0"}), runs, "library start-up (s)")
    return Row(f"L3. Start-up to first HTTP 200, library on over the indexed folder ({runs} each)", "s", a, b,
               "DALLE3_LIBRARY=0", 1.05)


def row_later_reconcile(root: Path, startup: Row, runs: int) -> Row:
    samples = []
    for _ in range(runs):
        library = Library(root)
        samples.append(timed(library.reconcile))
        library.close()
    return Row("L3b. … a later start's stat-only reconcile, in-process (info: runs in the background)", "s",
               Side(tuple(samples)), startup.floor, "start-up without the library", None)


def rows(count: int = 10_000, quick: bool = False) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-library-") as tmp:
        root = Path(tmp) / "outputs"
        root.mkdir()
        began = time.perf_counter()
        make_folder(root, count)
        log(f"library: {count:,} PNGs written in {time.perf_counter() - began:.1f} s")
        first = row_first_start(root, count, 2 if quick else 3)
        search = row_search(root, 14 if quick else 28)
        startup = row_startup(root, 2 if quick else 4)
        return [first, search, startup, row_later_reconcile(root, startup, 3 if quick else 5)]


def table(library_rows: list[Row], note: bool = True) -> list[str]:
    """The library rows; an absolute target is held by ours' median and spread (L1, L2), like stats.verdict.

    ``note=False`` leaves out the line about the browser row (``python -m bench`` measures it)."""
    from bench.__main__ import _range  # noqa: PLC0415

    lines = ["| measure | ours min / median / max | baseline min / median / max | ratio of medians | noise ± "
             "| target | verdict |", "|---|---|---|---|---|---|---|"]
    for row in library_rows:
        ratio = row.ours.median / row.floor.median
        if row.absolute and row.target is not None:
            target = f"≤ {row.target * 1000:g} ms" if row.target < 1 else f"≤ {row.target:g} s"
            result = verdict(row.ours.median / row.target, row.ours.noise, 1.0)
        else:
            target = f"≤ {row.target:.2f}" if row.target is not None else "—"
            result = row.verdict
        lines.append(f"| {row.name} | {_range(row.ours, row.unit)} | {_range(row.floor, row.unit)} "
                     f"({row.baseline}) | {ratio:.3f} | {row.ours.noise if row.absolute else row.noise:.3f} | "
                     f"{target} | {result} |")
    if note:
        lines += ["", "Not measured here: the first library page shown in the browser ≤ 300 ms after the tab is "
                      "opened (bench/browser.py's B3)."]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.library", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--images", type=int, default=10_000, help="images in the folder (default 10,000)")
    args = parser.parse_args(argv)
    print("\n".join(table(rows(args.images, args.quick))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
