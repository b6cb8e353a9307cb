"""The API client against the loopback fake: one test per fault, retries counted, key never shown."""

from __future__ import annotations

import email.utils
import io
import os
import time

import pytest
from PIL import Image

from dalle3 import errors
from dalle3.http import limits
from dalle3.http.client import ImagesClient
from dalle3.files.metadata import png_size
from dalle3.models import DALLE3, GPT_IMAGE_2
from dalle3.params import validate
from dalle3.settings import Settings
from tests.fake_openai import FakeOpenAI, Outcome, closed_port_url
from tests.openapi_spec import validate_create_image_request

KEY = "sk-test-SECRET-abcdef1234567890"


def make_client(base_url: str, **overrides) -> ImagesClient:
    settings = Settings(api_key=KEY, base_url=base_url, timeout_s=overrides.pop("timeout_s", 5.0),
                        connect_timeout_s=1.0, max_retries=overrides.pop("max_retries", 2))
    # Backoff sleeps are recorded, not slept, except where a test wants real time.
    sleeps: list[float] = []
    client = ImagesClient(settings, sleep=overrides.pop("sleep", sleeps.append))
    client.sleeps = sleeps  # type: ignore[attr-defined]
    return client


def generate(fake: FakeOpenAI, **kw):
    client = make_client(fake.base_url, **{k: kw.pop(k) for k in list(kw) if k in ("max_retries", "timeout_s", "sleep")})
    return client, client.generate(validate(kw.pop("prompt", "a red fox"), **kw), KEY)


def fails(fake: FakeOpenAI, error_class: type, **kw) -> tuple[errors.DalleError, ImagesClient]:
    client = make_client(fake.base_url, **{k: kw.pop(k) for k in list(kw) if k in ("max_retries", "timeout_s", "sleep")})
    with pytest.raises(error_class) as info:
        client.generate(validate(kw.pop("prompt", "a red fox"), **kw), KEY)
    message = info.value.user_message
    assert KEY not in message and KEY not in repr(info.value) and "abcdef" not in message
    assert "SECRET" not in str(info.value)
    return info.value, client


def test_success_returns_png_revised_prompt_and_request_id(fake_api):
    fake_api.script(Outcome.success(revised_prompt="A fox, revised", request_id="req_123"))
    _, image = generate(fake_api, size="1792x1024")
    assert png_size(image.png) == (1792, 1024)
    assert image.revised_prompt == "A fox, revised" and image.request_id == "req_123"


def test_request_body_and_header_are_exactly_as_documented(fake_api):
    generate(fake_api, seed=77, quality="hd", style="vivid", size="1024x1792")
    seen = fake_api.requests[0]
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.json == {"model": "dall-e-3", "prompt": "a red fox", "n": 1, "size": "1024x1792",
                         "quality": "hd", "style": "vivid", "response_format": "b64_json"}
    validate_create_image_request(seen.json)


def test_url_answer_is_downloaded_without_the_key(fake_api):
    fake_api.script(Outcome.success_url())
    _, image = generate(fake_api)
    assert png_size(image.png) == (1024, 1024)


def test_gpt_image_request_validates_against_the_spec_and_carries_usage(fake_api):
    _, image = generate(fake_api, model="gpt-image-2", quality="high", size="1536x864")
    body = fake_api.requests[0].json
    validate_create_image_request(body)
    assert "style" not in body and "response_format" not in body
    assert png_size(image.png) == (1536, 864) and image.usage["output_tokens"] > 0


def test_rate_limit_retry_after_is_honoured_then_succeeds(fake_api):
    fake_api.script(Outcome.rate_limited(retry_after="1"), Outcome.success())
    client, image = generate(fake_api)
    assert fake_api.generation_count == 2 and client.sleeps == [1.0] and image.attempts == 2


def test_retry_after_ms_is_preferred(fake_api):
    fake_api.script(Outcome.rate_limited(retry_after="5", retry_after_ms="250"), Outcome.success())
    client, _ = generate(fake_api)
    assert client.sleeps == [0.25]


