"""``python app.py`` as a real subprocess on a loopback port, as an operator starts it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import requests

from tests.apphelpers import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class AppProcess:
    url: str
    work: Path
    log: Path
    proc: subprocess.Popen

    def log_text(self) -> str:
        return self.log.read_bytes().decode("utf-8", "replace")


@contextmanager
def app_process(work: Path, env: dict[str, str], args: tuple[str, ...] = (),
                ready: tuple[str, tuple[str, str] | None] = ("", None)) -> Iterator[AppProcess]:
    """Start ``python app.py *args`` in ``work`` with ``env`` added; wait until ``url+ready[0]`` answers 200."""
    port = free_port()
    full = {**os.environ, "DALLE3_OUTPUT_DIR": str(work / "outputs"), "GRADIO_SERVER_PORT": str(port),
            "GRADIO_TEMP_DIR": str(work / "gradio"), "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **env}
    log_path = work / "app.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), *args], cwd=work, env=full,
                                stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(url + ready[0], timeout=2, auth=ready[1]).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"python app.py did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    try:
        yield AppProcess(url, work, log_path, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
