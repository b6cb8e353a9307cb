"""``python -m bench [--quick]``: dalle3 studio against its floors, side by side, in one run.

Everything talks to the loopback fake API (tests/fake_openai.py) answering every
request with the same realistic 1024x1792 PNG (bench/images.py, ~2.3 MB) after a
fixed delay (2 s; 0 s for the memory run). Prints a Markdown table and writes it
to bench/results.md. See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Callable, Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="dalle3-bench-gradio-"))

import gradio as gr  # noqa: E402
import requests  # noqa: E402
from gradio_client import Client  # noqa: E402

from bench import floor_app  # noqa: E402
from bench.images import realistic_png  # noqa: E402
from dalle3 import Settings, Studio, metadata, validate  # noqa: E402
from dalle3.client import ImagesClient  # noqa: E402
from dalle3.storage import save_image  # noqa: E402
from tests.apphelpers import SERVER_KEY, app_settings, running_app  # noqa: E402
from tests.fake_openai import FakeOpenAI  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZE = "1024x1792"
DELAY_S = 2.0
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
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http_200(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode} before serving {url}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.01)
    raise TimeoutError(f"no HTTP 200 from {url} within {timeout} s")


@contextmanager
def subprocess_app(script: Path, env_extra: dict[str, str]) -> Iterator[tuple[subprocess.Popen, str, float]]:
    """Start ``python script`` in a temp cwd; yield (process, url, seconds to first 200 on /)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DALLE3_"))}
    env.update(GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1", GRADIO_ANALYTICS_ENABLED="False",
               PYTHONPATH=str(ROOT), **env_extra)
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-cwd-") as cwd:
        env.setdefault("GRADIO_TEMP_DIR", str(Path(cwd) / "gradio"))
        log_file = open(Path(cwd) / "server.log", "wb")
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(script)], cwd=cwd, env=env, stdout=log_file,
                                stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            try:
                wait_http_200(url, proc)
            except Exception:
                log_file.flush()
                sys.stderr.write((Path(cwd) / "server.log").read_text(errors="replace")[-3000:])
                raise
            yield proc, url, time.perf_counter() - started
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log_file.close()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


# --------------------------------------------------------------------------- measures


def measure_e2e(ours: Client, floor: Client, studio_times: list[float], floor_times: list[float],
                session: requests.Session, base_url: str, runs: int) -> dict:
    """Part 1: one generation end to end, interleaved ours/floor/bare so drift hits all alike."""
    def call_ours():
        ours.predict(prompt=prompt(), seed=7, size=SIZE, api_name="/generate")

    def call_floor():
        floor.predict(prompt=prompt(), size=SIZE, api_name="/generate")

    def call_bare():
        r = session.post(f"{base_url}/images/generations", headers={"Authorization": f"Bearer {SERVER_KEY}"},
                         json={"model": "dall-e-3", "prompt": prompt(), "n": 1, "size": SIZE,
                               "response_format": "b64_json"}, timeout=(10, 120))
        base64.b64decode(r.json()["data"][0]["b64_json"])

    call_ours(), call_floor(), call_bare()  # warm-up: first-call costs are not what we measure
    res = {"ours": [], "floor": [], "bare": [], "ours_handoff": [], "floor_handoff": [], "ours_inner": [],
           "floor_inner": []}
    for i in range(runs):
        order = [("ours", call_ours), ("floor", call_floor), ("bare", call_bare)]
        if i % 2:
            order.reverse()
        for name, fn in order:
            n_inner = len(studio_times) if name == "ours" else len(floor_times)
            t = timed(fn)
            res[name].append(t)
            if name == "ours":
                res["ours_inner"].append(studio_times[n_inner])
                res["ours_handoff"].append(t - studio_times[n_inner])
            elif name == "floor":
                res["floor_inner"].append(floor_times[n_inner])
                res["floor_handoff"].append(t - floor_times[n_inner])
        log(f"e2e run {i + 1}/{runs}: ours {res['ours'][-1]:.3f} s, floor {res['floor'][-1]:.3f} s, "
            f"bare {res['bare'][-1]:.3f} s")
    return {k: median(v) for k, v in res.items()}


