"""``python -m bench.stream [--quick]``: live previews and 4K answers against their floors.

Rows (each ours vs a floor measured interleaved in the same run, min / median / max):

* S1 time to the first preview: ``ImagesClient.generate(previews=2)`` from the
  call to ``on_partial`` vs a bare ``requests`` read of the same stream until
  its first event is whole and decoded (the fake sends it after 1 s).
* S2 one generation end to end with previews on (``Studio.generate`` with
  ``previews=2``, a temp file per preview) vs the floor that does not stream
  (``requests.post`` → base64 decode → write the file); the fake takes 2 s either way.
* S3 a 3840x2160 image end to end, plain ``Studio.generate`` vs the same floor.
* S4 RSS of ``python app.py`` after 30 ÷ after 3 generations of 3840x2160 images.

All in-process except S4; the page's own rows (click to the first preview on
the page) belong with the page's wiring.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import requests

from bench.common import ROOT, log, prompt, timed
from bench.procs import rss_mib, subprocess_app
from bench.images import realistic_png
from dalle3 import Settings, Studio, validate
from dalle3.http.client import ImagesClient
from tests.fake_openai import FakeOpenAI

KEY = "sk-bench-stream"
SMALL = "1024x1024"
LARGE = "3840x2160"


def spread(values: list[float], scale: float = 1.0, unit: str = "s", digits: int = 3) -> str:
    a, m, b = min(values) * scale, statistics.median(values) * scale, max(values) * scale
    return f"{m:.{digits}f} {unit} ({a:.{digits}f}–{b:.{digits}f})"


def interleave(runs: int, ours: Callable[[], float], floor: Callable[[], float]) -> tuple[list[float], list[float]]:
    """Alternate which goes first, so drift on the machine hits both alike."""
    a, b = [], []
    ours(), floor()  # warm-up
    for i in range(runs):
        if i % 2:
            b.append(floor())
            a.append(ours())
        else:
            a.append(ours())
            b.append(floor())
    return a, b


def floor_first_event(base_url: str, session: requests.Session, size: str, *, partials: int = 2) -> float:
    """Post with stream=true; read raw bytes until the first event is whole; decode its image."""
    body: dict[str, Any] = {"model": "gpt-image-2", "prompt": prompt(), "n": 1, "size": size, "quality": "low",
            "output_format": "png", "stream": True, "partial_images": partials}
    started = time.perf_counter()
    with session.post(f"{base_url}/images/generations", json=body, stream=True, timeout=(10, 120),
                      headers={"Authorization": f"Bearer {KEY}"}) as response:
        buffer = bytearray()
        while b"\n\n" not in buffer:
            buffer += response.raw.read1(1 << 20, decode_content=True)
        data = bytes(buffer).split(b"\n\n", 1)[0].split(b"data: ", 1)[1]
        base64.b64decode(json.loads(data)["b64_json"])
        return time.perf_counter() - started


def floor_plain(base_url: str, session: requests.Session, size: str, out: Path) -> float:
    body: dict[str, Any] = {"model": "gpt-image-2", "prompt": prompt(), "n": 1, "size": size, "quality": "low",
            "output_format": "png"}
    started = time.perf_counter()
    r = session.post(f"{base_url}/images/generations", json=body, timeout=(10, 600),
                     headers={"Authorization": f"Bearer {KEY}"})
    (out / f"floor-{time.perf_counter_ns()}.png").write_bytes(base64.b64decode(r.json()["data"][0]["b64_json"]))
    return time.perf_counter() - started


def first_preview(client: ImagesClient, size: str) -> float:
    started = time.perf_counter()
    seen: list[float] = []
    client.generate(validate(prompt(), model="gpt-image-2", quality="low", size=size), KEY, previews=2,
                    on_partial=lambda p: seen.append(time.perf_counter() - started) if not seen else None)
    return seen[0]


def measure_memory(fake: FakeOpenAI, total: int, early: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-4k-") as out:
        env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": KEY, "DALLE3_OUTPUT_DIR": out}
        from gradio_client import Client

        with subprocess_app(ROOT / "app.py", env) as (proc, url, _):
            client = Client(url, verbose=False)
            try:
                rss = {}
                for i in range(1, total + 1):
                    client.predict(prompt=prompt(), seed=i, model="gpt-image-2", quality="low", size=LARGE,
                                   api_name="/generate")
                    if i in (early, total):
                        time.sleep(0.5)
                        rss["early" if i == early else "late"] = rss_mib(proc.pid)
                return rss
            finally:
                client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 7, memory 10 ÷ 3")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else 7
    rows = []
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-stream-") as tmp, FakeOpenAI() as fake:
        out = Path(tmp)
        settings = Settings(api_key=KEY, base_url=fake.base_url, output_dir=out / "ours")
        studio, session = Studio(settings), requests.Session()
        fake.default_image = realistic_png(1024, 1024)
        fake.default_delay_s = 3.0  # three events (2 previews, final): the first after 1 s
        ours, floor = interleave(runs, lambda: first_preview(studio.client, SMALL),
                                 lambda: floor_first_event(fake.base_url, session, SMALL))
        rows.append(("S1. Time to the first preview, client (1024², first event at 1 s)", ours, floor,
                     f"+{(statistics.median(ours) - statistics.median(floor)) * 1000:.1f} ms", "≤ +60 ms"))
        log(f"S1 done: {spread(ours)} vs {spread(floor)}")
        fake.default_delay_s = 2.0
        plain_dir = out / "floor"
        plain_dir.mkdir()

        def ours_streamed() -> float:
            request = validate(prompt(), model="gpt-image-2", quality="low", size=SMALL)
            return timed(lambda: studio.generate(request, KEY, previews=2, on_preview=lambda p: None))

        ours, floor = interleave(runs, ours_streamed, lambda: floor_plain(fake.base_url, session, SMALL, plain_dir))
        rows.append(("S2. End to end, previews on (2) vs a floor that does not stream (1024², 2 s)", ours, floor,
                     f"{statistics.median(ours) / statistics.median(floor):.3f}", "≤ 1.02"))
        log(f"S2 done: {spread(ours)} vs {spread(floor)}")
        fake.default_image = realistic_png(3840, 2160)
        log(f"4K image: {len(fake.default_image) / 1e6:.1f} MB")

        def ours_large() -> float:
            request = validate(prompt(), model="gpt-image-2", quality="low", size=LARGE)
            return timed(lambda: studio.generate(request))

        ours, floor = interleave(runs, ours_large, lambda: floor_plain(fake.base_url, session, LARGE, plain_dir))
        rows.append(("S3. 3840x2160 end to end vs floor (2 s)", ours, floor,
                     f"{statistics.median(ours) / statistics.median(floor):.3f}", "≤ 1.02"))
        log(f"S3 done: {spread(ours)} vs {spread(floor)}")
        fake.default_delay_s = 0.0
        total, early = (10, 3) if args.quick else (30, 3)
        mem = measure_memory(fake, total, early)
    lines = ["| measure | ours median (min–max) | floor median (min–max) | result | target |", "|---|---|---|---|---|"]
    for name, a, b, result, target in rows:
        lines.append(f"| {name} | {spread(a)} | {spread(b)} | {result} | {target} |")
    lines.append(f"| S4. RSS of `python app.py` after {total} ÷ after {early} 3840x2160 images | "
                 f"{mem['late']:.1f} MiB | {mem['early']:.1f} MiB | {mem['late'] / mem['early']:.3f} | ≤ 1.10 |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