def test_absurd_retry_after_is_bounded(fake_api):
    fake_api.script(Outcome.rate_limited(retry_after="86400"), Outcome.success())
    client, _ = generate(fake_api)
    assert client.sleeps and client.sleeps[0] <= 8.0


def test_rate_limit_gives_up_after_the_retry_budget(fake_api):
    fake_api.script(*[Outcome.rate_limited(retry_after="0")] * 3)
    error, _ = fails(fake_api, errors.RateLimitError)
    assert fake_api.generation_count == 3 and "tried 3 times" in error.user_message
    assert error.http_status == 429 and error.code == "rate_limit_exceeded"


def test_insufficient_quota_is_not_retried(fake_api):
    fake_api.script(Outcome.insufficient_quota())
    error, _ = fails(fake_api, errors.QuotaExceededError)
    assert fake_api.generation_count == 1 and "credit" in error.user_message and "billing" in error.user_message


def test_content_policy_says_rephrase_and_is_not_retried(fake_api):
    fake_api.script(Outcome.content_policy())
    error, _ = fails(fake_api, errors.ContentPolicyError)
    assert fake_api.generation_count == 1 and "Rephrase" in error.user_message
    assert error.code == "content_policy_violation" and error.request_id


def test_moderation_blocked_answer_is_a_content_policy_refusal_like_the_stream_says(fake_api):
    """GPT Image models answer ``moderation_blocked`` (HTTP 400) where DALL·E said content_policy_violation."""
    fake_api.script(Outcome.error(400, "moderation_blocked", "Your request was rejected by the safety system."))
    error, _ = fails(fake_api, errors.ContentPolicyError)
    assert fake_api.generation_count == 1 and "Rephrase" in error.user_message
    assert error.code == "moderation_blocked"


def test_invalid_key_says_where_to_set_it_and_never_echoes_the_masked_key(fake_api):
    fake_api.script(Outcome.invalid_key())
    error, _ = fails(fake_api, errors.AuthenticationError)
    assert fake_api.generation_count == 1 and "OPENAI_API_KEY" in error.user_message
    assert "7890" not in error.user_message and "sk-" not in error.user_message.replace("sk-...", "")


def test_retired_model_names_the_date_and_successor(fake_api):
    fake_api.retired_models = {"dall-e-3"}
    error, _ = fails(fake_api, errors.ModelUnavailableError)
    assert "2026-05-12" in error.user_message and "gpt-image-2" in error.user_message
    assert error.successor == "gpt-image-2" and error.code == "model_not_found" and fake_api.generation_count == 1


def test_server_error_then_success_is_retried(fake_api):
    fake_api.script(Outcome.server_error(500), Outcome.success())
    _, image = generate(fake_api)
    assert fake_api.generation_count == 2 and image.attempts == 2


def test_503_three_times_gives_up_with_an_outage_message(fake_api):
    fake_api.script(*[Outcome.unavailable()] * 3)
    error, client = fails(fake_api, errors.ServerError)
    assert fake_api.generation_count == 3 and "status.openai.com" in error.user_message
    assert len(client.sleeps) == 2 and client.sleeps[1] > client.sleeps[0] * 1.2


def test_502_html_page_is_an_outage_not_a_crash(fake_api):
    fake_api.script(*[Outcome.html(502)] * 3)
    error, _ = fails(fake_api, errors.ServerError)
    assert error.http_status == 502 and "<html" not in error.user_message


def test_connection_refused_shows_the_base_url_not_the_key():
    client = make_client(closed_port_url(), max_retries=1)
    with pytest.raises(errors.ConnectionFailedError) as info:
        client.generate(validate("a fox"), KEY)
    assert client.settings.base_url in info.value.user_message and KEY not in info.value.user_message
    assert len(client.sleeps) == 1


def test_reset_connection_is_retried(fake_api):
    fake_api.script(Outcome.reset_connection(), Outcome.success())
    _, image = generate(fake_api)
    assert fake_api.generation_count == 2 and image.attempts == 2


