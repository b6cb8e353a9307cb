"""The processes a bench row drives: ``python app.py``, the floor app and the hello world, on free ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests

from bench.common import KEY, ROOT
from tests.fake_openai import FakeOpenAI

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http_200(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before serving {url}")
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
