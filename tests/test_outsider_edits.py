"""A public Space as an outsider tries it, second round: the endpoint's key, edit inputs, lookups, messages.

Each test replays an attack over HTTP against a real ``python app.py`` (or, where the
attack is on the package, against the loopback fake) and shows it refused, with nothing
lost: the right key reaches the endpoint, no pixel is decoded for a call nobody may pay
for, no other visitor's image is found, and every refusal is a sentence, not a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dalle3.client import ImagesClient
from dalle3.edits import prepare_edit
from dalle3.errors import ConfigurationError
from dalle3.params import profile_for, validate
from dalle3.settings import Settings, from_env
from dalle3.stream import Partial
from tests.fake_openai import FakeOpenAI, render_image

ROOT = Path(__file__).resolve().parents[1]
SERVER_KEY = "sk-srv-DOORS-SERVER-KEY-7z7z"
OWN_KEY = "sk-own-DOORS-VISITOR-KEY-8w8w"
PROXY_PASSWORD = "PROXYPASS-9v9v"
MODEL = "gpt-image-2"


# --- credentials in the endpoint's address never replace the key ---------------------------------

def _with_userinfo(base_url: str) -> str:
    return base_url.replace("http://", f"http://proxyuser:{PROXY_PASSWORD}@", 1)


def test_credentials_in_the_base_url_stop_start_up_naming_the_variable(tmp_path):
    with FakeOpenAI() as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DALLE3_", "GRADIO_SERVER"))}
        env.update(OPENAI_API_KEY=SERVER_KEY, OPENAI_BASE_URL=_with_userinfo(fake.base_url),
                   DALLE3_OUTPUT_DIR=str(tmp_path / "out"), GRADIO_ANALYTICS_ENABLED="False",
                   PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, str(ROOT / "app.py"), "--listen"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=90)
        assert fake.requests == [] and fake.model_requests == []  # nothing was sent, so nothing was billed
    assert done.returncode != 0
    assert "OPENAI_BASE_URL must not contain a user name or password" in done.stderr
    assert "HTTPS_PROXY" in done.stderr and "Traceback" not in done.stderr
    output = done.stdout + done.stderr
    assert PROXY_PASSWORD not in output and SERVER_KEY not in output


@pytest.mark.parametrize("url", ["https://user:pw@proxy.example/v1", "https://user@proxy.example/v1",
                                 "https://:pw@proxy.example/v1"])
def test_any_userinfo_in_the_base_url_is_refused(url):
    with pytest.raises(ConfigurationError, match="OPENAI_BASE_URL must not contain a user name") as info:
        from_env({"OPENAI_BASE_URL": url})
    assert "pw@" not in info.value.user_message


def _client(base_url: str) -> ImagesClient:
    return ImagesClient(Settings(api_key=SERVER_KEY, base_url=base_url, timeout_s=10, max_retries=0),
                        sleep=lambda _: None)


def _every_call(client: ImagesClient) -> None:
    """A plain generation, a streamed one, an edit and the model listing, each with the visitor's key."""
    client.generate(validate("a fox", model=MODEL), OWN_KEY)
    seen: list[Partial] = []
    client.generate(validate("a fox", model=MODEL, seed=2), OWN_KEY, previews=1, on_partial=seen.append)
    inputs = prepare_edit(profile_for(MODEL), [render_image(64, 64)])
    client.edit(validate("a fox", model=MODEL), inputs, OWN_KEY)
    client.list_models(OWN_KEY)


def _authorizations(fake: FakeOpenAI) -> list[tuple[str | None, str | None]]:
    seen = fake.requests + fake.edit_requests + fake.model_requests
    return [(r.headers.get("authorization"), r.headers.get("proxy-authorization")) for r in seen]


def test_the_bearer_key_reaches_the_endpoint_even_with_userinfo_in_a_settings_url():
    """A ``Settings`` built in code skips ``from_env``'s refusal: the key must still be what is sent."""
    with FakeOpenAI() as fake:
        _every_call(_client(_with_userinfo(fake.base_url)))
        sent = _authorizations(fake)
    assert len(sent) == 4 and set(sent) == {(f"Bearer {OWN_KEY}", None)}, sent


def test_a_netrc_login_for_the_host_does_not_replace_the_key(tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login netrcuser password {PROXY_PASSWORD}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with FakeOpenAI() as fake:
        _every_call(_client(fake.base_url))
        sent = _authorizations(fake)
    assert len(sent) == 4 and set(sent) == {(f"Bearer {OWN_KEY}", None)}, sent
