"""``python app.py`` as a user starts it: bad settings stop it with a clear line; exposure is warned about."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from gradio_client import Client

from tests.apphelpers import SERVER_KEY, app_settings, free_port, run_concurrently, running_app
from tests.app_process import app_process
from tests.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DALLE3_", "GRADIO_SERVER"))}
    return {**env, "GRADIO_ANALYTICS_ENABLED": "False", "DALLE3_OUTPUT_DIR": str(tmp_path / "out"),
            "PYTHONUNBUFFERED": "1", **extra}


def test_bad_setting_stops_start_up_naming_the_variable(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=tmp_path, capture_output=True, text=True,
                          env=app_env(tmp_path, DALLE3_TIMEOUT_S="abc"), timeout=60)
    assert done.returncode != 0
    assert "DALLE3_TIMEOUT_S='abc' is not a number" in done.stderr and "Traceback" not in done.stderr


def test_serving_the_network_with_an_unprotected_key_prints_a_warning(tmp_path):
    env = app_env(tmp_path, OPENAI_API_KEY="sk-start-WARNSECRET-1", OPENAI_BASE_URL="http://127.0.0.1:9/v1",
                  GRADIO_SERVER_PORT=str(free_port()))
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--listen"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Running on" in line or not line:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    output = "".join(lines)
    assert "WARNING: serving on 0.0.0.0 with a server API key" in output
    assert "WARNSECRET" not in output


def test_help_lists_the_options():
    done = subprocess.run([sys.executable, str(ROOT / "app.py"), "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    assert all(option in done.stdout for option in ("--listen", "--port", "--auth", "--mcp"))


@contextmanager
def served_by_main(tmp_path: Path, fake: FakeOpenAI, **env: str) -> Iterator[str]:
    """``python app.py`` as a user starts it, pointed at the fake; its URL."""
    with app_process(tmp_path, {"OPENAI_API_KEY": SERVER_KEY, "OPENAI_BASE_URL": fake.base_url, **env}) as app:
        yield app.url


@contextmanager
def served_by_harness(tmp_path: Path, fake: FakeOpenAI, **env: str) -> Iterator[str]:
    settings = app_settings(fake.base_url, tmp_path / "out", concurrency=int(env["DALLE3_CONCURRENCY"]))
    with running_app(settings) as handle:
        yield handle.url


@pytest.mark.parametrize("launcher", [served_by_main, served_by_harness], ids=["python app.py", "test harness"])
def test_the_page_runs_DALLE3_CONCURRENCY_generations_at_once_however_it_is_launched(tmp_path, fake_api, launcher):
    """main() and the tests' harness set the same concurrency: 3 calls overlap, a 4th waits its turn."""
    fake_api.rendezvous, fake_api.rendezvous_timeout_s = 3, 30
    with launcher(tmp_path, fake_api, DALLE3_CONCURRENCY="3") as url:
        clients = [Client(url, verbose=False) for _ in range(4)]
        try:
            run_concurrently(*(lambda c=c, i=i: c.predict(prompt=f"at once {i}", api_name="/generate")
                               for i, c in enumerate(clients)), timeout_s=120)
        finally:
            for client in clients:
                client.close()
    assert fake_api.generation_count == 4 and fake_api.max_in_flight == 3


def test_events_without_their_own_limit_follow_DALLE3_CONCURRENCY_too(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADIO_DEFAULT_CONCURRENCY_LIMIT", raising=False)  # a fresh `python app.py`
    with running_app(app_settings("http://127.0.0.1:9/v1", tmp_path, concurrency=3)) as handle:
        assert handle.demo._queue.default_concurrency_limit == 3
