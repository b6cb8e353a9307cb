"""Faults, bad input and many users through the whole app: gradio_client → app → loopback fake.

Each fault case asserts the plain message, how many requests reached the API,
and that the app answers the next request.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
import requests
from gradio_client.exceptions import AppError

from dalle3.files import storage
from dalle3.files.metadata import png_size, read_parameters
from dalle3.settings import Settings, exposure_warning
from tests.apphelpers import SERVER_KEY, app_settings, run_concurrently, running_app
from tests.fake_openai import Outcome, closed_port_url

SLEEPS: list[float] = []


@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    with running_app(app_settings(fake.base_url, out, timeout_s=1.5), sleep=SLEEPS.append) as handle:
        yield handle


@pytest.fixture
def client(client):
    """The shared client, with the recorded backoff sleeps cleared too."""
    SLEEPS.clear()
    return client


def still_serves(client, fake) -> None:
    before = fake.generation_count
    path, status, _ = client.predict(prompt=f"still alive {time.monotonic()}", api_name="/generate")
    assert Path(path).exists() and fake.generation_count == before + 1


FAULTS = [
    # id, scripted outcomes, /generate inputs, words in the message, upstream requests
    ("429 insufficient_quota", [Outcome.insufficient_quota()], {}, "out of credit", 1),
    ("content policy 400", [Outcome.content_policy()], {}, "safety system rejected", 1),
    ("401 bad key", [Outcome.invalid_key()], {}, "did not accept the API key", 1),
    ("503 three times", [Outcome.unavailable()] * 3, {}, "servers answered with an error (HTTP 503, tried 3 times)", 3),
    ("502 HTML body", [Outcome.html(502)] * 3, {}, "HTTP 502", 3),
    ("read timeout", [Outcome.hang(20)] * 3, {}, "within 1.5 s", 3),
    ("empty data", [Outcome.empty_data()], {}, "sent no image", 1),
    ("bad base64", [Outcome.bad_base64()], {}, "bad base64", 1),
    ("200 non-JSON", [Outcome.not_json()], {}, "not the JSON", 1),
    ("50 MB response", [Outcome.huge(50 * 1024 * 1024)], {}, "larger than 6 MB", 1),  # the bound for a 1024x1024 PNG
    ("blank prompt", [], {"prompt": "  \n "}, "Write a prompt first", 0),
    ("4001-character prompt", [], {"prompt": "p" * 4001}, "4,001 characters", 0),
    ("size outside the set", [], {"size": "512x512"}, "Choose one of: 1024x1024, 1024x1792, 1792x1024", 0),
    ("quality outside the set", [], {"quality": "ultra"}, "Choose one of: standard, hd", 0),
    ("style outside the set", [], {"style": "anime"}, "Choose one of: natural, vivid", 0),
    ("seed -1", [], {"seed": -1}, "0 to 2147483647", 0),
    ("seed 2**31", [], {"seed": 2**31}, "0 to 2147483647", 0),
]


@pytest.mark.parametrize("outcomes,inputs,words,upstream", [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_fault_ends_as_a_plain_message_and_the_app_keeps_serving(client, fake, outcomes, inputs, words, upstream):
    if outcomes:  # bad inputs script nothing: they must never reach the API
        fake.script(*outcomes)
    with pytest.raises(AppError) as info:
        client.predict(**{"prompt": f"fault {words}", **inputs}, api_name="/generate")
    message = str(info.value)
    assert words in message and "Traceback" not in message and SERVER_KEY not in message
    assert fake.generation_count == upstream
    assert fake.pending == 0  # every scripted outcome was consumed: nothing leaks into the next request
    still_serves(client, fake)


def test_429_with_retry_after_is_honoured_then_succeeds(client, fake):
    fake.script(Outcome.rate_limited(retry_after="2"), Outcome.success())
    path, status, _ = client.predict(prompt="rate limited once", api_name="/generate")
    assert Path(path).exists() and fake.generation_count == 2 and SLEEPS == [2.0]
    assert "2 attempts" in status


def test_500_then_success_is_retried_once(client, fake):
    fake.script(Outcome.server_error(500), Outcome.success())
    path, _, _ = client.predict(prompt="500 once", api_name="/generate")
    assert Path(path).exists() and fake.generation_count == 2


def test_connection_refused_names_the_base_url(tmp_path):
    base = closed_port_url()
    with running_app(app_settings(base, tmp_path, max_retries=1), sleep=lambda s: None) as handle:
        with handle.connected() as c:
            with pytest.raises(AppError, match="Could not connect to " + base.replace(".", r"\.")):
                c.predict(prompt="refused", api_name="/generate")
            with pytest.raises(AppError, match="Could not connect"):  # and it still answers
                c.predict(prompt="refused again", api_name="/generate")


def test_twenty_simultaneous_generations_lose_nothing(served, fake):
    fake.reset()
    fake.rendezvous = 4  # the first answers wait until the limit's worth (4) are in flight together
    results: dict[int, tuple[str, str]] = {}

    def one(client, i: int) -> None:
        results[i] = client.predict(prompt=f"crowd {i} 🦊", seed=i, api_name="/generate")

    try:
        with served.visitors(4) as clients:
            run_concurrently(*(lambda i=i: one(clients[i % 4], i) for i in range(20)))
    finally:
        fake.rendezvous = None
    assert len(results) == 20 and fake.generation_count == 20
    assert fake.max_in_flight == served.studio.settings.concurrency == 4  # simultaneous, up to the limit
    saved = sorted(served.studio.output_dir.rglob("crowd-*.png"))
    assert len(saved) == 20
    prompts = {read_parameters(p)["prompt"] for p in saved}
    assert prompts == {f"crowd {i} 🦊" for i in range(20)}
    assert all(png_size(p.read_bytes()) == (1024, 1024) for p in saved)


def test_crash_before_rename_leaves_no_half_written_png(tmp_path, monkeypatch):
    def crash(src, dst):
        raise KeyboardInterrupt("power cut between write and rename")

    monkeypatch.setattr(os, "link", crash)
    with pytest.raises(KeyboardInterrupt):
        storage.save_image(b"\x89PNG partial", tmp_path, "a fox", 1)
    assert list(tmp_path.rglob("*")) == [next(tmp_path.iterdir())]  # only the day folder
    assert not list(tmp_path.rglob("*.png")) and not list(tmp_path.rglob("*.tmp"))


HOSTILE = [
    "emoji 🦊🌊🎨 and a ZWJ family 👨‍👩‍👧",
    "RTL: مرحبا بالعالم שלום עולם",
    "NUL\x00 and control \x07\x1b[31m characters",
    "<script>alert('x')</script> <img src=x onerror=alert(1)>",
    "![x](http://evil.example/track.png) [click](javascript:alert(1)) **bold** # heading",
]


@pytest.mark.parametrize("prompt", HOSTILE, ids=["emoji", "rtl", "control", "html", "markdown"])
def test_hostile_prompts_are_sent_faithfully_and_shown_inert(client, fake, prompt):
    path, status, _ = client.predict(prompt=prompt, api_name="/generate")
    assert fake.requests[0].json["prompt"] == prompt
    assert "<script" not in status and "<img" not in status and "\x00" not in status
    assert not re.search(r"(?<!\\)\]\((http|javascript)", status), "a live Markdown link or image"
    assert "**bold**" not in status
    name = Path(path).name
    assert ".." not in name and "/" not in name and len(name) < 90
    assert read_parameters(Path(path).read_bytes())["prompt"] == prompt


# --- spend cap -------------------------------------------------------------------------------

def test_spend_cap_refuses_the_server_key_but_not_own_keys_and_survives_restart(fake, tmp_path):
    fake.reset()
    settings = app_settings(fake.base_url, tmp_path, max_spend_usd=0.10)
    with running_app(settings) as handle, handle.connected() as c:
        c.predict(prompt="capped 1", api_name="/generate")
        c.predict(prompt="capped 2", api_name="/generate")
        with pytest.raises(AppError, match=r"spending cap \(\$0\.100\) is reached: \$0\.080 spent"):
            c.predict(prompt="capped 3", api_name="/generate")
        assert fake.generation_count == 2
        with handle.connected("sk-own-visitor-1") as own:
            path, _, _ = own.predict(prompt="capped 3", api_name="/generate")
        assert Path(path).exists() and fake.generation_count == 3
    ledger = json.loads((tmp_path / ".spend-ledger.json").read_text())
    assert ledger == {"spent_usd": 0.08, "images": 2}
    with running_app(settings) as handle, handle.connected() as c:  # a restart keeps the total
        with pytest.raises(AppError, match="spending cap"):
            c.predict(prompt="after restart", api_name="/generate")


def test_spend_cap_holds_under_concurrent_requests(fake, tmp_path):
    fake.reset()
    fake.rendezvous = 5  # the five the cap allows are all in flight together before any answer
    with running_app(app_settings(fake.base_url, tmp_path, max_spend_usd=0.20, concurrency=8)) as handle:
        outcomes: list[str] = []

        def one(client, i: int) -> None:
            try:
                client.predict(prompt=f"race {i}", api_name="/generate")
                outcomes.append("ok")
            except AppError as exc:
                outcomes.append("capped" if "spending cap" in str(exc) else str(exc))

        try:
            with handle.visitors(4) as clients:
                run_concurrently(*(lambda i=i: one(clients[i % 4], i) for i in range(10)))
        finally:
            fake.rendezvous = None
    assert fake.max_in_flight == 5  # the capped calls were refused while five were still running
    assert outcomes.count("ok") == 5 and outcomes.count("capped") == 5
    assert fake.generation_count == 5 and handle.studio.ledger.spent == pytest.approx(0.20)


# --- exposure --------------------------------------------------------------------------------

def test_exposure_warning_only_when_served_beyond_loopback_with_an_unprotected_key():
    open_key = Settings(api_key="sk-x")
    assert exposure_warning(open_key, "127.0.0.1") is None
    warning = exposure_warning(open_key, "0.0.0.0")
    assert warning and "DALLE3_AUTH" in warning and "sk-x" not in warning
    assert exposure_warning(Settings(api_key="sk-x", auth=("u", "p")), "0.0.0.0") is None
    assert exposure_warning(Settings(api_key="sk-x", max_spend_usd=5.0), "0.0.0.0") is None
    assert exposure_warning(Settings(), "0.0.0.0") is None


def test_page_config_exposes_no_key_keeps_no_run_history_and_cleans_its_cache(served):
    config = requests.get(f"{served.url}config", timeout=10).text
    assert SERVER_KEY not in config
    data = json.loads(config)
    assert data["run_history"] is False
    api_key_boxes = [c for c in data["components"] if c.get("props", {}).get("elem_id") == "api_key"]
    assert api_key_boxes and not api_key_boxes[0]["props"].get("value")
    assert api_key_boxes[0]["props"]["type"] == "password"
    assert api_key_boxes[0]["props"]["html_attributes"]["autocomplete"] == "off"
    assert served.demo.delete_cache == (3600, 24 * 3600)
    public = [d.get("api_name") for d in data["dependencies"] if d.get("api_visibility", "public") == "public"]
    assert public == ["generate", "edit", "batch", "batch_status", "batch_cancel", "chat"]


def test_an_unexpected_bug_reaches_the_caller_as_a_sentence_and_the_app_keeps_serving(client, fake, served,
                                                                                      monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug deep inside")

    with monkeypatch.context() as patch:
        patch.setattr(served.studio, "generate", broken)
        with pytest.raises(AppError) as info:
            client.predict(prompt="trigger the bug", api_name="/generate")
    assert "Something unexpected went wrong" in str(info.value) and "RuntimeError" not in str(info.value)
    still_serves(client, fake)
