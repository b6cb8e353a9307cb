"""The layers in front of the handlers, attacked over HTTP against a real ``python app.py``.

Every route that reaches a handler goes through the guard (``ui/guard/__init__.py``): a request that is
not logged in is refused before its body is read; bodies, uploads and files per request are
bounded; a wrong input count gets a sentence on every route; no file is downloaded from a URL;
logins are throttled per client, in parallel too. Each test replays an attack and shows it
refused with nothing written and nothing lost.
"""

from __future__ import annotations

import base64
import http.server
import io
import json
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from PIL import Image

from dalle3.views import api_docs
from tests.app_process import AppProcess, app_process
from ui.guard.calls import MAX_CALL_BODY, MAX_EDIT_BODY
from ui.guard.login import FREE_FAILURES, MAX_PENDING
from ui.guard.uploads import MAX_FILES_PER_REQUEST, MAX_REQUEST_BYTES

AUTH = ("owner", "correct horse battery")
GENERATE = list(api_docs.api_arguments())
EDIT = list(api_docs.edit_arguments())


def png_data_url(side: int = 64) -> str:
    """A PNG of noise (it does not compress: about 3 × side² bytes) as a data URL."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def edit_inputs(**given: object) -> list:
    return [given.get(name, "") for name in EDIT]


def generate_inputs(**given: object) -> list:
    return [given.get(name, "") for name in GENERATE]


def files_under(folder: Path) -> dict[str, int]:
    """Every file below ``folder`` with its size: what the server has written there."""
    return {str(p): p.stat().st_size for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


def fn_index(app: AppProcess, api_name: str) -> int:
    config = requests.get(f"{app.url}config", timeout=30).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


def raw_post(url: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
    """POST with exactly these headers and only ``body`` sent (maybe far less than Content-Length says)."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": host, "Connection": "close", **headers}.items())
        sock.sendall(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < 2:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


def stream_until_answered(url: str, path: str, content_type: str, first: bytes, give_up: int) -> tuple[int, int]:
    """POST a chunked body with no length that goes on until the server answers; (status, bytes sent by then)."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    chunk = b"\0" * 2**18
    sent = 0
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
                     f"Transfer-Encoding: chunked\r\n\r\n{len(first):x}\r\n".encode() + first + b"\r\n")
        while sent < give_up:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except OSError:  # the server answered and closed
                break
            sent += len(chunk)
        answer = sock.recv(65536)
    return int(answer.split(b" ", 2)[1]), sent


def logged_in_session(app: AppProcess) -> requests.Session:
    session = requests.Session()
    answer = session.post(f"{app.url}login", data={"username": AUTH[0], "password": AUTH[1]}, timeout=60)
    assert answer.status_code == 200, answer.text
    return session


@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> Iterator[AppProcess]:
    env = {"DALLE3_OFFLINE": "1", "DALLE3_AUTH": ":".join(AUTH)}
    with app_process(tmp_path_factory.mktemp("guarded"), env, ("--mcp",), ready=("", AUTH)) as app:
        yield app


@pytest.fixture(scope="module")
def public(tmp_path_factory) -> Iterator[AppProcess]:
    env = {"DALLE3_OFFLINE": "1", "DALLE3_VISITOR_UPLOAD_MB": "3"}
    with app_process(tmp_path_factory.mktemp("public"), env) as app:
        yield app


# --- Nothing is read, decoded or written for a request that is not logged in ---------------------

def test_anonymous_edit_with_data_urls_writes_nothing(guarded):
    before = files_under(guarded.work / "gradio")
    body = {"data": edit_inputs(prompt="a stranger's edit", images=[png_data_url(256)] * 4)}
    for route in ("gradio_api/call/edit", "gradio_api/run/edit", "gradio_api/queue/join"):
        answer = requests.post(f"{guarded.url}{route}", json={**body, "session_hash": "x1"}, timeout=30)
        assert answer.status_code == 401 and "needs a login" in answer.json()["error"], (route, answer.text)
    upload = requests.post(f"{guarded.url}gradio_api/upload",
                           files=[("files", (f"{i}.png", b"\x89PNG" + b"\0" * 50_000, "image/png")) for i in range(3)],
                           timeout=30)
    assert upload.status_code == 401
    assert files_under(guarded.work / "gradio") == before


def test_anonymous_body_is_refused_before_it_is_read(guarded):
    # Headers promise 200 MB; not one byte of it is sent, and the answer comes anyway.
    for path in ("/gradio_api/upload", "/gradio_api/call/edit", "/gradio_api/queue/join"):
        status, body = raw_post(guarded.url, path, {"Content-Type": "application/json",
                                                    "Content-Length": str(200 * 2**20)})
        assert status == 401 and b"needs a login" in body, (path, status, body)


def test_a_logged_in_visitor_still_edits_with_data_urls(guarded):
    session = logged_in_session(guarded)
    posted = session.post(f"{guarded.url}gradio_api/call/edit",
                          json={"data": edit_inputs(prompt="make it blue", seed=1, model="gpt-image-2",
                                                    images=[png_data_url()])}, timeout=60)
    assert posted.status_code == 200, posted.text
    result = session.get(f"{guarded.url}gradio_api/call/edit/{posted.json()['event_id']}", timeout=120).text
    assert "event: complete" in result, result


# --- Uploads are bounded per request and per visitor ------------------------------------------------

def test_too_many_files_in_one_upload_are_refused_unwritten(public):
    before = files_under(public.work / "gradio")
    files = [("files", (f"{i}.png", b"\x89PNG" + b"\0" * 100, "image/png")) for i in range(MAX_FILES_PER_REQUEST + 1)]
    answer = requests.post(f"{public.url}gradio_api/upload", files=files, timeout=30)
    assert answer.status_code == 413 and f"at most {MAX_FILES_PER_REQUEST} files" in answer.json()["error"]
    assert files_under(public.work / "gradio") == before


def test_an_upload_larger_than_a_request_may_be_is_refused_from_its_header(public):
    status, body = raw_post(public.url, "/gradio_api/upload", {
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(MAX_REQUEST_BYTES + 1)})
    assert status == 413 and f"{MAX_REQUEST_BYTES // 2**20} MB" in json.loads(body)["error"]


def test_an_upload_without_a_length_is_bounded_while_it_streams(public):
    status, sent = stream_until_answered(public.url, "/gradio_api/upload", "multipart/form-data; boundary=x",
                                         first=b'--x\r\nContent-Disposition: form-data; name="files"; '
                                               b'filename="a.png"\r\n\r\n', give_up=8 * MAX_REQUEST_BYTES)
    assert status == 413 and sent < 2 * MAX_REQUEST_BYTES, (status, sent)


def test_a_visitor_cannot_upload_more_than_the_daily_budget(public):
    # This app allows 3 MB per visitor (DALLE3_VISITOR_UPLOAD_MB=3): two 1.2 MB uploads, then no more.
    kept = [requests.post(f"{public.url}gradio_api/upload",
                          files={"files": (f"{i}.png", b"\x89PNG" + b"\1" * 1_200_000, "image/png")}, timeout=30)
            for i in range(3)]
    assert [a.status_code for a in kept] == [200, 200, 429], [a.text for a in kept]
    assert "limit per visitor" in kept[2].json()["error"]
    data_urls = requests.post(f"{public.url}gradio_api/call/edit", timeout=30,
                              json={"data": edit_inputs(prompt="more", images=[png_data_url(500)])})
    assert data_urls.status_code == 429


# --- Every route that reaches a handler goes through the guard ---------------------------------------

@pytest.mark.parametrize("route", ["queue/join", "run/generate", "api/generate"])
def test_a_wrong_input_count_gets_a_sentence_on_every_route(public, route):
    marker = "LOGGED-INPUT-" + "q" * 200_000
    log_before = len(public.log_text())
    body = {"data": [marker, ""], "fn_index": fn_index(public, "generate"), "session_hash": "wrongcount"}
    answer = requests.post(f"{public.url}gradio_api/{route}", json=body, timeout=30)
    assert answer.status_code == 422, answer.text
    assert f"takes exactly {len(GENERATE)} inputs in this order: prompt" in answer.json()["error"]
    log = public.log_text()
    assert "LOGGED-INPUT" not in log and "Traceback" not in log and len(log) - log_before < 2000


def test_fn_index_in_the_body_cannot_reach_edit_past_its_checks(public):
    body = {"data": generate_inputs(prompt="x"), "fn_index": fn_index(public, "edit"), "session_hash": "swap"}
    answer = requests.post(f"{public.url}gradio_api/run/generate", json=body, timeout=30)
    assert answer.status_code == 422 and f"/edit takes exactly {len(EDIT)} inputs" in answer.json()["error"]


@pytest.mark.parametrize("route", ["queue/join", "call/generate", "run/generate", "component_server"])
def test_a_large_body_is_refused_from_its_length_before_it_is_read(public, route):
    status, body = raw_post(public.url, f"/gradio_api/{route}", {
        "Content-Type": "application/json", "Content-Length": str(MAX_CALL_BODY + 1)})
    assert status == 413 and "large" in json.loads(body)["error"], (status, body)


def test_a_large_body_without_a_length_is_refused_while_it_streams(public):
    status, sent = stream_until_answered(public.url, "/gradio_api/queue/join", "application/json",
                                         first=b'{"data": ["', give_up=16 * MAX_CALL_BODY)
    # Whatever the loopback's socket buffers hold, the answer comes long before the endless body ends.
    assert status == 413 and sent < 12 * MAX_CALL_BODY, (status, sent)
    status, _ = raw_post(public.url, "/gradio_api/call/edit", {
        "Content-Type": "application/json", "Content-Length": str(MAX_EDIT_BODY + 1)})
    assert status == 413


# --- No file is downloaded from a URL ---------------------------------------------------------------

@contextmanager
def endless_server() -> Iterator[tuple[str, list[int]]]:
    """An HTTP server whose every answer is an image body that never ends; yields (url, bytes sent per request)."""
    sent: list[int] = []

    class Endless(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            sent.append(0)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            try:
                while sent[-1] < 2**30:
                    self.wfile.write(b"\0" * 65536)
                    sent[-1] += 65536
            except OSError:
                return

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/big.png", sent
    finally:
        server.shutdown()
        server.server_close()


def test_a_url_given_as_a_file_is_refused_and_never_fetched(public, guarded):
    with endless_server() as (url, sent):
        answers = [requests.post(f"{public.url}gradio_api/call/edit", timeout=30,
                                 json={"data": edit_inputs(prompt="x", images=[url])}),
                   requests.post(f"{public.url}gradio_api/call/edit", timeout=30,
                                 json={"data": edit_inputs(prompt="x", images=[{"path": url, "meta": {
                                     "_type": "gradio.FileData"}}])}),
                   requests.post(f"{public.url}gradio_api/queue/join", timeout=30, json={
                       "data": edit_inputs(prompt="x", images=[{"path": url, "url": url}]),
                       "fn_index": fn_index(public, "edit"), "session_hash": "url"})]
        mcp = requests.post(f"{guarded.url}gradio_api/mcp/", auth=AUTH, timeout=30,
                            headers={"Accept": "application/json, text/event-stream"},
                            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                  "params": {"name": "edit", "arguments": {"prompt": "x", "images": [url]}}})
        for answer in [*answers, mcp]:
            assert answer.status_code == 422 and "does not download" in answer.json()["error"], answer.text
        assert sent == []


# --- Logins: throttled in parallel, keyed on the real client, a right password never waits ----------

def _login(url: str, password: str, session: requests.Session | None = None,
           headers: dict[str, str] | None = None) -> tuple[int, float]:
    started = time.monotonic()
    answer = (session or requests).post(f"{url}login", data={"username": AUTH[0], "password": password},
                                        headers=headers or {}, timeout=120)
    return answer.status_code, time.monotonic() - started


@pytest.fixture()
def fresh_guarded(tmp_path) -> Iterator[AppProcess]:
    """Its own app: a throttle no other test has touched."""
    with app_process(tmp_path, {"DALLE3_OFFLINE": "1", "DALLE3_AUTH": ":".join(AUTH)}, ("--mcp",),
                     ready=("", AUTH)) as app:
        yield app


def test_parallel_guesses_are_no_faster_than_sequential_ones_and_the_right_password_passes(fresh_guarded):
    app = fresh_guarded
    browser = logged_in_session(app)  # this browser logged in before: it holds the device cookie
    with ThreadPoolExecutor(40) as pool:
        guesses = list(pool.map(lambda i: _login(app.url, f"guess {i}"), range(40)))
    checked = sorted(seconds for code, seconds in guesses if code == 400)
    refused = [code for code, _ in guesses if code == 429]
    assert len(checked) + len(refused) == 40 and refused, guesses
    # Wrong answers come one slot after another: the n-th checked guess waited for every slot before it.
    waits = [0.5 * 2 ** k for k in range(len(checked) - FREE_FAILURES)]
    assert checked[-1] >= min(10.0, sum(waits)) * 0.9, checked
    assert len(checked) <= FREE_FAILURES + MAX_PENDING + 2 * len(waits)
    # The address is deep in its delays now; the browser that logged in before is not slowed by them.
    with ThreadPoolExecutor(2) as pool:
        wrong = pool.submit(_login, app.url, "one more guess")
        time.sleep(0.2)
        right = pool.submit(_login, app.url, AUTH[1], browser)
        assert right.result()[0] == 200 and not wrong.done()
        assert wrong.result()[0] in (400, 429)


def test_forwarded_for_from_loopback_does_not_pick_a_new_client_and_the_right_password_never_waits(fresh_guarded):
    app = fresh_guarded
    answers = [_login(app.url, f"guess {i}", headers={"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(6)]
    assert all(code == 400 for code, _ in answers)
    assert answers[-1][1] >= 1.5 > answers[0][1], answers  # the rotating header did not reset the count
    # The next wrong answer waits for its slot; the right password, from the same address, does not.
    with ThreadPoolExecutor(2) as pool:
        wrong = pool.submit(_login, app.url, "guess 7")
        time.sleep(0.2)
        right = pool.submit(_login, app.url, AUTH[1])
        assert right.result()[0] == 200 and not wrong.done()
        assert wrong.result()[0] == 400


def test_mcp_requests_without_credentials_are_not_counted_as_guesses(fresh_guarded):
    app = fresh_guarded
    for _ in range(12):
        assert requests.get(f"{app.url}gradio_api/mcp/schema", timeout=30).status_code == 401
    started = time.monotonic()
    assert all(_login(app.url, f"typo {i}")[0] == 400 for i in range(FREE_FAILURES))
    # Had the twelve counted, these three would have waited 0.5 + 1 + ... seconds: at least 10 s each.
    assert time.monotonic() - started < 20
    assert requests.get(f"{app.url}gradio_api/mcp/schema", auth=AUTH, timeout=30).status_code == 200


# --- Visitors cannot push each other out ------------------------------------------------------------

def page_event(url: str, api_name: str, session_hash: str, values: dict[str, object] | None = None,
               headers: dict[str, str] | None = None) -> requests.Response:
    """The page's own event ``api_name`` through /queue/join, its inputs at their initial values."""
    config = requests.get(f"{url}config", timeout=30).json()
    dependency = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    components = {c["id"]: c for c in config["components"]}
    data = []
    for component_id in dependency["inputs"]:
        props = components[component_id].get("props", {})
        data.append((values or {}).get(props.get("elem_id") or "", props.get("value")))
    return requests.post(f"{url}gradio_api/queue/join", headers=headers or {}, timeout=30, json={
        "data": data, "fn_index": dependency["id"], "session_hash": session_hash, "event_data": None,
        "trigger_id": None})


def wait_for_events(url: str, session_hash: str) -> list[dict]:
    """Every message of ``session_hash``'s queue stream until its events have completed."""
    messages = []
    with requests.get(f"{url}gradio_api/queue/data", params={"session_hash": session_hash}, stream=True,
                      timeout=120) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("data:"):
                messages.append(json.loads(line[5:]))
                if messages[-1].get("msg") in ("process_completed", "close_stream"):
                    break
    return messages


def test_one_client_cannot_open_page_sessions_without_bound(public):
    from ui.guard import MAX_NEW_SESSIONS

    answers = [page_event(public.url, "on_setting", f"flood-{i}").status_code for i in range(MAX_NEW_SESSIONS + 5)]
    assert answers[:MAX_NEW_SESSIONS] == [200] * MAX_NEW_SESSIONS and answers[-1] == 429, answers
    refused = page_event(public.url, "on_setting", "flood-last")
    assert "Too many new page sessions" in refused.json()["error"]
    assert page_event(public.url, "on_setting", "flood-0").status_code == 200  # a session already open goes on


@pytest.fixture()
def small_store(tmp_path):
    """The page in-process behind a trusted proxy (so a flood can come from many addresses), few sessions kept."""
    from dalle3 import Settings
    from tests.apphelpers import running_app

    settings = Settings(offline=True, output_dir=tmp_path / "out", trusted_proxies=("127.0.0.1",))
    with running_app(settings) as served:
        served.demo.state_holder.capacity = 12
        yield served


def test_a_flood_of_control_changes_does_not_push_out_a_visitor_who_made_an_image(small_store):
    """A distributed flood: past the per-client bound (each address is new), far past the store's room."""
    from dalle3.views.session import SessionState

    url, holder = small_store.url, small_store.demo.state_holder
    assert page_event(url, "on_generate", "visitor", {"prompt": "a fox in the snow"}).status_code == 200
    assert any(m.get("msg") == "process_completed" and m.get("success") for m in wait_for_events(url, "visitor"))
    made = [v for v in holder.session_data["visitor"].state_data.values() if isinstance(v, SessionState)]
    assert made and made[0].images == 1
    from ui.guard import MAX_NEW_SESSIONS

    # More than one client may open, each from its own address (believed: the proxy is trusted here).
    for i in range(MAX_NEW_SESSIONS + 10):
        flood = f"flood-{i}"
        assert page_event(url, "on_setting", flood, headers={"X-Forwarded-For": f"198.51.100.{i}"}).ok
        wait_for_events(url, flood)
    assert len(holder.session_data) <= 12
    kept = [v for v in holder.session_data["visitor"].state_data.values() if isinstance(v, SessionState)]
    assert kept == made  # history and session spend intact


def test_a_session_keeps_no_copy_of_the_page_config(small_store):
    from gradio.state_holder import SessionState as GradioSession

    url, holder = small_store.url, small_store.demo.state_holder
    assert page_event(url, "on_setting", "lean").ok
    wait_for_events(url, "lean")
    lean = holder.session_data["lean"]
    assert lean.config_values == {}
    assert set(vars(lean)) == set(vars(GradioSession(small_store.demo)))  # Gradio's attributes, all there


def test_trusted_proxies_are_addresses_or_networks_and_a_space_trusts_its_own():
    from dalle3.errors import ConfigurationError
    from dalle3.settings import SPACE_PROXIES, from_env

    assert from_env({}, dotenv=False).trusted_proxies == ()
    assert from_env({"SPACE_ID": "someone/studio"}, dotenv=False).trusted_proxies == SPACE_PROXIES
    assert from_env({"SPACE_ID": "someone/studio", "DALLE3_TRUSTED_PROXIES": "none"},
                    dotenv=False).trusted_proxies == ()
    assert from_env({"DALLE3_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16"},
                    dotenv=False).trusted_proxies == ("10.0.0.5", "192.168.0.0/16")
    with pytest.raises(ConfigurationError) as refused:
        from_env({"DALLE3_TRUSTED_PROXIES": "proxy.example"}, dotenv=False)
    assert "DALLE3_TRUSTED_PROXIES" in refused.value.user_message
    with pytest.raises(ConfigurationError) as refused:
        from_env({"DALLE3_VISITOR_UPLOAD_MB": "0"}, dotenv=False)
    assert "DALLE3_VISITOR_UPLOAD_MB" in refused.value.user_message
