"""A public Space as an anonymous outsider sees it: HTTP only, against a real ``python app.py``.

Each test replays one attack an anonymous visitor could make and shows it refused. Attacks on the package
(cache, ledger, hostile values) are replayed in their own modules; these are the ones only
the running server can answer.
"""

from __future__ import annotations

import json
import time
from contextlib import closing

import pytest
import requests
from gradio_client import Client

from dalle3.views import api_docs
from tests.app_process import app_process
from tests.fake_openai import FakeOpenAI

SERVER_KEY = "sk-srv-OUTSIDER-SERVER-KEY-5x5x"
OWN_KEY = "sk-own-OUTSIDER-VISITOR-KEY-6y6y"
AUTH = ("owner", "correct horse battery")


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    """An app with a server key, open to anyone (no login), as a public Space runs it."""
    with FakeOpenAI() as fake:
        env = {"OPENAI_API_KEY": SERVER_KEY, "OPENAI_BASE_URL": fake.base_url, "DALLE3_MAX_SPEND_USD": "5"}
        with app_process(tmp_path_factory.mktemp("public"), env) as app:
            yield app, fake
    # The process has exited: every line it ever logged is in the file (no sleep-and-hope).
    assert SERVER_KEY not in app.log_text() and OWN_KEY not in app.log_text()


def test_outputs_and_ledger_are_not_served_to_anyone(public):
    app, fake = public
    with closing(Client(app.url, verbose=False)) as visitor:
        _, _, facts = visitor.predict(prompt="a private prompt of someone else", api_name="/generate")
    saved = app.work / "outputs" / facts["file"]
    ledger = app.work / "outputs" / ".spend-ledger.json"
    index = app.work / "outputs" / ".library.sqlite3"  # on loopback the library is on by default
    assert saved.is_file() and ledger.is_file() and index.is_file()
    for target in (f"outputs/{facts['file']}", str(saved), "outputs/.spend-ledger.json", str(ledger),
                   "outputs/.library.sqlite3", str(index)):
        answer = requests.get(f"{app.url}gradio_api/file={target}", timeout=10)
        assert answer.status_code in (403, 404), (target, answer.status_code)
        assert b"private prompt" not in answer.content and b"spent_usd" not in answer.content


def test_the_result_names_a_file_not_a_server_path(public):
    app, _ = public
    with closing(Client(app.url, verbose=False)) as visitor:
        _, status, facts = visitor.predict(prompt="where is it saved", api_name="/generate")
    assert str(app.work) not in status and str(app.work) not in json.dumps(facts)
    assert facts["file"].endswith(".png") and facts["file"].count("/") == 1


def test_own_key_in_a_malformed_call_never_reaches_the_log(public):
    app, fake = public
    fake.reset()
    headers = {"X-OpenAI-Api-Key": OWN_KEY, "Content-Type": "application/json"}
    # One input too few: Gradio prints the inputs of such a call; the key is not among them.
    answer = requests.post(f"{app.url}gradio_api/call/generate", headers=headers,
                           json={"data": ["too few inputs"]}, timeout=10)
    if answer.ok:
        requests.get(f"{app.url}gradio_api/call/generate/{answer.json()['event_id']}", timeout=30)
    with closing(Client(app.url, verbose=False, headers={"X-OpenAI-Api-Key": OWN_KEY})) as visitor:
        visitor.predict(prompt="own key through the header", api_name="/generate")
    assert [r.headers["authorization"] for r in fake.requests] == [f"Bearer {OWN_KEY}"]
    # What is logged so far; the fixture checks the whole log again once the process has exited.
    assert OWN_KEY not in app.log_text() and SERVER_KEY not in app.log_text()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """The same app behind DALLE3_AUTH, with the MCP server on."""
    env = {"DALLE3_OFFLINE": "1", "DALLE3_AUTH": ":".join(AUTH)}
    with app_process(tmp_path_factory.mktemp("guarded"), env, ("--mcp",), ready=("", AUTH)) as app:
        yield app


