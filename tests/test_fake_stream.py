"""The fake's image stream, read by the official ``openai`` SDK's own streaming client."""

from __future__ import annotations

import base64

import openai
import pytest
from openai.types import ImageGenCompletedEvent, ImageGenPartialImageEvent

from dalle3.files.metadata import png_size
from tests.fake_openai import Outcome


def sdk(fake) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0, timeout=10)


def stream(fake, **kw):
    return sdk(fake).images.generate(model="gpt-image-2", prompt="a fox", stream=True,
                                     **{"partial_images": 2, "size": "1536x1024", "quality": "low", **kw})


def test_sdk_reads_partials_then_the_completed_event_with_usage(fake_api):
    events = list(stream(fake_api))
    assert [type(e) for e in events] == [ImageGenPartialImageEvent, ImageGenPartialImageEvent, ImageGenCompletedEvent]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    final = events[-1]
    assert png_size(base64.b64decode(final.b64_json)) == (1536, 1024) and final.size == "1536x1024"
    assert final.usage.output_tokens == final.usage.total_tokens - final.usage.input_tokens > 200
    assert fake_api.requests[0].json["stream"] is True


def test_zero_partial_images_is_one_completed_event(fake_api):
    assert [type(e) for e in stream(fake_api, partial_images=0)] == [ImageGenCompletedEvent]


def test_error_event_is_what_the_sdk_raises_an_api_error_on(fake_api):
    fake_api.script(Outcome.stream_fault("error", 1, message="could not finish"))
    seen = []
    with pytest.raises(openai.APIError, match="could not finish"):
        for event in stream(fake_api):
            seen.append(event)
    assert len(seen) == 1


def test_truncated_stream_ends_without_a_completed_event(fake_api):
    fake_api.script(Outcome.stream_fault("truncated", 1))
    assert [type(e) for e in stream(fake_api)] == [ImageGenPartialImageEvent]


def test_reset_after_a_partial_is_a_connection_error_for_the_sdk(fake_api):
    fake_api.script(Outcome.stream_fault("reset", 1))
    with pytest.raises(openai.APIConnectionError):
        list(stream(fake_api))


def test_reject_mode_answers_400_on_stream_like_an_endpoint_that_does_not_stream(fake_api):
    fake_api.stream_mode = "reject"
    with pytest.raises(openai.BadRequestError) as info:
        list(stream(fake_api))
    assert info.value.body["param"] == "stream"
