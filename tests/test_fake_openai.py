"""Checks that the fake OpenAI Images server behaves like the real API's public spec says.

The app's tests trust this fake, so the fake itself is pinned here: success and
error bodies are validated against the vendored OpenAPI schemas, per-model
request rules are exercised, every fault outcome is observed through plain
``requests`` calls, and the official ``openai`` SDK is pointed at it to prove
that real client code parses its answers and maps its errors as it would for
api.openai.com.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from typing import Any

import jsonschema
import openai
import pytest
import requests
from openai.types import Model
from PIL import Image

from tests.fake_openai import FakeOpenAI, Outcome, SeenRequest, closed_port_url, mask_key
from tests.openapi_spec import (
    validate_create_image_request,
    validate_error_response,
    validate_images_response,
)

KEY = "sk-test-abcdef123456"
AUTH = {"Authorization": f"Bearer {KEY}"}
DALLE3 = {"model": "dall-e-3", "prompt": "a lighthouse at dusk", "size": "1024x1024", "response_format": "b64_json"}
GPT2 = {"model": "gpt-image-2", "prompt": "a lighthouse at dusk", "size": "1024x1024", "quality": "low"}


def post(fake: FakeOpenAI, body: Any, headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
    return requests.post(
        f"{fake.base_url}/images/generations",
        json=body,
        headers=AUTH if headers is None else headers,
        timeout=kwargs.pop("timeout", 5),
        **kwargs,
    )


def png_size(b64: str) -> tuple[int, int]:
    raw = base64.b64decode(b64, validate=True)
    assert raw.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(raw)) as img:
        return img.size


def assert_error(resp: requests.Response, status: int, code: str | None, type_: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["x-request-id"].startswith("req_")
    assert "openai-processing-ms" in resp.headers
    body = resp.json()
    validate_error_response(body)
    assert body["error"]["code"] == code
    if type_ is not None:
        assert body["error"]["type"] == type_
    return body["error"]


@pytest.fixture
def client(fake_api: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test-123", base_url=fake_api.base_url, max_retries=0, timeout=5)


# --------------------------------------------------------------------------- the spec loader itself


def test_spec_validators_accept_nulls_where_spec_says_nullable_and_reject_bad_shapes() -> None:
    validate_create_image_request({"prompt": "x", "model": None, "n": None, "quality": None})
    validate_create_image_request({"prompt": "x", "complexity": "high"})  # extra params are not forbidden
    for bad in ({"model": "dall-e-3"}, {"prompt": "x", "quality": "ultra"}, {"prompt": "x", "n": 11}):
        with pytest.raises(jsonschema.ValidationError):
            validate_create_image_request(bad)
    with pytest.raises(jsonschema.ValidationError):
        validate_error_response({"error": {"message": "missing type/param/code"}})
    with pytest.raises(jsonschema.ValidationError):
        validate_images_response({"data": []})  # "created" is required


# --------------------------------------------------------------------------- success shapes


def test_dalle3_b64_success_is_spec_valid_png_of_requested_size(fake_api: FakeOpenAI) -> None:
    resp = post(fake_api, {**DALLE3, "size": "1024x1792"})
    assert resp.status_code == 200
    assert resp.headers["x-request-id"].startswith("req_")
    assert int(resp.headers["openai-processing-ms"]) >= 0
    assert int(resp.headers["content-length"]) == len(resp.content)
    body = resp.json()
    validate_images_response(body)
    assert png_size(body["data"][0]["b64_json"]) == (1024, 1792)
    assert body["data"][0]["revised_prompt"] == "Revised: a lighthouse at dusk"
    assert "usage" not in body


def test_success_overrides_revised_prompt_request_id_and_image_bytes(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.success(revised_prompt="custom", request_id="req_fixed", image=b"raw"))
    resp = post(fake_api, DALLE3)
    assert resp.headers["x-request-id"] == "req_fixed"
    assert resp.json()["data"][0] == {"b64_json": base64.b64encode(b"raw").decode(), "revised_prompt": "custom"}


def test_dalle3_url_form_serves_downloadable_png(fake_api: FakeOpenAI) -> None:
    resp = post(fake_api, {**DALLE3, "response_format": "url", "size": "1792x1024"})
    body = resp.json()
    validate_images_response(body)
    url = body["data"][0]["url"]
    assert url.startswith(fake_api.base_url + "/files/") and url.endswith(".png")
    image = requests.get(url, timeout=5)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (1792, 1024)


def test_dalle3_without_response_format_gets_url_like_the_spec_default(fake_api: FakeOpenAI) -> None:
    body = {key: value for key, value in DALLE3.items() if key != "response_format"}
    assert "url" in post(fake_api, body).json()["data"][0]


def test_success_url_outcome_forces_url_even_when_b64_requested(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.success_url())
    item = post(fake_api, DALLE3).json()["data"][0]
    assert "b64_json" not in item
    assert requests.get(item["url"], timeout=5).content.startswith(b"\x89PNG")


def test_gpt_image_success_has_usage_and_echo_fields_and_no_revised_prompt(fake_api: FakeOpenAI) -> None:
    resp = post(fake_api, {**GPT2, "size": "1536x1024", "quality": "high", "prompt": "x" * 40})
    body = resp.json()
    validate_images_response(body)
    assert set(body["data"][0]) == {"b64_json"}
    assert png_size(body["data"][0]["b64_json"]) == (1536, 1024)
    assert body["output_format"] == "png" and body["quality"] == "high" and body["size"] == "1536x1024"
    assert body["background"] == "opaque"
    usage = body["usage"]
    assert usage["input_tokens"] == 10  # len(prompt) // 4
    assert usage["output_tokens"] == round(4160 * 1536 * 1024 / 1048576)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["output_tokens_details"] == {"image_tokens": usage["output_tokens"], "text_tokens": 0}


def test_gpt_image_custom_size_1536x864_returns_that_pixel_size_and_omits_size_field(fake_api: FakeOpenAI) -> None:
    body = post(fake_api, {**GPT2, "size": "1536x864"}).json()
    validate_images_response(body)  # the spec's size enum has no 1536x864, so it must be absent
    assert "size" not in body
    assert png_size(body["data"][0]["b64_json"]) == (1536, 864)


def test_gpt_image_auto_size_renders_1024_square(fake_api: FakeOpenAI) -> None:
    body = post(fake_api, {**GPT2, "size": "auto", "quality": "auto"}).json()
    validate_images_response(body)
    assert png_size(body["data"][0]["b64_json"]) == (1024, 1024)
    assert body["quality"] == "medium"


def test_gpt_image_output_format_jpeg_returns_jpeg_bytes(fake_api: FakeOpenAI) -> None:
    body = post(fake_api, {**GPT2, "output_format": "jpeg"}).json()
    assert body["output_format"] == "jpeg"
    assert base64.b64decode(body["data"][0]["b64_json"]).startswith(b"\xff\xd8")


# --------------------------------------------------------------------------- scripting


def test_script_queue_is_consumed_in_order_then_default_success(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.rate_limited(), Outcome.server_error(), Outcome.content_policy())
    statuses = [post(fake_api, DALLE3).status_code for _ in range(5)]
    assert statuses == [429, 500, 400, 200, 200]
    assert fake_api.generation_count == 5
    assert fake_api.pending == 0


def test_invalid_request_is_rejected_before_consuming_script_but_still_recorded(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.server_error())
    assert post(fake_api, {**DALLE3, "size": "512x512"}).status_code == 400
    assert fake_api.pending == 1
    assert post(fake_api, DALLE3).status_code == 500
    assert fake_api.generation_count == 2


def test_recorded_requests_have_lowercase_headers_and_parsed_json(fake_api: FakeOpenAI) -> None:
    before = time.time()
    post(fake_api, DALLE3)
    (seen,) = fake_api.requests
    assert isinstance(seen, SeenRequest)
    assert (seen.method, seen.path, seen.json) == ("POST", "/v1/images/generations", DALLE3)
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.time >= before


def test_reset_clears_queue_and_recordings(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.server_error())
    post(fake_api, GPT2)
    fake_api.script(Outcome.server_error())
    fake_api.reset()
    assert fake_api.requests == [] and fake_api.pending == 0
    assert post(fake_api, GPT2).status_code == 200


def test_session_keep_alive_reuses_one_connection(fake_api: FakeOpenAI) -> None:
    with requests.Session() as session:
        for _ in range(3):
            resp = session.post(f"{fake_api.base_url}/images/generations", json=GPT2, headers=AUTH, timeout=5)
            assert resp.status_code == 200
        fake_api.script(Outcome.rate_limited())  # error answers keep the connection too
        assert session.post(f"{fake_api.base_url}/images/generations", json=GPT2, headers=AUTH).status_code == 429
    assert fake_api.connection_count == 1


def test_default_delay_applies_to_success_and_requests_run_concurrently(fake_api: FakeOpenAI) -> None:
    fake_api.default_delay_s = 0.3
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(post(fake_api, GPT2).status_code)) for _ in range(4)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    assert results == [200] * 4
    assert elapsed >= 0.3 and fake_api.max_in_flight == 4  # four 0.3 s answers, all in flight together


# --------------------------------------------------------------------------- error outcomes


@pytest.mark.parametrize(
    ("outcome", "status", "code", "type_"),
    [
        (Outcome.rate_limited(), 429, "rate_limit_exceeded", "requests"),
        (Outcome.insufficient_quota(), 429, "insufficient_quota", "insufficient_quota"),
        (Outcome.content_policy(), 400, "content_policy_violation", "image_generation_user_error"),
        (Outcome.invalid_key(), 401, "invalid_api_key", "invalid_request_error"),
        (Outcome.model_not_found(), 404, "model_not_found", "invalid_request_error"),
        (Outcome.server_error(), 500, None, "server_error"),
        (Outcome.server_error(status=502), 502, None, "server_error"),
        (Outcome.unavailable(), 503, None, "server_error"),
        (Outcome.error(409, "conflict", "custom", type="custom_type", param="prompt"), 409, "conflict", "custom_type"),
    ],
    ids=lambda value: value.kind if isinstance(value, Outcome) else None,
)
def test_error_outcomes_give_status_and_spec_valid_error_body(
    fake_api: FakeOpenAI, outcome: Outcome, status: int, code: str | None, type_: str
) -> None:
    fake_api.script(outcome)
    assert_error(post(fake_api, DALLE3), status, code, type_)


def test_rate_limited_sends_retry_after_headers(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.rate_limited(retry_after="7"), Outcome.rate_limited(retry_after=None, retry_after_ms="250"))
    first, second = post(fake_api, DALLE3), post(fake_api, DALLE3)
    assert first.headers["retry-after"] == "7" and "retry-after-ms" not in first.headers
    assert second.headers["retry-after-ms"] == "250" and "retry-after" not in second.headers
    assert "dall-e-3" in first.json()["error"]["message"]


def test_error_outcome_custom_headers_are_sent(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.error(500, None, "boom", headers={"x-should-retry": "false", "x-request-id": "req_x"}))
    resp = post(fake_api, DALLE3)
    assert resp.headers["x-should-retry"] == "false" and resp.headers["x-request-id"] == "req_x"


def test_insufficient_quota_and_content_policy_messages_match_openai_wording(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.insufficient_quota(), Outcome.content_policy())
    assert post(fake_api, DALLE3).json()["error"]["message"].startswith("You exceeded your current quota")
    assert post(fake_api, DALLE3).json()["error"]["message"].startswith(
        "Your request was rejected as a result of our safety system."
    )


def test_invalid_key_message_echoes_masked_bearer_token(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.invalid_key(), Outcome.invalid_key())
    message = post(fake_api, DALLE3).json()["error"]["message"]
    assert message == (
        "Incorrect API key provided: sk-***3456. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )
    assert KEY not in message
    short = post(fake_api, DALLE3, headers={"Authorization": "Bearer abc"}).json()["error"]["message"]
    assert "provided: ***." in short
    assert mask_key("sk-proj-0123456789") == "sk-***6789"


def test_model_not_found_names_the_requested_or_given_model(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.model_not_found(), Outcome.model_not_found("gpt-image-9"))
    first = assert_error(post(fake_api, GPT2), 404, "model_not_found")
    assert first["message"] == "The model `gpt-image-2` does not exist or you do not have access to it."
    assert "`gpt-image-9`" in post(fake_api, GPT2).json()["error"]["message"]


# --------------------------------------------------------------------------- broken bodies and transports


def test_html_outcome_is_a_cloudflare_page_not_json(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.html(), Outcome.html(status=504))
    resp = post(fake_api, DALLE3)
    assert resp.status_code == 502 and resp.headers["content-type"] == "text/html"
    assert "502 Bad Gateway" in resp.text and "cloudflare" in resp.text
    assert post(fake_api, DALLE3).status_code == 504


def test_not_json_outcome_claims_json_but_is_not(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.not_json())
    resp = post(fake_api, DALLE3)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    assert resp.text == "this is not json"
    with pytest.raises(requests.JSONDecodeError):
        resp.json()


def test_empty_data_outcome_is_spec_valid_but_has_no_image(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.empty_data())
    body = post(fake_api, DALLE3).json()
    validate_images_response(body)
    assert body["data"] == []


def test_bad_base64_outcome_does_not_decode(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.bad_base64())
    b64 = post(fake_api, DALLE3).json()["data"][0]["b64_json"]
    with pytest.raises(ValueError):
        base64.b64decode(b64, validate=True)


def test_not_an_image_outcome_decodes_to_non_image_bytes(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.not_an_image())
    raw = base64.b64decode(post(fake_api, DALLE3).json()["data"][0]["b64_json"], validate=True)
    assert raw == b"hello, not a png"
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(io.BytesIO(raw))


def test_hang_is_bounded_by_client_timeout_and_does_not_block_others_or_stop() -> None:
    fake = FakeOpenAI().start()
    try:
        fake.script(Outcome.hang(seconds=30))
        with pytest.raises(requests.ReadTimeout):
            post(fake, DALLE3, timeout=0.5)
        assert fake.generating == 1  # the client gave up at its 0.5 s while the 30 s hang goes on
        fake.script(Outcome.hang(seconds=30))
        hung = threading.Thread(target=lambda: _swallow(lambda: post(fake, DALLE3, timeout=10)), daemon=True)
        hung.start()
        assert fake.wait_in_flight(2, timeout=10)  # both hanging requests are being answered ...
        assert post(fake, DALLE3).status_code == 200  # ... and another is served while they hang
        assert fake.max_in_flight == 3
    finally:
        fake.stop()  # returns with both 30 s hangs still under way: it wakes them, it does not wait them out
    assert fake.wait_idle(timeout=10)  # the hanging answers ended when the server stopped ...
    hung.join(timeout=10)
    assert not hung.is_alive()  # ... and their client saw the end


def _swallow(call: Any) -> None:
    try:
        call()
    except requests.RequestException:
        pass


def test_short_hang_answers_success_afterwards(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.hang(seconds=0.2))
    start = time.monotonic()
    assert post(fake_api, DALLE3).status_code == 200
    assert time.monotonic() - start >= 0.2


def test_huge_body_can_be_refused_mid_stream_without_server_traceback(
    fake_api: FakeOpenAI, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_api.script(Outcome.huge())
    resp = post(fake_api, DALLE3, stream=True)
    assert resp.status_code == 200
    assert int(resp.headers["content-length"]) == 50 * 1024 * 1024
    received = 0
    for chunk in resp.iter_content(chunk_size=64 * 1024):
        received += len(chunk)
        if received >= 1024 * 1024:
            break
    resp.close()
    assert fake_api.wait_idle(timeout=5)  # the server noticed the hang-up and gave up
    assert post(fake_api, DALLE3).status_code == 200  # and still serves new requests
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "ConnectionReset" not in err


def test_huge_small_body_has_exact_length_and_json_shape(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.huge(nbytes=200_000))
    resp = post(fake_api, DALLE3)
    assert len(resp.content) == 200_000
    assert resp.json()["data"][0]["b64_json"].startswith("AAAA")


def test_reset_connection_gives_connection_error(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.reset_connection())
    with pytest.raises(requests.ConnectionError):
        post(fake_api, DALLE3)
    assert post(fake_api, DALLE3).status_code == 200


def test_closed_port_url_refuses_connections() -> None:
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{closed_port_url()}/images/generations", json=DALLE3, headers=AUTH, timeout=2)


def test_stopped_fake_refuses_even_kept_alive_sessions() -> None:
    fake = FakeOpenAI().start()
    url = f"{fake.base_url}/images/generations"
    with requests.Session() as session:
        assert session.post(url, json=GPT2, headers=AUTH, timeout=5).status_code == 200
        assert fake.connection_count == 1
        fake.stop()  # returns although the session still holds its kept-alive connection open
        with pytest.raises(requests.ConnectionError):
            session.post(url, json=GPT2, headers=AUTH, timeout=2)


# --------------------------------------------------------------------------- request validation


def test_missing_bearer_token_is_401_before_anything_else(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.server_error())
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        error = assert_error(post(fake_api, DALLE3, headers=headers), 401, None, "invalid_request_error")
        assert error["message"].startswith("You didn't provide an API key.")
    assert fake_api.pending == 1 and fake_api.generation_count == 3


def test_non_json_body_is_400(fake_api: FakeOpenAI) -> None:
    resp = requests.post(f"{fake_api.base_url}/images/generations", data=b"prompt=cat", headers=AUTH, timeout=5)
    assert assert_error(resp, 400, None)["message"].startswith("We could not parse the JSON body")
    assert fake_api.requests[0].json is None


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "dall-e-3"}, "prompt", "missing_required_parameter"),
        ({**DALLE3, "n": "one"}, "n", "invalid_type"),
        ({**DALLE3, "quality": "ultra"}, "quality", "invalid_value"),
        ({**GPT2, "n": 11}, "n", "integer_above_max_value"),
        ({**GPT2, "background": "blue"}, "background", "invalid_value"),
    ],
)
def test_schema_violations_are_400_with_param(fake_api: FakeOpenAI, body: dict[str, Any], param: str, code: str) -> None:
    error = assert_error(post(fake_api, body), 400, code, "invalid_request_error")
    assert error["param"] == param


def test_retired_model_is_404_model_not_found(fake_api: FakeOpenAI) -> None:
    fake_api.retired_models = {"dall-e-3"}
    error = assert_error(post(fake_api, DALLE3), 404, "model_not_found")
    assert "`dall-e-3`" in error["message"]
    assert post(fake_api, GPT2).status_code == 200


@pytest.mark.parametrize("model", ["dall-e-2", "gpt-4o", None])
def test_unknown_or_default_model_is_404(fake_api: FakeOpenAI, model: str | None) -> None:
    body = {"prompt": "x"} if model is None else {"prompt": "x", "model": model}
    assert_error(post(fake_api, body), 404, "model_not_found")


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"size": "1536x1024"}, "size"),
        ({"size": "512x512"}, "size"),
        ({"quality": "high"}, "quality"),
        ({"n": 2}, "n"),
        ({"background": "transparent"}, "background"),
        ({"output_format": "png"}, "output_format"),
        ({"moderation": "low"}, "moderation"),
        ({"complexity": "low"}, "complexity"),
        ({"prompt": "x" * 4001}, "prompt"),
    ],
)
def test_dalle3_rejects_unsupported_values_and_gpt_image_params(
    fake_api: FakeOpenAI, extra: dict[str, Any], param: str
) -> None:
    resp = post(fake_api, {**DALLE3, **extra})
    assert resp.status_code == 400
    validate_error_response(resp.json())
    assert resp.json()["error"]["type"] == "invalid_request_error"
    assert resp.json()["error"]["param"] == param


@pytest.mark.parametrize("size", ["1024x1024", "1792x1024", "1024x1792"])
@pytest.mark.parametrize("quality", ["standard", "hd"])
def test_dalle3_accepts_its_documented_sizes_and_qualities(fake_api: FakeOpenAI, size: str, quality: str) -> None:
    assert post(fake_api, {**DALLE3, "size": size, "quality": quality, "style": "vivid"}).status_code == 200


@pytest.mark.parametrize("param", ["style", "response_format"])
def test_gpt_image_rejects_dalle_only_params_as_unknown(fake_api: FakeOpenAI, param: str) -> None:
    value = "natural" if param == "style" else "b64_json"
    error = assert_error(post(fake_api, {**GPT2, param: value}), 400, "unknown_parameter", "invalid_request_error")
    assert error["param"] == param
    assert error["message"] == f"Unknown parameter: '{param}'."


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ("1000x1000", "divisible by 16"),
        ("4096x1024", "longest edge"),
        ("3000x500", "divisible by 16"),
        ("2880x768", "aspect ratio"),
        ("768x768", "pixels"),
        ("big", "WIDTHxHEIGHT"),
    ],
)
def test_gpt_image_rejects_bad_custom_sizes(fake_api: FakeOpenAI, size: str, reason: str) -> None:
    error = assert_error(post(fake_api, {**GPT2, "size": size}), 400, "invalid_value")
    assert error["param"] == "size" and reason in error["message"]


@pytest.mark.parametrize("size", ["1536x864", "3840x2160", "864x2592", "1024x1536"])
def test_gpt_image_accepts_good_custom_sizes(fake_api: FakeOpenAI, size: str) -> None:
    assert post(fake_api, {**GPT2, "size": size}).status_code == 200


def test_gpt_image_rejects_transparent_jpeg_and_bad_quality(fake_api: FakeOpenAI) -> None:
    body = {**GPT2, "background": "transparent", "output_format": "jpeg"}
    assert assert_error(post(fake_api, body), 400, "invalid_value")["param"] == "background"
    assert assert_error(post(fake_api, {**GPT2, "quality": "hd"}), 400, "invalid_value")["param"] == "quality"


def test_complexity_is_only_accepted_by_gpt_image_2_6_models(fake_api: FakeOpenAI) -> None:
    for model in ("gpt-image-2.6-sunburst", "gpt-image-2.6-flare"):
        assert post(fake_api, {**GPT2, "model": model, "complexity": "high"}).status_code == 200
    for model in ("gpt-image-2", "gpt-image-2.5-flare"):
        error = assert_error(post(fake_api, {**GPT2, "model": model, "complexity": "high"}), 400, "unknown_parameter")
        assert error["param"] == "complexity"
    bad = assert_error(post(fake_api, {**GPT2, "model": "gpt-image-2.6-flare", "complexity": "max"}), 400, "invalid_value")
    assert bad["param"] == "complexity"


def test_explicit_nulls_count_as_omitted(fake_api: FakeOpenAI) -> None:
    assert post(fake_api, {**GPT2, "style": None, "response_format": None, "quality": None}).status_code == 200


def test_unknown_path_is_404_invalid_url(fake_api: FakeOpenAI) -> None:
    resp = requests.post(f"{fake_api.base_url}/images/variations", json={}, headers=AUTH, timeout=5)
    assert assert_error(resp, 404, None)["message"] == "Invalid URL (POST /v1/images/variations)"


def test_edits_take_multipart_only(fake_api: FakeOpenAI) -> None:
    resp = requests.post(f"{fake_api.base_url}/images/edits", json={"prompt": "x"}, headers=AUTH, timeout=5)
    assert "multipart/form-data" in assert_error(resp, 400, None)["message"]


# --------------------------------------------------------------------------- /v1/models


def test_models_lists_image_models_with_shutdown_date_and_is_recorded_separately(fake_api: FakeOpenAI) -> None:
    resp = requests.get(f"{fake_api.base_url}/models", headers=AUTH, timeout=5)
    assert resp.status_code == 200 and resp.headers["x-request-id"].startswith("req_")
    body = resp.json()
    assert body["object"] == "list"
    by_id = {entry["id"]: entry for entry in body["data"]}
    assert {"dall-e-3", "gpt-image-2", "gpt-image-2.6-flare", "gpt-5", "text-embedding-3-small"} <= set(by_id)
    assert by_id["gpt-image-1.5"]["shutdown_date"] == "2026-12-01"
    assert by_id["gpt-image-2"]["shutdown_date"] is None  # announced none: null, as the SDK's Model says
    for entry in body["data"]:  # every entry is what the official SDK's Model type accepts
        assert Model.model_validate(entry).model_dump() == entry
    assert len(fake_api.model_requests) == 1 and fake_api.requests == []


def test_models_requires_auth_and_honours_models_outcome(fake_api: FakeOpenAI) -> None:
    assert_error(requests.get(f"{fake_api.base_url}/models", timeout=5), 401, None)
    fake_api.models_outcome = Outcome.invalid_key()
    assert_error(requests.get(f"{fake_api.base_url}/models", headers=AUTH, timeout=5), 401, "invalid_api_key")
    fake_api.models_outcome = None
    fake_api.models = [{"id": "only", "object": "model", "created": 1, "owned_by": "me"}]
    assert requests.get(f"{fake_api.base_url}/models", headers=AUTH, timeout=5).json()["data"][0]["id"] == "only"


# --------------------------------------------------------------------------- the official SDK against the fake


def test_sdk_dalle3_generate_parses_b64_and_revised_prompt(fake_api: FakeOpenAI, client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="dall-e-3",
        prompt="a red fox",
        n=1,
        size="1024x1024",
        quality="standard",
        style="natural",
        response_format="b64_json",
    )
    assert result.data is not None
    assert png_size(result.data[0].b64_json or "") == (1024, 1024)
    assert result.data[0].revised_prompt == "Revised: a red fox"
    (seen,) = fake_api.requests
    assert seen.json is not None
    validate_create_image_request(seen.json)
    assert seen.headers["authorization"] == "Bearer sk-test-123"


def test_sdk_gpt_image_generate_parses_usage(fake_api: FakeOpenAI, client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="gpt-image-2", prompt="a red fox in snow", size="1536x1024", quality="high", output_format="png"
    )
    assert result.data is not None and result.usage is not None
    assert png_size(result.data[0].b64_json or "") == (1536, 1024)
    assert result.data[0].revised_prompt is None
    assert result.usage.output_tokens == round(4160 * 1.5)
    assert result.output_format == "png"
    for seen in fake_api.requests:
        assert seen.json is not None
        validate_create_image_request(seen.json)


@pytest.mark.parametrize(
    ("outcome", "exc_type", "code"),
    [
        (Outcome.rate_limited(), openai.RateLimitError, "rate_limit_exceeded"),
        (Outcome.insufficient_quota(), openai.RateLimitError, "insufficient_quota"),
        (Outcome.content_policy(), openai.BadRequestError, "content_policy_violation"),
        (Outcome.invalid_key(), openai.AuthenticationError, "invalid_api_key"),
        (Outcome.model_not_found(), openai.NotFoundError, "model_not_found"),
        (Outcome.server_error(), openai.InternalServerError, None),
    ],
    ids=lambda value: value.kind if isinstance(value, Outcome) else None,
)
def test_sdk_raises_matching_exceptions(
    fake_api: FakeOpenAI, client: openai.OpenAI, outcome: Outcome, exc_type: type[openai.APIStatusError], code: str | None
) -> None:
    fake_api.script(outcome)
    with pytest.raises(exc_type) as info:
        client.images.generate(model="dall-e-3", prompt="x", size="1024x1024", response_format="b64_json")
    assert info.value.code == code
    assert info.value.request_id is not None and info.value.request_id.startswith("req_")


def test_sdk_sees_connection_reset_as_connection_error(fake_api: FakeOpenAI, client: openai.OpenAI) -> None:
    fake_api.script(Outcome.reset_connection())
    with pytest.raises(openai.APIConnectionError):
        client.images.generate(model="gpt-image-2", prompt="x")


def test_sdk_models_list(fake_api: FakeOpenAI, client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert "gpt-image-2.6-sunburst" in ids and "dall-e-3" in ids
    assert len(fake_api.model_requests) == 1


def test_a_bare_script_call_is_refused_rather_than_doing_nothing(fake_api: FakeOpenAI) -> None:
    fake_api.script(Outcome.content_policy())
    with pytest.raises(TypeError, match="at least one Outcome"):
        fake_api.script()
    assert fake_api.pending == 1  # nothing was cleared either


def test_rendezvous_holds_answers_until_that_many_are_in_flight(fake_api: FakeOpenAI) -> None:
    fake_api.rendezvous = 3
    threads = [threading.Thread(target=lambda: post(fake_api, GPT2)) for _ in range(2)]
    for thread in threads:
        thread.start()
    assert fake_api.wait_in_flight(2, timeout=10)
    assert not fake_api.wait_in_flight(3, timeout=0.2)  # two are held, not answered
    assert post(fake_api, GPT2).status_code == 200  # the third meets them; all three answer
    for thread in threads:
        thread.join(timeout=10)
    assert fake_api.max_in_flight == 3 and fake_api.generation_count == 3
    fake_api.reset()
    assert fake_api.max_in_flight == 0
