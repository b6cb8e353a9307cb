"""``python -m bench.session_memory [--calls 1000]``: memory kept per anonymous API call.

Starts the real ``python app.py`` (offline simulator, temp output folder) and the bare Gradio
floor (``bench/floor_app.py`` against the loopback fake API, 64x64 image), then makes N
``/gradio_api/call/generate`` calls, each with a NEW ``session_hash`` (a fresh anonymous
visitor), reading the server's VmRSS after the first 100 calls and after all N. Per-call KB is
(RSS after N − RSS after 100) ÷ (N − 100): what each further visitor keeps once warm-up is over.
Raw HTTP rather than gradio_client: a client per call would also fetch the config each time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from dalle3.views import api_docs
from tests.apphelpers import free_port
from tests.fake_openai import FakeOpenAI, render_image

ROOT = Path(__file__).resolve().parents[1]
WARM = 100


def rss_kib(pid: int) -> int:
    """VmRSS from /proc (psutil is not a requirement)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start(script: Path, env: dict[str, str], work: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    full = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_TEMP_DIR": str(work / "gradio"),
            "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(ROOT), **env}
    proc = subprocess.Popen([sys.executable, str(script)], cwd=work, env=full,
                            stdout=subprocess.DEVNULL, stderr=(work / "server.log").open("wb"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(url + "/", timeout=2).status_code == 200:
                return proc, url
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError((work / "server.log").read_text(errors="replace")[-2000:])
        time.sleep(0.2)


def call(http: requests.Session, url: str, data: list) -> None:
    """One /generate call from a new anonymous session; raises unless it completes."""
    posted = http.post(f"{url}/gradio_api/call/generate", json={"data": data, "session_hash": uuid.uuid4().hex},
                       timeout=30)
    posted.raise_for_status()
    event = posted.json()["event_id"]
    with http.get(f"{url}/gradio_api/call/generate/{event}", stream=True, timeout=60) as answer:
        kind = ""
        for raw in answer.iter_lines():
            line = raw.decode("utf-8", "replace")
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif kind == "complete" and line.startswith("data:"):
                return
            elif kind == "error":
                raise RuntimeError(f"call failed: {line}")
    raise RuntimeError("stream ended without a result")


def measure(name: str, proc: subprocess.Popen, url: str, inputs, calls: int) -> dict[str, float]:
    http = requests.Session()
    call(http, url, inputs(-1))  # first call loads lazily imported code; not a session cost
    base = rss_kib(proc.pid)
    started = time.monotonic()
    for i in range(WARM):
        call(http, url, inputs(i))
    warm = rss_kib(proc.pid)
    for i in range(WARM, calls):
        call(http, url, inputs(i))
    end = rss_kib(proc.pid)
    row = {"base_mib": base / 1024, "after_100_mib": warm / 1024, f"after_{calls}_mib": end / 1024,
           "kb_per_call": (end - warm) * 1.024 / (calls - WARM), "seconds": time.monotonic() - started}
    print(f"{name}: " + json.dumps({k: round(v, 1) for k, v in row.items()}), file=sys.stderr)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args(argv)
    names = list(api_docs.api_arguments())
    results = {}
    with tempfile.TemporaryDirectory(prefix="session-memory-") as tmp, FakeOpenAI() as fake:
        fake.default_image = render_image(64, 64, "png")
        work = Path(tmp)
        for name, script, env, inputs in (
            ("app", ROOT / "app.py", {"DALLE3_OFFLINE": "1", "DALLE3_OUTPUT_DIR": str(work / "app-out")},
             lambda i: [{"prompt": f"a lighthouse number {i}", "seed": 0, "size": "1024x1024"}.get(n, "") for n in names]),
            ("floor", ROOT / "bench" / "floor_app.py",
             {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-bench", "FLOOR_OUTPUT_DIR": str(work / "floor-out")},
             lambda i: [f"a lighthouse number {i}", "1024x1024"]),
        ):
            (work / name).mkdir()
            proc, url = start(script, env, work / name)
            try:
                results[name] = measure(name, proc, url, inputs, args.calls)
            finally:
                proc.terminate()
                proc.wait(timeout=15)
    app, floor = results["app"], results["floor"]
    print(f"| per anonymous call (KB, calls {WARM + 1}–{args.calls}) | app {app['kb_per_call']:.1f} | "
          f"floor {floor['kb_per_call']:.1f} | ratio {app['kb_per_call'] / max(floor['kb_per_call'], 0.1):.2f} |")
    print(f"| RSS after {args.calls} calls (MiB) | app {app[f'after_{args.calls}_mib']:.0f} | "
          f"floor {floor[f'after_{args.calls}_mib']:.0f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