def measure_stages(fake: FakeOpenAI, settings: Settings, out_dir: Path, runs: int) -> dict[str, tuple[float, float]]:
    """In-process, fake delay 0: (ours, floor) seconds per stage, medians."""
    fake.default_delay_s = 0.0
    try:
        session = requests.Session()
        client = ImagesClient(settings)
        request = validate(prompt(), 7, "standard", "natural", SIZE, "dall-e-3", {})
        url = f"{settings.base_url}/images/generations"
        body = {"model": "dall-e-3", "prompt": request.prompt, "n": 1, "size": SIZE, "quality": "standard",
                "style": "natural", "response_format": "b64_json"}
        raw_b64: list[str] = []

        def floor_http():
            r = session.post(url, json=body, headers={"Authorization": f"Bearer {SERVER_KEY}"}, timeout=(10, 120))
            raw_b64.append(r.json()["data"][0]["b64_json"])

        ours_http, floor_http_t = [], []
        client.generate(request, SERVER_KEY), floor_http()
        for _ in range(runs):
            ours_http.append(timed(lambda: client.generate(request, SERVER_KEY)))  # includes its decode
            floor_http_t.append(timed(floor_http))  # excludes decode
        b64 = raw_b64[-1]
        reps = max(5, runs)
        ours_dec = median(timed(lambda: metadata.png_size(base64.b64decode(b64, validate=True)))
                          for _ in range(reps))
        floor_dec = median(timed(lambda: base64.b64decode(b64)) for _ in range(reps))
        image = client.generate(request, SERVER_KEY)
        n = 2000
        t0 = time.perf_counter()
        for _ in range(n):
            validate(request.prompt, 7, "standard", "natural", SIZE, "dall-e-3", {})
        validate_s = (time.perf_counter() - t0) / n
        embed_s = median(timed(lambda: metadata.embed(image.png, Studio._parameters_for(request, image, "openai")))
                         for _ in range(reps))
        png = metadata.embed(image.png, Studio._parameters_for(request, image, "openai"))
        save_s = median(timed(lambda: save_image(png, out_dir / "stages", request.prompt, 7)) for _ in range(reps))
        floor_dir = out_dir / "stages-floor"
        floor_dir.mkdir(parents=True, exist_ok=True)
        counter = itertools.count()
        write_s = median(timed(lambda: (floor_dir / f"f{next(counter)}.png").write_bytes(png)) for _ in range(reps))
        http_ours = median(ours_http) - ours_dec
        return {
            "validation": (validate_s, 0.0),
            "HTTP (post + read + JSON)": (http_ours, median(floor_http_t)),
            "base64 decode (+ PNG check)": (ours_dec, floor_dec),
            "metadata insert": (embed_s, 0.0),
            "save": (save_s, write_s),
        }
    finally:
        fake.default_delay_s = DELAY_S


def measure_concurrency(ours: Client, floor: Client, reps: int, n: int = 8) -> dict[str, float]:
    """Part 3: wall time of n simultaneous generations (medians over reps)."""
    def burst(client: Client, kwargs: Callable[[], dict]) -> float:
        started = time.perf_counter()
        jobs = [client.submit(**kwargs()) for _ in range(n)]
        for job in jobs:
            job.result()
        return time.perf_counter() - started

    walls = {"ours": [], "floor": []}
    for i in range(reps):
        walls["ours"].append(burst(ours, lambda: dict(prompt=prompt(), seed=7, size=SIZE, api_name="/generate")))
        walls["floor"].append(burst(floor, lambda: dict(prompt=prompt(), size=SIZE, api_name="/generate")))
        log(f"burst of {n} {i + 1}/{reps}: ours {walls['ours'][-1]:.3f} s, floor {walls['floor'][-1]:.3f} s")
    return {k: median(v) for k, v in walls.items()}


def measure_cache(ours: Client, floor: Client, runs: int) -> dict[str, float]:
    """Part 4: a repeated identical /generate (cache hit) vs the floor's no-op returning the same file."""
    p = prompt()
    ours.predict(prompt=p, seed=7, size=SIZE, api_name="/generate")  # fills the cache (2 s)
    path = floor.predict(prompt=prompt(), size=SIZE, api_name="/generate")
    served = floor_app_path(path)
    hit = lambda: ours.predict(prompt=p, seed=7, size=SIZE, api_name="/generate")  # noqa: E731
    noop = lambda: floor.predict(path=served, api_name="/noop")  # noqa: E731
    hit(), noop()
    ours_t, floor_t = [], []
    for i in range(runs):
        for name, fn in ((("ours", hit), ("floor", noop)) if i % 2 == 0 else (("floor", noop), ("ours", hit))):
            (ours_t if name == "ours" else floor_t).append(timed(fn))
    return {"ours": median(ours_t), "floor": median(floor_t)}


_floor_out: Path | None = None


def floor_app_path(downloaded: str) -> str:
    """The floor's own file for a result (the no-op endpoint returns a server-side path)."""
    assert _floor_out is not None
    files = sorted(_floor_out.glob("floor-*.png"), key=lambda p: p.stat().st_mtime)
    return str(files[-1])