def test_read_timeout_is_bounded_by_the_setting(fake_api):
    fake_api.script(Outcome.hang(30), Outcome.hang(30))
    error, _ = fails(fake_api, errors.RequestTimeoutError, timeout_s=1.0, max_retries=1)
    # the client gave up on both tries at the setting's 1 s: both 30 s hangs are still being answered
    assert fake_api.generation_count == 2 and fake_api.generating == 2
    assert "within 1 s" in error.user_message and "DALLE3_TIMEOUT_S" in error.user_message


@pytest.mark.parametrize("outcome,words", [
    (Outcome.empty_data(), "no image"),
    (Outcome.bad_base64(), "base64"),
    (Outcome.not_an_image(), "not a PNG"),
    (Outcome.not_json(), "not the JSON"),
])
def test_unusable_answers_are_explained(fake_api, outcome, words):
    fake_api.script(outcome)
    error, _ = fails(fake_api, errors.BadResponseError)
    assert words in error.user_message and fake_api.generation_count == 1


def test_50_mb_answer_is_refused_not_buffered(fake_api):
    fake_api.script(Outcome.huge(50 * 1024 * 1024))
    error, _ = fails(fake_api, errors.BadResponseError)
    bound = limits.for_call(DALLE3, "standard", "1024x1024", streaming=False).max_bytes
    assert bound < 50 * 2**20 and f"larger than {bound / 2**20:.0f} MB" in error.user_message


def test_answer_bound_grows_with_the_requested_pixels_and_admits_a_real_4k_png():
    small = limits.for_call(GPT_IMAGE_2, "high", "1024x1024", streaming=False).max_bytes
    large = limits.for_call(GPT_IMAGE_2, "high", "3840x2160", streaming=False).max_bytes
    streamed = limits.for_call(GPT_IMAGE_2, "high", "3840x2160", streaming=True, partial_images=3).max_bytes
    worst_4k_png_b64 = 3840 * 2160 * 4 * 4 // 3  # RGBA, no compression at all
    assert small < 8 * 2**20 < worst_4k_png_b64 < large and streamed >= 4 * worst_4k_png_b64


def test_4k_answer_larger_than_the_old_40_mb_cap_is_accepted(fake_api):
    noise = Image.frombytes("RGBA", (3840, 2160), os.urandom(3840 * 2160 * 4))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG", compress_level=0)
    assert len(buffer.getvalue()) * 4 / 3 > 40 * 2**20
    fake_api.script(Outcome.success(image=buffer.getvalue()))
    _, image = generate(fake_api, model="gpt-image-2", quality="high", size="3840x2160")
    assert png_size(image.png) == (3840, 2160)


def test_gpt_image_style_is_never_sent_even_when_given(fake_api):
    generate(fake_api, model="gpt-image-2.5-flare", quality="low", style="vivid")
    assert "style" not in fake_api.requests[0].json


def test_model_listing_returns_shutdown_dates(fake_api):
    models = make_client(fake_api.base_url).list_models(KEY)
    by_id = {m["id"]: m for m in models}
    assert by_id["gpt-image-1.5"]["shutdown_date"] == "2026-12-01" and "gpt-image-2" in by_id


# --- failures while the body is read --------------------------------------------------------------

def test_error_body_that_breaks_off_is_retried_and_counted(fake_api):
    fake_api.script(Outcome.broken_body(500), Outcome.success())
    _, image = generate(fake_api)
    assert fake_api.generation_count == 2 and image.attempts == 2


def test_error_body_that_stalls_is_retried_under_the_same_budget(fake_api):
    fake_api.script(*[Outcome.broken_body(503, stall_s=5)] * 2)
    error, client = fails(fake_api, errors.RequestTimeoutError, timeout_s=0.5, max_retries=1)
    assert fake_api.generation_count == 2 and len(client.sleeps) == 1 and "tried 2 times" in error.user_message


