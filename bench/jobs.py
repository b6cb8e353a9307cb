"""Bench rows for jobs: ``python -m bench.jobs [--quick]``.

* J1. A run-now job of 100 requests at a concurrency of 8 against the loopback
  fake with a fixed delay: wall time ÷ the ideal ``ceil(100/8)`` × the delay.
  Target ≤ 1.05. Beside it, the same for a floor: a bare pool of 8 threads
  posting with one ``requests.Session``, decoding and writing each image
  (sampled alternately with ours). J1b (info): the same with the fake's small images.
* J2. Peak RSS of a process running a job of 1,000 requests ÷ one of 100
  (fake delay 0, concurrency 8, each in a fresh process). Target ≤ 1.10: flat.
  Peaks are the process's own high-water mark (``VmHWM``): ``ru_maxrss`` survives ``exec``
  and would report the parent bench's size.
* J3. A Batch of 10,000 rows: writing its JSONL (info: seconds), then saving
  every row of a multi-GB output file generated on disk (10,000 lines of
  base64 images, ~300 KB each), in a fresh process: peak RSS above the idle
  process (after imports, before the work). Target ≤ 200 MB.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import math
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from PIL import Image

from bench.images import realistic_png
from bench.stats import Row, Side
from tests.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-bench-jobs-0000000000000000"
CONCURRENCY = 8
REQUESTS = 100


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


_RUN_CHILD = """
import base64, sys, tempfile, time, uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import requests
from dalle3 import Settings, Studio
from dalle3.jobs import spec
from dalle3.jobs.run import JobRunner
from dalle3.jobs.store import JobStore
side, base, key = sys.argv[1], sys.argv[2], sys.argv[3]
count, workers, out = int(sys.argv[4]), int(sys.argv[5]), Path(sys.argv[6])
tag = uuid.uuid4().hex[:8]
if side == "ours":
    studio = Studio(Settings(api_key=key, base_url=base, output_dir=out, max_retries=0, concurrency=workers))
    job = spec.build_job(spec.prompt_lines("\\n".join(f"a lighthouse {tag} {i}" for i in range(count))),
                         {"model": "gpt-image-2", "quality": "low"})
    runner = JobRunner(studio, JobStore(out))
    record = runner.create(job)
    began = time.perf_counter()
    final, _ = runner.run(record, job)
    assert final.done == count, final
else:
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=workers))
    out.mkdir(parents=True, exist_ok=True)
    def one(i):
        answer = session.post(f"{base}/images/generations", headers={"Authorization": f"Bearer {key}"},
                              json={"model": "gpt-image-2", "prompt": f"floor {tag} {i}", "quality": "low",
                                    "size": "1024x1024", "n": 1, "output_format": "png"}, timeout=60).json()
        (out / f"{tag}-{i}.png").write_bytes(base64.b64decode(answer["data"][0]["b64_json"]))
    began = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(count)))
