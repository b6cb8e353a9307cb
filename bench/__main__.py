"""``python -m bench [--quick]``: the real ``python app.py`` against its floors, side by side, in one run.

Every row drives the real ``python app.py`` as a subprocess (its environment
pointing at the loopback fake API, ``tests/fake_openai.py``, which answers every
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

Prints a Markdown table and writes it to bench/results.md. About 3–5 minutes
on a quiet 2-core machine (``--quick``: about 2); a busy machine stretches the
start-ups most.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import requests  # noqa: E402
from gradio_client import Client  # noqa: E402

from bench.images import realistic_png  # noqa: E402
from bench.stats import Row, Side  # noqa: E402
from dalle3 import Settings, Studio, metadata, validate  # noqa: E402
from dalle3.client import ImagesClient  # noqa: E402
from dalle3.storage import save_image  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZE = "1024x1792"
DELAY_S = 2.0
KEY = "sk-bench-0123456789abcdef"
median = statistics.median
_nonce = itertools.count()


def prompt() -> str:
    """A prompt no earlier call used, so the app's cache never answers it."""
    return f"a lighthouse at dawn, bench {uuid.uuid4().hex[:8]} {next(_nonce)}"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http_200(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode} before serving {url}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.01)  # poll interval of the start-up clock: 10 ms resolution
    raise TimeoutError(f"no HTTP 200 from {url} within {timeout} s")


@contextmanager
def subprocess_app(script: Path, env_extra: dict[str, str]) -> Iterator[tuple[subprocess.Popen, str, float]]:
    """Start ``python script`` in a temp cwd on a free port; yield (process, url, seconds to first 200 on /)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DALLE3_", "GRADIO_"))}
    env.update(GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1", GRADIO_ANALYTICS_ENABLED="False",
               PYTHONPATH=str(ROOT), **env_extra)
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-cwd-") as cwd:
        env.setdefault("GRADIO_TEMP_DIR", str(Path(cwd) / "gradio"))
        log_path = Path(cwd) / "server.log"
        with open(log_path, "wb") as log_file:
            started = time.perf_counter()
            proc = subprocess.Popen([sys.executable, str(script)], cwd=cwd, env=env, stdout=log_file,
                                    stderr=subprocess.STDOUT)
            url = f"http://127.0.0.1:{port}/"
            try:
                try:
                    wait_http_200(url, proc)
                except Exception:
                    sys.stderr.write(log_path.read_text(errors="replace")[-3000:])
                    raise
                yield proc, url, time.perf_counter() - started
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def app_env(fake: FakeOpenAI, out: Path) -> dict[str, str]:
    """``python app.py`` as a user runs it with a key, pointed at the fake (default DALLE3_CONCURRENCY)."""
    return {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": fake.base_url, "DALLE3_OUTPUT_DIR": str(out)}


def floor_env(fake: FakeOpenAI, out: Path, concurrency: int) -> dict[str, str]:
    return {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": fake.base_url, "FLOOR_OUTPUT_DIR": str(out),
            "FLOOR_CONCURRENCY": str(concurrency)}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def alternate(ours: Callable[[], float], floor: Callable[[], float], runs: int, what: str) -> tuple[Side, Side]:
    """``runs`` samples a side, taken ours, floor, ours, floor, ..."""
    a: list[float] = []
    b: list[float] = []
    for i in range(runs):
        a.append(ours())
        b.append(floor())
        log(f"{what} {i + 1}/{runs}: ours {a[-1]:.3f}, floor {b[-1]:.3f}")
    return Side(tuple(a)), Side(tuple(b))


# --------------------------------------------------------------------------- rows


def generate_calls(ours: Client, floor: Client) -> tuple[Callable[[], object], Callable[[], object]]:
    def call_ours():
        return ours.predict(prompt=prompt(), seed=7, size=SIZE, api_name="/generate")

    def call_floor():
        return floor.predict(prompt=prompt(), size=SIZE, api_name="/generate")

    return call_ours, call_floor


def row_e2e(ours: Client, floor: Client, runs: int) -> Row:
    call_ours, call_floor = generate_calls(ours, floor)
    call_ours(), call_floor()  # warm-up: first-call costs are not what we measure
    a, b = alternate(lambda: timed(call_ours), lambda: timed(call_floor), runs, "one generation (s)")
    return Row(f"1. One generation end to end ({SIZE}, {runs} each)", "s", a, b, "floor app", 1.02)


def row_bare(ours: Client, fake: FakeOpenAI, runs: int) -> Row:
    """Info: ours against a bare ``requests.post`` + base64 decode, no Gradio at all."""
    session = requests.Session()
    call_ours, _ = generate_calls(ours, ours)

    def bare():
        r = session.post(f"{fake.base_url}/images/generations", headers={"Authorization": f"Bearer {KEY}"},
                         json={"model": "dall-e-3", "prompt": prompt(), "n": 1, "size": SIZE,
                               "response_format": "b64_json"}, timeout=(10, 120))
        base64.b64decode(r.json()["data"][0]["b64_json"])

    a, b = alternate(lambda: timed(call_ours), lambda: timed(bare), runs, "vs bare requests (s)")
    return Row("1b. … vs bare `requests.post` + base64 decode (info)", "s", a, b, "bare requests", None)


def row_burst(ours: Client, floor: Client, runs: int, concurrency: int, n: int = 8) -> Row:
    def burst(client: Client, kwargs: Callable[[], dict]) -> float:
        started = time.perf_counter()
        for job in [client.submit(**kwargs()) for _ in range(n)]:
            job.result()
        return time.perf_counter() - started

    a, b = alternate(lambda: burst(ours, lambda: dict(prompt=prompt(), seed=7, size=SIZE, api_name="/generate")),
                     lambda: burst(floor, lambda: dict(prompt=prompt(), size=SIZE, api_name="/generate")),
                     runs, f"{n} simultaneous (s)")
    return Row(f"3. {n} simultaneous generations, wall time (limit {concurrency} both; {runs} each)", "s", a, b,
               "floor app", 1.05)


def row_cache(ours: Client, floor: Client, floor_out: Path, runs: int) -> Row:
    """A repeated identical /generate (cache hit) vs the floor's no-op returning an existing file."""
    p = prompt()
    ours.predict(prompt=p, seed=7, size=SIZE, api_name="/generate")  # fills the cache (one 2 s call)
    existing = str(max(floor_out.glob("floor-*.png"), key=lambda f: f.stat().st_mtime))

    def hit():
        return ours.predict(prompt=p, seed=7, size=SIZE, api_name="/generate")

    def noop():
        return floor.predict(path=existing, api_name="/noop")

    hit(), noop()
    a, b = alternate(lambda: timed(hit), lambda: timed(noop), runs, "cache hit (s)")
    return Row(f"4. Cache hit vs floor no-op returning the same-size file ({runs} each)", "s", a, b,
               "floor no-op", 1.20)