def measure_startup(reps: int) -> dict[str, float]:
    """Part 2: process start to first HTTP 200 on /, interleaved (medians)."""
    times = {"ours": [], "hello": []}
    for i in range(reps):
        pairs = [("ours", ROOT / "app.py", {"DALLE3_OFFLINE": "1"}), ("hello", ROOT / "bench" / "hello_app.py", {})]
        if i % 2:
            pairs.reverse()
        for name, script, env in pairs:
            with subprocess_app(script, env) as (_, _, took):
                times[name].append(took)
        log(f"start-up {i + 1}/{reps}: app.py {times['ours'][-1]:.2f} s, hello {times['hello'][-1]:.2f} s")
    return {**{k: median(v) for k, v in times.items()}, **{f"{k}_min": min(v) for k, v in times.items()}}


def measure_memory(fake: FakeOpenAI, total: int = 200, early: int = 10) -> dict[str, float]:
    """Part 5: RSS of `python app.py` after `early` and after `total` generations (fake delay 0)."""
    fake.default_delay_s = 0.0
    try:
        with tempfile.TemporaryDirectory(prefix="dalle3-bench-mem-") as out:
            env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-bench", "DALLE3_OUTPUT_DIR": out}
            with subprocess_app(ROOT / "app.py", env) as (proc, url, _):
                client = Client(url, verbose=False)
                try:
                    rss = {}
                    for i in range(1, total + 1):
                        client.predict(prompt=prompt(), seed=i, size=SIZE, api_name="/generate")
                        if i == early:
                            time.sleep(0.5)
                            rss["early"] = rss_mib(proc.pid)
                        if i % 50 == 0:
                            log(f"memory: {i}/{total} generations, RSS {rss_mib(proc.pid):.1f} MiB")
                    time.sleep(0.5)
                    rss["late"] = rss_mib(proc.pid)
                finally:
                    client.close()
        return rss
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
    import gradio_client

    return [f"CPU: {cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}",
            f"Python {platform.python_version()}, gradio {gr.__version__}, gradio_client {gradio_client.__version__}"]


