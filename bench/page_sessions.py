"""``python -m bench.page_sessions [--quick]``: memory kept per page session that only changed a control.

A flood of cheap page events — a quality change through ``/gradio_api/queue/join``, each under
a NEW ``session_hash`` — makes Gradio keep one session each. The real ``python app.py``
(offline simulator) is started behind ``DALLE3_TRUSTED_PROXIES=127.0.0.1`` so each event can
come from its own address (``X-Forwarded-For``), as a distributed flood would, past the bound
on new sessions per client. Beside it, the bare Gradio floor (``bench/floor_app.py``) keeps a
session per ``/call`` under a new ``session_hash``: what a minimal Gradio app keeps per
session. The two are sampled alternately, in blocks; each sample is (RSS after the block −
RSS before) ÷ the block's sessions, in KB, after a warm-up block.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import requests

from bench.session_memory import ROOT, call, rss_kib, start
from bench.stats import Row, Side
from tests.fake_openai import FakeOpenAI, render_image


def quality_change(url: str) -> Callable[[int], None]:
    """A function making page event number ``i``: the page's quality change, from its own address."""
    config = requests.get(f"{url}/config", timeout=30).json()
    dependency = next(d for d in config["dependencies"] if d.get("api_name") == "on_setting")
    values = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
    data = [values.get(i) for i in dependency["inputs"]]
    http = requests.Session()

    def event(i: int) -> None:
        session_hash = uuid.uuid4().hex
        address = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        posted = http.post(f"{url}/gradio_api/queue/join", headers={"X-Forwarded-For": address}, timeout=30,
                           json={"data": data, "fn_index": dependency["id"], "session_hash": session_hash})
        posted.raise_for_status()
        with http.get(f"{url}/gradio_api/queue/data", params={"session_hash": session_hash}, stream=True,
                      timeout=60) as stream:
            for raw in stream.iter_lines():
                line = raw.decode("utf-8", "replace")
                if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                    return
        raise RuntimeError("the page event did not complete")

    return event


def floor_call(url: str) -> Callable[[int], None]:
    http = requests.Session()
    return lambda i: call(http, url, [f"a lighthouse number {i}", "1024x1024"])


def per_session_kb(pid: int, make: Callable[[int], None], first: int, count: int) -> float:
    before = rss_kib(pid)
    for i in range(first, first + count):
        make(i)
    return (rss_kib(pid) - before) * 1.024 / count


def rows(quick: bool = False) -> list[Row]:
    block, blocks = (150, 2) if quick else (300, 4)
    with tempfile.TemporaryDirectory(prefix="page-sessions-") as tmp, FakeOpenAI() as fake:
        fake.default_image = render_image(64, 64, "png")
        work = Path(tmp)
        (work / "app").mkdir()
        (work / "floor").mkdir()
        ours_proc, ours_url = start(ROOT / "app.py", {"DALLE3_OFFLINE": "1", "DALLE3_OUTPUT_DIR": str(work / "out"),
                                                      "DALLE3_TRUSTED_PROXIES": "127.0.0.1"}, work / "app")
        floor_proc, floor_url = start(ROOT / "bench" / "floor_app.py", {
            "OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-bench",
            "FLOOR_OUTPUT_DIR": str(work / "floor-out")}, work / "floor")
        try:
            ours_event, floor_event = quality_change(ours_url), floor_call(floor_url)
            per_session_kb(ours_proc.pid, ours_event, 0, block)  # warm-up: lazily loaded code, caches
            per_session_kb(floor_proc.pid, floor_event, 0, block)
            ours, floor = [], []
            for n in range(1, blocks + 1):
                ours.append(per_session_kb(ours_proc.pid, ours_event, n * block, block))
                floor.append(per_session_kb(floor_proc.pid, floor_event, n * block, block))
                print(f"page sessions block {n}: ours {ours[-1]:.1f} KB, floor {floor[-1]:.1f} KB", file=sys.stderr)
        finally:
            for proc in (ours_proc, floor_proc):
                proc.terminate()
                proc.wait(timeout=15)
    # Memory per session may not exceed twice what a one-endpoint Gradio app keeps.
    return [Row("KB kept per page session (quality change, new session each)", "KB", Side(tuple(ours)),
                Side(tuple(max(f, 0.1) for f in floor)), "bare Gradio app, a session per call", 2.0)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    for row in rows(args.quick):
        print(f"| {row.name} | ours {row.ours.min:.1f} / {row.ours.median:.1f} / {row.ours.max:.1f} KB | "
              f"floor {row.floor.min:.1f} / {row.floor.median:.1f} / {row.floor.max:.1f} KB | "
              f"ratio {row.ratio:.2f} ± {row.noise:.2f} | ≤ {row.target} | {row.verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
