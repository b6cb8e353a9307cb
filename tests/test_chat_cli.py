"""``python -m dalle3 chat`` as a real subprocess against the loopback fake."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from dalle3.files.metadata import read_parameters
from tests.fake_openai import responses as fake_responses
from tests.fake_openai import Outcome
from tests.test_cli import KEY, REPO, run_cli


def _conversation_id(stdout: str) -> str:
    return re.search(r"--continue ([A-Za-z0-9_-]{16})", stdout).group(1)


def test_one_turn_per_call_continues_with_the_id_it_printed(tmp_path, fake_api):
    first = run_cli(tmp_path, "chat", "a fox in snow", "--image-model", "gpt-image-2", "--quality", "low",
                    fake=fake_api)
    assert first.returncode == 0, first.stderr
    assert "[turn 1] Here is your image: a fox in snow" in first.stdout
    assert "preview 1 of 1" in first.stderr and KEY not in first.stdout + first.stderr
    ident = _conversation_id(first.stdout)
    second = run_cli(tmp_path, "chat", "--continue", ident, "now at night", fake=fake_api)
    assert second.returncode == 0, second.stderr
    assert "[turn 2 from turn 1]" in second.stdout
    requests = [r.json for r in fake_responses.state(fake_api).requests]
    assert requests[1]["previous_response_id"] and requests[1]["tools"][0]["quality"] == "low"
    image = next(line.removeprefix("image: ") for line in second.stdout.splitlines() if line.startswith("image: "))
    assert read_parameters(image)["turn"] == 2
    branch = run_cli(tmp_path, "chat", "--continue", ident, "--from-turn", "1", "why a fox?", fake=fake_api)
    assert "[turn 3 from turn 1] You asked: why a fox?" in branch.stdout
    listed = run_cli(tmp_path, "chat", "--list", fake=fake_api)
    assert ident in listed.stdout and "3 turns" in listed.stdout


def test_interactive_turns_from_stdin_with_a_branch_and_a_failure_said_plainly(tmp_path, fake_api):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DALLE3_"))}
    env.update(PYTHONPATH=str(REPO), DALLE3_OUTPUT_DIR=str(tmp_path / "out"), DALLE3_TIMEOUT_S="5",
               DALLE3_MAX_RETRIES="0", OPENAI_API_KEY=KEY, OPENAI_BASE_URL=fake_api.base_url,
               PYTHONIOENCODING="utf-8")
    fake_api.script(Outcome.success(), Outcome.content_policy())
    lines = "a fox\nsomething odd\n/from 1\na hare instead\n/turns\n/quit\n"
    done = subprocess.run([sys.executable, "-m", "dalle3", "chat", "--image-model", "gpt-image-2",
                           "--previews", "0"], input=lines, cwd=tmp_path, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "dalle3: OpenAI's safety system rejected this prompt" in done.stdout
    assert "[turn 3 from turn 1] Here is your image: a hare instead" in done.stdout
    assert "failed: OpenAI's safety system" in done.stdout  # /turns shows the failed turn where it happened


def test_an_unknown_conversation_is_a_plain_refusal(tmp_path, fake_api):
    done = run_cli(tmp_path, "chat", "--continue", "AAAAAAAAAAAAAAAA", "hello", fake=fake_api)
    assert done.returncode == 1 and "No conversation AAAAAAAAAAAAAAAA" in done.stderr
    done = run_cli(tmp_path, "chat", "--continue", "../../etc/passwd", "hello", fake=fake_api)
    assert done.returncode == 1 and "not a conversation id" in done.stderr
