"""The page's /generate endpoint through gradio_client, against the loopback fake API."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client.exceptions import AppError

from dalle3.files.metadata import png_size, read_parameters
from tests.apphelpers import SERVER_KEY, app_settings, run_concurrently, running_app
from tests.fake_openai import Outcome, png_with_c2pa


@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    with running_app(app_settings(fake.base_url, out), sleep=lambda s: None) as handle:
        yield handle


def test_defaults_reach_the_api_exactly(client, fake):
    path, status, _ = client.predict(prompt="a lighthouse at dawn", api_name="/generate")
    assert fake.requests[0].json == {"model": "dall-e-3", "prompt": "a lighthouse at dawn", "n": 1,
                                     "size": "1024x1024", "quality": "standard", "style": "natural",
                                     "response_format": "b64_json"}
    assert png_size(Path(path).read_bytes()) == (1024, 1024)
    assert "Revised prompt: Revised: a lighthouse at dawn" in status.replace("\\", "")
    assert "$0.040" in status and "request `req" in status


@pytest.mark.parametrize("quality,style,size", [("hd", "vivid", "1792x1024"), ("standard", "natural", "1024x1792")])
def test_each_control_reaches_the_request_body(client, fake, quality, style, size):
    path, status, _ = client.predict(prompt="a harbour", seed=3, quality=quality, style=style, size=size,
                                  api_name="/generate")
    body = fake.requests[0].json
    assert (body["quality"], body["style"], body["size"]) == (quality, style, size) and "seed" not in body
    assert png_size(Path(path).read_bytes()) == tuple(map(int, size.split("x")))


def test_identical_inputs_come_from_cache_without_a_request(client, fake):
    client.predict(prompt="cache me", seed=11, api_name="/generate")
    _, status, _ = client.predict(prompt="cache me", seed=11, api_name="/generate")
    assert fake.generation_count == 1 and "returned from cache, no charge" in status
    client.predict(prompt="cache me", seed=12, api_name="/generate")
    assert fake.generation_count == 2


def test_downloaded_png_carries_the_settings_but_not_the_key(client, fake):
    path, _, _ = client.predict(prompt="a kettle", seed=5, quality="hd", style="vivid", api_name="/generate")
    data = Path(path).read_bytes()
    settings = read_parameters(data)
    assert settings["prompt"] == "a kettle" and settings["seed"] == 5 and settings["quality"] == "hd"
    assert settings["style"] == "vivid" and settings["model"] == "dall-e-3"
    assert settings["revised_prompt"] == "Revised: a kettle"
    assert SERVER_KEY.encode() not in data


def test_validation_error_reaches_the_client_as_a_plain_message(client, fake):
    with pytest.raises(AppError, match="Write a prompt first"):
        client.predict(prompt="   ", api_name="/generate")
    with pytest.raises(AppError, match="4,001 characters"):
        client.predict(prompt="x" * 4001, api_name="/generate")
    assert fake.generation_count == 0


def test_api_error_reaches_the_client_as_a_plain_message(client, fake):
    fake.script(Outcome.content_policy())
    with pytest.raises(AppError, match="safety system rejected this prompt"):
        client.predict(prompt="something rejected", api_name="/generate")
    path, _, _ = client.predict(prompt="fine afterwards", api_name="/generate")
    assert Path(path).exists()


def test_own_key_is_used_for_that_call_while_the_server_key_serves_another(served, fake):
    fake.reset()
    fake.rendezvous = 2  # neither answer comes before both requests are at the fake
    try:
        with served.connected("sk-visitor-OWN-999") as own, served.connected() as other:
            results = dict(zip(("own", "server"), run_concurrently(
                lambda: own.predict(prompt="own key image", api_name="/generate"),
                lambda: other.predict(prompt="server key image", api_name="/generate"),
            )))
    finally:
        fake.rendezvous = None
    assert fake.max_in_flight == 2  # the two calls really were in flight together
    assert all(Path(results[who][0]).exists() for who in ("own", "server"))
    keys = {r.json["prompt"]: r.headers["authorization"] for r in fake.requests}
    assert keys == {"own key image": "Bearer sk-visitor-OWN-999", "server key image": f"Bearer {SERVER_KEY}"}


def test_gpt_image_model_through_the_api_sends_only_its_parameters(client, fake):
    path, status, _ = client.predict(prompt="a poster", model="gpt-image-2.6-flare", quality="high",
                                  size="1536x864", complexity="low", background="opaque", api_name="/generate")
    body = fake.requests[0].json
    assert body["complexity"] == "low" and body["background"] == "opaque" and "style" not in body
    assert png_size(Path(path).read_bytes()) == (1536, 864)
    assert "≈" not in status and "cost $" in status


def test_retired_model_answer_names_the_successor(client, fake):
    fake.retired_models = {"dall-e-3"}
    with pytest.raises(AppError, match="2026-05-12.*gpt-image-2"):
        client.predict(prompt="retired", api_name="/generate")


def test_served_png_is_the_apis_bytes_plus_settings_with_c2pa_kept(client, fake, served):
    api_png = png_with_c2pa((1024, 1024))
    fake.script(Outcome.success(image=api_png))
    path, status, _ = client.predict(prompt="provenance", seed=21, api_name="/generate")
    got = Path(path).read_bytes()
    assert b"caBX" in got and got.endswith(api_png[33:]) and got[:33] == api_png[:33]
    saved = next(served.studio.output_dir.rglob("provenance_seed21.png"))
    assert saved.read_bytes() == got  # handed to Gradio as a path: served byte for byte
