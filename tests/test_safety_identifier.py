"""safety_identifier: per browser session, beyond loopback only, off with DALLE3_SAFETY_ID=0, stored nowhere."""

from __future__ import annotations

import re

import pytest

from dalle3 import safety
from dalle3.files import metadata
from dalle3.http.client import ImagesClient
from dalle3.errors import ConfigurationError, ValidationError
from dalle3.params import validate
from dalle3.settings import Settings, from_env
from dalle3.studio import Studio

KEY = "sk-test-SECRET-safety-0123456789"


def test_identifier_is_stable_per_session_distinct_across_sessions_and_not_the_token():
    token, other = safety.new_session_token(), safety.new_session_token()
    ident = safety.session_identifier(token)
    assert re.fullmatch(r"[0-9a-f]{64}", ident)
    assert ident == safety.session_identifier(token) != safety.session_identifier(other)
    assert token not in ident


@pytest.mark.parametrize("host,enabled,expected", [
    ("127.0.0.1", True, False), ("localhost", True, False), ("::1", True, False),
    ("0.0.0.0", True, True), ("0.0.0.0", False, False), ("192.168.1.5", True, True),
])
def test_identifier_is_sent_only_when_serving_others_and_switched_on(host, enabled, expected):
    settings = Settings(safety_id=enabled)
    assert (safety.identifier_for(settings, host, "session-token") is not None) is expected
    assert safety.identifier_for(settings, host, None) is None


@pytest.mark.parametrize("raw,expected", [("", True), ("1", True), ("0", False), ("off", False)])
def test_dalle3_safety_id_is_on_by_default_and_0_turns_it_off(raw, expected):
    assert from_env({"DALLE3_SAFETY_ID": raw}, dotenv=False).safety_id is expected


def test_a_bad_dalle3_safety_id_names_the_variable():
    with pytest.raises(ConfigurationError) as info:
        from_env({"DALLE3_SAFETY_ID": "maybe"}, dotenv=False)
    assert "DALLE3_SAFETY_ID" in info.value.user_message


def test_identifier_reaches_the_api_but_not_the_saved_file(fake_api, tmp_path):
    settings = Settings(api_key=KEY, base_url=fake_api.base_url, output_dir=tmp_path, timeout_s=5, max_retries=0)
    ident = safety.identifier_for(settings, "0.0.0.0", "browser-session-1")
    result = Studio(settings, ImagesClient(settings)).generate(
        validate("a fox", model="gpt-image-2", safety_identifier=ident))
    assert fake_api.requests[-1].json["safety_identifier"] == ident
    data = result.path.read_bytes()
    assert ident.encode() not in data and "safety_identifier" not in metadata.read_parameters(data)


def test_dalle3_requests_never_carry_an_identifier():
    request = validate("a fox", model="dall-e-3", safety_identifier="a" * 64)
    assert request.safety_identifier is None


def test_a_malformed_identifier_is_refused():
    with pytest.raises(ValidationError) as info:
        validate("a fox", model="gpt-image-2", safety_identifier="not ok!")
    assert "safety identifier" in info.value.user_message