def row_memory(ours: tuple[Client, int], floor: tuple[Client, int], fake: FakeOpenAI, total: int) -> Row:
    """RSS after ``total`` more generations ÷ before them, ours and the floor called alternately (delay 0)."""
    (ours_client, ours_pid), (floor_client, floor_pid) = ours, floor
    call_ours, call_floor = generate_calls(ours_client, floor_client)
    fake.default_delay_s = 0.0
    try:
        for _ in range(10):  # settle both after the 2 s rows
            call_ours(), call_floor()
        before = rss_mib(ours_pid), rss_mib(floor_pid)
        late: tuple[list[float], list[float]] = ([], [])
        checkpoints = {total - 2 * (total // 10), total - total // 10, total}  # the last three tenths
        for i in range(1, total + 1):
            call_ours(), call_floor()
            if i in checkpoints:
                late[0].append(rss_mib(ours_pid) / before[0])
                late[1].append(rss_mib(floor_pid) / before[1])
                log(f"memory {i}/{total}: ours ×{late[0][-1]:.3f}, floor ×{late[1][-1]:.3f}")
    finally:
        fake.default_delay_s = DELAY_S
    return Row(f"5. RSS after {total} more generations ÷ before (last three tenths)", "×",
               Side(tuple(late[0])), Side(tuple(late[1])), "floor's own growth", 1.10, absolute=True)


def row_startup(fake: FakeOpenAI, out: Path, runs: int) -> Row:
    def start(script: Path, env: dict[str, str]) -> Callable[[], float]:
        def once() -> float:
            with subprocess_app(script, env) as (_, _, took):
                return took
        return once

    a, b = alternate(start(ROOT / "app.py", app_env(fake, out)), start(ROOT / "bench" / "hello_app.py", {}),
                     runs, "start-up (s)")
    return Row(f"2. Start-up to first HTTP 200 ({runs} each)", "s", a, b, "Gradio hello world", 1.15)


def stages(fake: FakeOpenAI, out_dir: Path, runs: int) -> dict[str, tuple[float, float]]:
    """In-process, fake delay 0: (ours, floor) seconds per stage of one generation, medians."""
    fake.default_delay_s = 0.0
    try:
        settings = Settings(api_key=KEY, base_url=fake.base_url, output_dir=out_dir)
        session = requests.Session()
        client = ImagesClient(settings)
        request = validate(prompt(), 7, "standard", "natural", SIZE, "dall-e-3", {})
        url = f"{settings.base_url}/images/generations"
        body = {"model": "dall-e-3", "prompt": request.prompt, "n": 1, "size": SIZE, "quality": "standard",
                "style": "natural", "response_format": "b64_json"}
        raw_b64: list[str] = []

        def floor_http():
            r = session.post(url, json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=(10, 120))
            raw_b64.append(r.json()["data"][0]["b64_json"])

        ours_http, floor_http_t = [], []
        client.generate(request, KEY), floor_http()
        for _ in range(runs):
            ours_http.append(timed(lambda: client.generate(request, KEY)))  # includes its decode
            floor_http_t.append(timed(floor_http))  # excludes decode
        b64 = raw_b64[-1]
        ours_dec = median(timed(lambda: metadata.png_size(base64.b64decode(b64, validate=True))) for _ in range(runs))
        floor_dec = median(timed(lambda: base64.b64decode(b64)) for _ in range(runs))
        image = client.generate(request, KEY)
        n = 2000
        t0 = time.perf_counter()
        for _ in range(n):
            validate(request.prompt, 7, "standard", "natural", SIZE, "dall-e-3", {})
        validate_s = (time.perf_counter() - t0) / n
        parameters = Studio._parameters_for(request, image, "openai")
        embed_s = median(timed(lambda: metadata.embed(image.png, parameters)) for _ in range(runs))
        png = metadata.embed(image.png, parameters)
        save_s = median(timed(lambda: save_image(png, out_dir / "stages", request.prompt, 7)) for _ in range(runs))
        floor_dir = out_dir / "stages-floor"
        floor_dir.mkdir(parents=True, exist_ok=True)
        counter = itertools.count()
        write_s = median(timed(lambda: (floor_dir / f"f{next(counter)}.png").write_bytes(png)) for _ in range(runs))
        return {
            "validation": (validate_s, 0.0),
            "HTTP (post + read + JSON)": (median(ours_http) - ours_dec, median(floor_http_t)),
            "base64 decode (+ PNG check)": (ours_dec, floor_dec),
            "metadata insert": (embed_s, 0.0),
            "save": (save_s, write_s),
        }
    finally:
        fake.default_delay_s = DELAY_S


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (about 2.5 min instead of 4–5)")
    parser.add_argument("--runs", type=int, default=None, help="samples a side of each 2 s row (default 6, quick 3)")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results.md")
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
        startup = row_startup(fake, tmp_path / "startup-out", startup_runs)
        ours_proc, ours_url, _ = stack.enter_context(
            subprocess_app(ROOT / "app.py", app_env(fake, tmp_path / "ours")))
        floor_out = tmp_path / "floor"
        floor_proc, floor_url, _ = stack.enter_context(
            subprocess_app(ROOT / "bench" / "floor_app.py", floor_env(fake, floor_out, concurrency)))
        ours, floor = Client(ours_url, verbose=False), Client(floor_url, verbose=False)
        stack.callback(ours.close)
        stack.callback(floor.close)
        rows = [row_e2e(ours, floor, runs)]
        rows.append(row_bare(ours, fake, max(3, runs // 2)))
        rows.append(startup)
        rows.append(row_burst(ours, floor, burst_runs, concurrency))
        rows.append(row_cache(ours, floor, floor_out, cache_runs))
        rows.append(row_memory((ours, ours_proc.pid), (floor, floor_proc.pid), fake, mem_total))
        stage_times = stages(fake, tmp_path / "inproc", max(runs, 7))
    e2e = rows[0]
    added_ms = (e2e.ours.median - e2e.floor.median) * 1000
    stage_lines = ["| stage | ours ms | floor ms | added ms |", "|---|---|---|---|"]
    for name, (a, b) in stage_times.items():
        stage_lines.append(f"| {name} | {a * 1000:.3f} | {b * 1000:.3f} | {(a - b) * 1000:+.3f} |")
    ours_stages = sum(a - b for a, b in stage_times.values()) * 1000
    stage_lines += [f"| Gradio hand-off and the rest (total − stages) | | | {added_ms - ours_stages:+.1f} |",
                    f"| **total added, e2e medians (ours − floor)** | | | **{added_ms:+.1f}** |"]
    cmd = "python -m bench" + (" --quick" if args.quick else "") + (f" --runs {args.runs}" if args.runs else "")
    report = "\n".join([
        "# dalle3 studio benchmark", "",
        f"Command: `{cmd}` (from the repository root) — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"took {time.perf_counter() - began:.0f} s.", "",
        *[f"- {line}" for line in machine_info()],
        f"- Load average (1 min) at start {load_before[0]:.2f}, at end {os.getloadavg()[0]:.2f} "
        f"({os.cpu_count()} cores): other work on the machine widens the spread.",
        f"- Fake API: loopback `tests/fake_openai.py`, every answer the same {SIZE} PNG of {len(png) / 1e6:.2f} MB "
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
    ])
    print(report)
    if not args.no_write:
        (ROOT / "bench" / "results.md").write_text(report)
        log("written to bench/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
