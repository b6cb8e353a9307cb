"""No API key — the server's or a visitor's — in anything the app writes or serves.

The app runs as a real subprocess (``python app.py``) so its stdout/stderr are
the logs an operator would see; every fault is driven through it with both
kinds of key, then every byte it produced is searched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.app_process import app_process as running_app_process
from tests.apphelpers import KEY_HEADER, run_concurrently
from tests.fake_openai import FakeOpenAI, Outcome

ROOT = Path(__file__).resolve().parents[1]
SERVER_KEY = "sk-srv-ZZSERVERSECRETZZ-q7Xk"
OWN_KEY = "sk-own-ZZVISITORSECRETZZ-w9Pj"
# The key itself, its distinctive middle, and the tail the real API echoes in masked form.
NEEDLES = [SERVER_KEY, OWN_KEY, "SERVERSECRET", "VISITORSECRET", "q7Xk", "w9Pj"]


def assert_clean(text: str | bytes, where: str) -> None:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
    for needle in NEEDLES:
        assert needle.encode() not in data, f"{needle!r} leaked into {where}"


@pytest.fixture(scope="module")
def app_process(tmp_path_factory):
    work = tmp_path_factory.mktemp("hygiene")
    with FakeOpenAI() as fake:
        env = {"OPENAI_API_KEY": SERVER_KEY, "OPENAI_BASE_URL": fake.base_url, "DALLE3_TIMEOUT_S": "1.5",
               "DALLE3_MAX_RETRIES": "1"}
        with running_app_process(work, env) as app:
            yield fake, app.url, work
        # The process has ended, so every line it logged is in the file (no sleep-and-hope).
        assert_clean((work / "app.log").read_bytes(), "the app's stdout/stderr, up to its exit")


FAULTS = [Outcome.success(), Outcome.insufficient_quota(), Outcome.content_policy(), Outcome.invalid_key(),
          Outcome.html(502), Outcome.not_json(), Outcome.empty_data(), Outcome.bad_base64(),
          Outcome.hang(10), Outcome.huge(50 * 1024 * 1024), Outcome.reset_connection(),
          Outcome.model_not_found()]


def test_no_key_anywhere_after_every_fault_with_both_kinds_of_key(app_process):
    fake, url, work = app_process
    clients = {key: Client(url, verbose=False, headers={KEY_HEADER: key} if key else None) for key in ("", OWN_KEY)}
    seen_texts: list[str] = []
    bearers: set[str] = set()
    try:
        for key, client in clients.items():
            for i, outcome in enumerate(FAULTS):
                # Two attempts' worth of the fault, so retried faults still fail.
                fake.script(outcome, outcome)
                try:
                    path, status, _ = client.predict(prompt=f"hygiene {key[:6]} {i}", seed=i,
                                                     api_name="/generate")
                    seen_texts.append(status)
                    assert_clean(Path(path).read_bytes(), "a served PNG")
                except AppError as exc:
                    seen_texts.append(str(exc))
                bearers |= {r.headers["authorization"] for r in fake.requests}
                fake.reset()
    finally:
        for client in clients.values():
            client.close()
    assert bearers == {f"Bearer {SERVER_KEY}", f"Bearer {OWN_KEY}"}  # both kinds really were used
    for text in seen_texts:
        assert_clean(text, "a gradio_client result or error")
    assert_clean(requests.get(url + "config", timeout=10).content, "/config")
    assert_clean(requests.get(url + "gradio_api/info", timeout=10).content, "the API info")
    for path in work.rglob("*"):
        if path.is_file() and path.name != "app.log":
            assert_clean(path.read_bytes(), str(path.relative_to(work)))
    assert_clean((work / "app.log").read_bytes(), "the app's stdout/stderr so far (all of it: at teardown)")
    assert list((work / "outputs").rglob("*.png")), "the success cases saved images"


def test_two_own_keys_at_once_each_reach_the_api_with_their_own_key(app_process):
    fake, url, _ = app_process
    fake.reset()
    fake.rendezvous = 2  # neither answer comes before both requests are at the fake
    keys = {"alice": "sk-own-alice-AAAA1111", "bob": "sk-own-bob-BBBB2222"}
    clients = {name: Client(url, verbose=False, headers={KEY_HEADER: key}) for name, key in keys.items()}

    try:
        run_concurrently(*(lambda n=name: clients[n].predict(prompt=f"image for {n}", api_name="/generate")
                           for name in keys))
    finally:
        fake.rendezvous = None
        for c in clients.values():
            c.close()
    assert fake.max_in_flight == 2  # both keys were in flight at once
    seen = {r.json["prompt"]: r.headers["authorization"] for r in fake.requests}
    assert seen == {f"image for {name}": f"Bearer {key}" for name, key in keys.items()}