def test_mid_body_stall_of_an_image_is_a_timeout_not_a_connection_failure_and_is_not_resent(fake_api):
    fake_api.script(Outcome.broken_body(200, stall_s=5), Outcome.success())
    error, _ = fails(fake_api, errors.RequestTimeoutError, model="gpt-image-2", quality="low", timeout_s=0.5)
    assert "sent nothing for 0.5 s" in error.user_message and "Could not connect" not in error.user_message
    assert "may still be billed" in error.user_message and error.request_id in error.user_message
    assert fake_api.generation_count == 1  # a 200 is a made (billed) image: never sent twice


def test_image_body_cut_by_a_reset_says_it_may_be_billed_and_is_not_resent(fake_api):
    fake_api.script(Outcome.broken_body(200), Outcome.success())
    error, _ = fails(fake_api, errors.BadResponseError)
    assert "broke while the answer was being read" in error.user_message and error.request_id in error.user_message
    assert fake_api.generation_count == 1


def test_http_date_retry_after_is_honoured(fake_api):
    when = email.utils.formatdate(time.time() + 4, usegmt=True)
    fake_api.script(Outcome.rate_limited(retry_after=when), Outcome.success())
    client, _ = generate(fake_api)
    assert fake_api.generation_count == 2 and 2.0 <= client.sleeps[0] <= 4.0


def test_http_date_retry_after_far_ahead_is_bounded(fake_api):
    fake_api.script(Outcome.rate_limited(retry_after="Wed, 21 Oct 2099 07:28:00 GMT"), Outcome.success())
    client, _ = generate(fake_api)
    assert client.sleeps[0] <= 8.0


# --- timeouts that fit the call -------------------------------------------------------------------

def test_default_timeouts_do_not_cut_a_4k_high_call_and_stream_by_the_gap():
    plain = limits.for_call(GPT_IMAGE_2, "high", "3840x2160", streaming=False)
    streamed = limits.for_call(GPT_IMAGE_2, "high", "3840x2160", streaming=True, partial_images=2)
    small = limits.for_call(GPT_IMAGE_2, "low", "1024x1024", streaming=True, partial_images=2)
    reported_worst = 150
    assert plain.read_s == plain.deadline_s >= 3 * reported_worst
    assert streamed.read_s < streamed.deadline_s == plain.deadline_s and streamed.read_s >= reported_worst
    assert small.read_s < streamed.read_s and small.deadline_s >= limits.SDK_DEFAULT_S


def test_dalle3_timeout_s_overrides_the_read_timeout_in_both_modes():
    plain = limits.for_call(GPT_IMAGE_2, "high", "3840x2160", streaming=False, timeout_s=30)
    streamed = limits.for_call(GPT_IMAGE_2, "high", "3840x2160", streaming=True, partial_images=2, timeout_s=30)
    assert (plain.read_s, plain.deadline_s) == (30, 30)
    assert streamed.read_s == 30 and streamed.deadline_s > 30


def test_a_call_cut_before_any_answer_says_it_may_still_be_billed(fake_api):
    fake_api.script(Outcome.hang(30), Outcome.hang(30))
    error, _ = fails(fake_api, errors.RequestTimeoutError, timeout_s=0.5, max_retries=1)
    assert "may still be billed" in error.user_message


def test_a_connection_dropped_before_the_answer_says_so_and_that_it_may_be_billed(fake_api):
    fake_api.script(*[Outcome.reset_connection()] * 2)
    error, _ = fails(fake_api, errors.ConnectionDroppedError, max_retries=1)
    assert fake_api.generation_count == 2 and error.abandoned
    assert error.title == "Connection dropped"
    assert error.user_message.startswith(f"{fake_api.base_url} accepted the connection, then dropped it before "
                                         "answering (tried 2 times).")
    assert "may still be billed" in error.user_message and "Could not connect" not in error.user_message


def test_a_model_listing_dropped_mid_answer_is_not_called_billable(fake_api):
    fake_api.models_outcome = Outcome.reset_connection()
    client = make_client(fake_api.base_url)
    with pytest.raises(errors.ConnectionDroppedError) as info:
        client.list_models(KEY)
    assert "billed" not in info.value.user_message and "dropped it before answering" in info.value.user_message
