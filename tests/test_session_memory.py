"""Anonymous API calls keep no Gradio session; the sessions kept are bounded.

The memory figures themselves come from ``python -m bench.session_memory`` (no timing or RSS
assertion here); these tests pin the mechanism that keeps them low.
"""

from __future__ import annotations

import uuid

import gradio as gr
import pytest
import requests

from dalle3.views import api_docs
from dalle3.views.session import SessionState
from tests.apphelpers import app_settings, running_app
from ui.page import launch_options
from ui.sessions import SESSION_CAPACITY


@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    with running_app(app_settings(fake.base_url, tmp_path_factory.mktemp("outputs")), sleep=lambda s: None) as handle:
        yield handle


def call_generate(url: str, prompt: str, session_hash: str) -> list:
    """One plain-HTTP /generate call under ``session_hash``; its output data."""
    data = [{"prompt": prompt, "seed": 1}.get(name, "") for name in api_docs.api_arguments()]
    posted = requests.post(f"{url}gradio_api/call/generate", json={"data": data, "session_hash": session_hash},
                           timeout=30)
    posted.raise_for_status()
    answer = requests.get(f"{url}gradio_api/call/generate/{posted.json()['event_id']}", timeout=60).text
    assert "event: complete" in answer, answer
    return answer


def test_the_sessions_gradio_keeps_are_bounded(served):
    assert 0 < launch_options(served.studio)["state_session_capacity"] == SESSION_CAPACITY <= 5000
    assert served.demo.state_holder.capacity == SESSION_CAPACITY


def test_api_calls_from_new_sessions_leave_no_stored_session(served):
    stored = served.demo.state_holder.session_data
    before = set(stored)
    hashes = [uuid.uuid4().hex for _ in range(12)]
    for number, session_hash in enumerate(hashes):
        call_generate(served.url, f"a lighthouse number {number}", session_hash)
    with served.connected() as client:  # gradio_client's own session, several calls
        client.predict(prompt="a harbour", seed=2, api_name="/generate")
        client.predict(prompt="a harbour at night", seed=2, api_name="/generate")
    assert set(stored) == before


def test_a_failed_api_call_leaves_no_stored_session_either(served):
    session_hash = uuid.uuid4().hex
    data = [""] * len(api_docs.api_arguments())  # no prompt: a plain validation message
    posted = requests.post(f"{served.url}gradio_api/call/generate", json={"data": data, "session_hash": session_hash},
                           timeout=30)
    answer = requests.get(f"{served.url}gradio_api/call/generate/{posted.json()['event_id']}", timeout=60).text
    assert "event: error" in answer and "Write a prompt first" in answer
    assert session_hash not in served.demo.state_holder.session_data


def test_a_page_session_keeps_its_history_through_an_api_call(served):
    holder = served.demo.state_holder
    state_id = next(key for key, block in served.demo.blocks.items()
                    if isinstance(block, gr.State) and isinstance(block.value, SessionState))
    session_hash = uuid.uuid4().hex
    history = SessionState(images=3, spent_usd=0.12)
    holder[session_hash][state_id] = history  # as the page's own events store it
    call_generate(served.url, "a kettle from the same tab", session_hash)
    assert session_hash in holder.session_data
    assert holder[session_hash][state_id] is history
    del holder.session_data[session_hash]