print(time.perf_counter() - began)
"""


def _timed(side: str, fake: FakeOpenAI, out: Path) -> float:
    """One side in its own process (the fake answers from this one, as it does for the app's rows)."""
    done = subprocess.run([sys.executable, "-c", _RUN_CHILD, side, fake.base_url, KEY, str(REQUESTS),
                           str(CONCURRENCY), str(out)], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return float(done.stdout.strip().splitlines()[-1])


def row_run_now(delay_s: float, runs: int, realistic: bool = True) -> Row:
    ideal = math.ceil(REQUESTS / CONCURRENCY) * delay_s
    ours: list[float] = []
    floor: list[float] = []
    with FakeOpenAI() as fake, tempfile.TemporaryDirectory(prefix="dalle3-bench-jobs-") as tmp:
        fake.default_delay_s = delay_s
        fake.default_image = realistic_png(1024, 1024) if realistic else None  # None: the fake's small render
        for i in range(runs):
            order = (("ours", ours), ("floor", floor)) if i % 2 == 0 else (("floor", floor), ("ours", ours))
            for side, samples in order:
                samples.append(_timed(side, fake, Path(tmp) / uuid.uuid4().hex) / ideal)
            log(f"jobs J1: ours {ours[-1]:.3f}, floor {floor[-1]:.3f} of the ideal {ideal:.1f} s")
    if not realistic:
        return Row("J1b. … the same with the fake's small images (info: what the image bytes cost on this machine)",
                   "×", Side(tuple(ours)), Side(tuple(floor)), "a bare 8-thread requests pool, same ÷ ideal", None,
                   absolute=True)
    return Row(f"J1. A run-now job of {REQUESTS} requests at concurrency {CONCURRENCY}, API time {delay_s:g} s, "
               f"1024² PNGs of ~1.3 MB: wall time ÷ ideal ceil({REQUESTS}/{CONCURRENCY}) × {delay_s:g} s ({runs} each)",
               "×", Side(tuple(ours)), Side(tuple(floor)), "a bare 8-thread requests pool, same ÷ ideal", 1.05,
               absolute=True)


_RSS_CHILD = """
import sys, tempfile
from pathlib import Path
from dalle3 import Settings, Studio
from dalle3.jobs import spec
from dalle3.jobs.run import JobRunner
from dalle3.jobs.store import JobStore
base, key, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
studio = Studio(Settings(api_key=key, base_url=base, output_dir=out, max_retries=0, concurrency=8))
job = spec.build_job(spec.prompt_lines("\\n".join(f"rss {count} {i}" for i in range(count))), {"model": "gpt-image-2"})
runner = JobRunner(studio, JobStore(out))
final, _ = runner.run(runner.create(job), job)
assert final.done == count, final
print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024)
"""


def _peak_mib(fake: FakeOpenAI, count: int) -> float:
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-jobs-rss-") as out:
        done = subprocess.run([sys.executable, "-c", _RSS_CHILD, fake.base_url, KEY, str(count), out], cwd=ROOT,
                              capture_output=True, text=True, timeout=1800, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def row_rss(runs: int) -> Row:
    small, large = [], []
    with FakeOpenAI() as fake:
        fake.default_image = realistic_png(1024, 1024)
        for _ in range(runs):
            small.append(_peak_mib(fake, 100))
            large.append(_peak_mib(fake, 1000))
            log(f"jobs J2: peak RSS {small[-1]:.0f} MiB at 100, {large[-1]:.0f} MiB at 1,000")
    ratios = tuple(b / a for a, b in zip(small, large))
    return Row(f"J2. Peak RSS of a run-now job of 1,000 requests ÷ one of 100 (delay 0, {runs} each)", "×",
               Side(ratios), Side(tuple(small)), "peak MiB at 100 requests", 1.10, absolute=True)


_BATCH_CHILD = """
import json, sys, time
from pathlib import Path
from dalle3 import Settings, Studio
from dalle3.jobs import spec, batch_files
from dalle3.jobs.batch import BatchManager
from dalle3.jobs.store import JobRecord, JobStore, new_job_id

def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

rows_n, output, out = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
studio = Studio(Settings(api_key="sk-bench", output_dir=out))
store = JobStore(out)
manager = BatchManager(studio, store)
idle = rss_mib()
began = time.perf_counter()
job = spec.build_job(spec.prompt_lines("\\n".join(f"batch row {i}" for i in range(rows_n))), {"model": "gpt-image-2"})
record = JobRecord(id=new_job_id(), kind="batch", owner="server", created=time.time(), count=job.count,
                   status="completed", batch_id="batch_bench")
rows = ({"custom_id": r.custom_id, "parameters": r.request.parameters(), "labels": []} for r in job.rows)
store.create(record, rows)
batch_files.write_input(job.rows, store.folder(record.id) / "input.jsonl")
built = time.perf_counter() - began
del job
began = time.perf_counter()
manager.save_results(record, output, {r["custom_id"]: r for r in store.rows(record.id)}, set())
saved = time.perf_counter() - began
done = sum(1 for r in store.results(record.id) if r["ok"])
assert done == rows_n, done
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
print(json.dumps({"idle": idle, "peak": peak, "built_s": built, "saved_s": saved}))
"""


def _noise_png(seed: int) -> bytes:
    """~220 KB: 272x272 of random pixels (PNG cannot shrink noise), like a small real image's weight."""
    import random

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (272, 272), bytes(rng.getrandbits(8) for _ in range(272 * 272 * 3)))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def write_output(path: Path, rows_n: int) -> int:
    """A Batch output file of ``rows_n`` successful rows, in reverse order, written a line at a time."""
    images = [base64.b64encode(_noise_png(seed)).decode("ascii") for seed in range(8)]
    usage = {"input_tokens": 10, "input_tokens_details": {"text_tokens": 10, "image_tokens": 0},
             "output_tokens": 1056, "total_tokens": 1066,
             "output_tokens_details": {"image_tokens": 1056, "text_tokens": 0}}
    with open(path, "w", encoding="ascii") as out:
        for i in reversed(range(rows_n)):
            body = {"created": 0, "data": [{"b64_json": images[i % len(images)]}], "usage": usage}
            out.write(json.dumps({"id": f"batch_req_{i}", "custom_id": f"row-{i + 1:05d}",
                                  "response": {"status_code": 200, "request_id": f"req_{i}", "body": body},
                                  "error": None}) + "\n")
    return path.stat().st_size


def row_batch(rows_n: int, runs: int) -> list[Row]:
    above, built, saved, sizes = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-batch-") as tmp:
        output = Path(tmp) / "output.jsonl"
        sizes.append(write_output(output, rows_n))
        log(f"jobs J3: output file of {rows_n:,} rows, {sizes[-1] / 2**30:.2f} GiB")
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="out-", dir=tmp) as out:
                done = subprocess.run([sys.executable, "-c", _BATCH_CHILD, str(rows_n), str(output), out], cwd=ROOT,
                                      capture_output=True, text=True, timeout=3600)
            if done.returncode:
                raise RuntimeError(done.stderr[-2000:])
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            above.append(figures["peak"] - figures["idle"])
            built.append(figures["built_s"])
            saved.append(figures["saved_s"])
            log(f"jobs J3: {above[-1]:.0f} MiB above idle; JSONL {built[-1]:.1f} s; saved in {saved[-1]:.0f} s")
    gib = sizes[0] / 2**30
    return [Row(f"J3. A Batch of {rows_n:,} rows: peak RSS above the idle process while building its JSONL and "
                f"saving every row of a {gib:.1f} GiB output file ({runs} each)", "MiB", Side(tuple(above)),
                Side(tuple(saved)), "seconds to save every row, info", 200.0, absolute=True),
            Row(f"J3b. … building the job and its JSONL of {rows_n:,} rows (info)", "s", Side(tuple(built)),
                Side(tuple(built)), "same", None)]


def rows(quick: bool = False) -> list[Row]:
    result = [row_run_now(1.0 if quick else 2.0, 2 if quick else 4),
              row_run_now(1.0 if quick else 2.0, 2, realistic=False), row_rss(1 if quick else 2)]
    return result + row_batch(2_000 if quick else 10_000, 1)


def table(job_rows: list[Row]) -> list[str]:
    lines = ["| measure | ours min / median / max | baseline min / median / max | target | verdict |",
             "|---|---|---|---|---|"]
    for row in job_rows:
        ours = f"{row.ours.min:.3f} / {row.ours.median:.3f} / {row.ours.max:.3f} {row.unit}"
        floor = f"{row.floor.min:.3f} / {row.floor.median:.3f} / {row.floor.max:.3f}"
        target = "—" if row.target is None else f"≤ {row.target:g} {row.unit}"
        lines.append(f"| {row.name} | {ours} | {floor} ({row.baseline}) | {target} | {row.verdict} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.jobs", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, a Batch of 2,000 rows")
    args = parser.parse_args(argv)
    print("\n".join(table(rows(args.quick))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