def _login(url: str, password: str) -> tuple[int, float]:
    started = time.monotonic()
    answer = requests.post(f"{url}login", data={"username": AUTH[0], "password": password}, timeout=60)
    return answer.status_code, time.monotonic() - started


def test_repeated_wrong_passwords_are_slowed_and_the_right_one_still_works(guarded):
    quick = [_login(guarded.url, f"guess {i}") for i in range(3)]
    slowed = [_login(guarded.url, f"guess {i}") for i in range(3, 6)]
    assert all(code == 400 for code, _ in quick + slowed)
    assert slowed[-1][1] >= 1.5 > quick[0][1], (quick, slowed)  # the sixth guess waits, the first did not
    assert _login(guarded.url, AUTH[1])[0] == 200


def test_mcp_routes_need_the_login(guarded):
    schema = f"{guarded.url}gradio_api/mcp/schema"
    refused = requests.get(schema, timeout=10)
    assert refused.status_code == 401 and "DALLE3_AUTH" in refused.json()["error"]
    allowed = requests.get(schema, timeout=30, auth=AUTH)
    assert allowed.status_code == 200
    assert [t["name"] for t in allowed.json()] == ["generate", "edit", "batch", "batch_status", "batch_cancel", "chat"]


def test_upload_limit_refuses_a_large_file(guarded):
    session = requests.Session()
    assert session.post(f"{guarded.url}login", data={"username": AUTH[0], "password": AUTH[1]},
                        timeout=30).status_code == 200
    big = b"\0" * (21 * 1024 * 1024)
    answer = session.post(f"{guarded.url}gradio_api/upload", files={"files": ("big.png", big, "image/png")},
                          timeout=60)
    assert answer.status_code == 413


def _call(url: str, data: list, raw: str | None = None) -> tuple[int, str]:
    """A plain HTTP /call/generate: the POST's status and, when accepted, the result stream's text."""
    body = raw if raw is not None else json.dumps({"data": data})
    answer = requests.post(f"{url}gradio_api/call/generate", data=body,
                           headers={"Content-Type": "application/json"}, timeout=10)
    if not answer.ok:
        return answer.status_code, answer.json()["error"]
    return answer.status_code, requests.get(f"{url}gradio_api/call/generate/{answer.json()['event_id']}",
                                            timeout=30).text


ARGUMENTS = list(api_docs.api_arguments())


def inputs(**given: object) -> list:
    """All of /generate's inputs in order, "" (the model's default) where not given."""
    return [given.get(name, "") for name in ARGUMENTS]


@pytest.mark.parametrize("delta", [-8, -1, 1, 2])
def test_a_call_with_the_wrong_number_of_inputs_gets_a_sentence(public, delta):
    app, _ = public
    count = len(ARGUMENTS) + delta
    code, text = _call(app.url, ["a fox"] + [""] * (count - 1))
    assert code == 422 and f"takes exactly {len(ARGUMENTS)} inputs in this order: prompt, seed" in text, text
    assert "Traceback" not in app.log_text()


@pytest.mark.parametrize("seed", [True, 5.5, "1e3", "NaN"])
def test_hostile_seeds_end_as_plain_messages(public, seed):
    app, fake = public
    fake.reset()
    row = inputs(prompt="a fox", seed=seed)
    raw = json.dumps({"data": row}).replace('"NaN"', "NaN")  # a bare NaN, as JavaScript-ish clients send
    code, text = _call(app.url, row, raw)
    assert code == 200 and "event: error" in text and '"error": null' not in text and "Seed" in text, text
    assert fake.generation_count == 0 and "Traceback" not in app.log_text()


def test_non_ascii_digits_in_a_size_are_refused_not_sent(public):
    app, fake = public
    fake.reset()
    for size in ("１０２４x1024", "1024x10２4", "١٠٢٤x1024", "1024x1024²"):
        code, text = _call(app.url, inputs(prompt="a fox", seed=0, size=size, model="gpt-image-2"))
        assert code == 200 and "event: error" in text and "Size" in text, (size, text)
    assert fake.generation_count == 0
