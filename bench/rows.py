"""One function per results row; each samples ours and its baseline alternately (ABAB...)."""

from __future__ import annotations

import base64
import itertools
import time
from pathlib import Path
from typing import Callable

import requests
from gradio_client import Client

from bench.common import DELAY_S, KEY, ROOT, SIZE, log, median, prompt, timed
from bench.procs import app_env, rss_mib, subprocess_app
from bench.stats import Row, Side
from dalle3 import Settings, validate
from dalle3.files import metadata
from dalle3.http.client import ImagesClient
from dalle3.files.storage import save_image
from dalle3.studio.saving import parameters_for
from tests.fake_openai import FakeOpenAI


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
        request = validate(prompt(), seed=7, quality="standard", style="natural", size=SIZE, model="dall-e-3")
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
            validate(request.prompt, seed=7, quality="standard", style="natural", size=SIZE, model="dall-e-3")
        validate_s = (time.perf_counter() - t0) / n
        parameters = parameters_for(request, image, "openai")
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