def verdict(ratio: float, target: float) -> str:
    return "pass" if ratio <= target else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (~2.5 min instead of ~5)")
    parser.add_argument("--runs", type=int, default=None, help="repeats of each 2 s measurement (default 7, quick 3)")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results.md")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 7)
    startup_reps = 3 if args.quick else 7
    burst_reps = 2 if args.quick else 3
    cache_runs = 10 if args.quick else 25
    mem_total = 200
    default_concurrency = Settings().concurrency
    began = time.perf_counter()
    load_before = os.getloadavg()

    png = realistic_png()
    log(f"image: {SIZE} PNG, {len(png) / 1e6:.2f} MB; fake delay {DELAY_S:g} s; runs {runs}")
    global _floor_out
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-") as tmp, FakeOpenAI() as fake:
        fake.default_delay_s = DELAY_S
        fake.default_image = png
        tmp_path = Path(tmp)
        _floor_out = tmp_path / "floor"
        settings = app_settings(fake.base_url, tmp_path / "ours", timeout_s=120.0, concurrency=default_concurrency)
        # stdout -> stderr here: Gradio prints "Closing server ..." and would interleave with the table
        with redirect_stdout(sys.stderr), running_app(settings) as running:
            studio_times: list[float] = []
            inner = running.studio.generate

            def timed_generate(*a, **kw):
                started = time.perf_counter()
                try:
                    return inner(*a, **kw)
                finally:
                    studio_times.append(time.perf_counter() - started)

            running.studio.generate = timed_generate  # instance attribute: the page's closures call this
            floor_demo = floor_app.build(fake.base_url, SERVER_KEY, _floor_out, concurrency=default_concurrency)
            _, floor_url, _ = floor_demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True,
                                                allowed_paths=[str(_floor_out)])
            ours, floor = running.client(), Client(floor_url, verbose=False)
            try:
                e2e = measure_e2e(ours, floor, studio_times, floor_demo.floor_timings, requests.Session(),
                                  fake.base_url, runs)
                burst = measure_concurrency(ours, floor, burst_reps)
                cache = measure_cache(ours, floor, cache_runs)
            finally:
                ours.close()
                floor.close()
                floor_demo.close()
        stages = measure_stages(fake, settings, tmp_path / "inproc", max(runs, 7))
        log(f"2 s measures done in {time.perf_counter() - began:.0f} s; start-up next")
        startup = measure_startup(startup_reps)
        log("memory next")
        mem = measure_memory(fake, total=mem_total)

    r_e2e = e2e["ours"] / e2e["floor"]
    conc_ours, conc_floor = burst["ours"] / e2e["ours"], burst["floor"] / e2e["floor"]
    rows = [
        (f"1. One generation end to end ({SIZE}, median of {runs})", f"{e2e['ours']:.3f} s",
         f"{e2e['floor']:.3f} s (floor app)", r_e2e, 1.02),
        ("1b. … vs bare `requests.post` + base64 decode (info)", f"{e2e['ours']:.3f} s",
         f"{e2e['bare']:.3f} s", e2e["ours"] / e2e["bare"], None),
        (f"2. Start-up to first HTTP 200 (median of {startup_reps})", f"{startup['ours']:.2f} s",
         f"{startup['hello']:.2f} s (hello world)", startup["ours"] / startup["hello"], 1.15),
        (f"2b. … best of {startup_reps} (info: least disturbed by other load)", f"{startup['ours_min']:.2f} s",
         f"{startup['hello_min']:.2f} s", startup["ours_min"] / startup["hello_min"], None),
        (f"3. 8 simultaneous ÷ 1 generation (limit {default_concurrency} both; median of {burst_reps})",
         f"{conc_ours:.3f} ({burst['ours']:.2f} s)", f"{conc_floor:.3f} ({burst['floor']:.2f} s, floor app)",
         conc_ours / conc_floor, 1.05),
        (f"4. Cache hit vs floor no-op returning the same file (median of {cache_runs})",
         f"{cache['ours'] * 1000:.1f} ms", f"{cache['floor'] * 1000:.1f} ms", cache["ours"] / cache["floor"], 1.2),
        (f"5. RSS of `python app.py` after {mem_total} ÷ after 10 generations", f"{mem['late']:.1f} MiB",
         f"{mem['early']:.1f} MiB", mem["late"] / mem["early"], 1.1),
    ]
    lines = ["| measure | ours | baseline | ratio | target | pass/fail |", "|---|---|---|---|---|---|"]
    for name, a, b, ratio, target in rows:
        lines.append(f"| {name} | {a} | {b} | {ratio:.3f} | {'≤ %.2f' % target if target else '—'} | "
                     f"{verdict(ratio, target) if target else '—'} |")
    added_total = (e2e["ours"] - e2e["floor"]) * 1000
    handoff = (e2e["ours_handoff"], e2e["floor_handoff"])
    stage_lines = ["| stage | ours ms | floor ms | added ms |", "|---|---|---|---|"]
    for name, (a, b) in [*stages.items(), ("Gradio hand-off (e2e − in-process generate)", handoff)]:
        stage_lines.append(f"| {name} | {a * 1000:.3f} | {b * 1000:.3f} | {(a - b) * 1000:+.3f} |")
    stage_lines.append(f"| **total added, e2e medians (ours − floor)** | | | **{added_total:+.1f}** |")
    cmd = "python -m bench" + (" --quick" if args.quick else "") + (f" --runs {args.runs}" if args.runs else "")
    report = "\n".join([
        "# dalle3 studio benchmark (issue 6)", "",
        f"Command: `cd {ROOT.name} && {cmd}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"took {time.perf_counter() - began:.0f} s.", "",
        *[f"- {line}" for line in machine_info()],
        f"- Load average (1 min) at start {load_before[0]:.2f}, at end {os.getloadavg()[0]:.2f} "
        f"({os.cpu_count()} cores): other work on the machine widens the spread, start-up most.",
        f"- Fake API: loopback `tests/fake_openai.py`, every answer the same {SIZE} PNG of "
        f"{len(png) / 1e6:.2f} MB (gradient + seeded 2-bit noise, bench/images.py) after {DELAY_S:g} s "
        "(0 s for the memory run and the stage timings).",
        f"- Settings: DALLE3_CONCURRENCY default = {default_concurrency} for ours (event limit and queue default); "
        f"the floor app gets the same limit ({default_concurrency}). Ours and the floor run in-process in this "
        "process, each behind its own Gradio server, called through gradio_client; start-up and memory use "
        "subprocesses.",
        "- Floor: bench/floor_app.py (requests.Session post → base64 decode → write file → return path to "
        "gr.Image(type='filepath', format='png')). Every distinct-prompt call misses the cache.", "",
        *lines, "",
        "Added time per generation, by stage (stage rows: in-process, fake delay 0, medians; hand-off: from the "
        "2 s e2e runs):", "",
        *stage_lines, "",
    ])
    print(report)
    if not args.no_write:
        (ROOT / "bench" / "results.md").write_text(report)
        log("written to bench/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
