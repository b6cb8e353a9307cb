"""``python app.py`` as a user starts it: bad settings stop it with a clear line; exposure is warned about."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.apphelpers import free_port

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
