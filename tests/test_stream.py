"""Live previews through Studio against the streaming fake: previews first, only the final saved, faults plain."""

from __future__ import annotations

from pathlib import Path

import pytest

from dalle3 import GenerationResult, Settings, Studio, errors, validate
from dalle3.views.live import live
from dalle3.files.metadata import png_size, read_parameters
from dalle3.models import GPT_IMAGE_2
from dalle3.results import Preview
from tests.fake_openai import FakeOpenAI, Outcome

KEY = "sk-test-SECRET-stream-1234567890"


def make_studio(fake: FakeOpenAI, out: Path, timeout_s: float | None = 5.0) -> Studio:
    studio = Studio(Settings(api_key=KEY, base_url=fake.base_url, timeout_s=timeout_s, connect_timeout_s=1.0,
                             max_retries=2, output_dir=out))
    studio.client._sleep = lambda s: None
    return studio


def gpt(prompt: str = "a fox at dawn", **kw):
    return validate(prompt, model="gpt-image-2", quality=kw.pop("quality", "low"), size=kw.pop("size", "1024x1024"), **kw)


def saved_pngs(out: Path) -> list[Path]:
    return sorted(out.rglob("*.png"))


def test_previews_come_first_and_only_the_final_image_is_saved_with_its_parameters(fake_api, tmp_path):
    studio, seen = make_studio(fake_api, tmp_path / "out"), []
    result = studio.generate(gpt(), previews=2, on_preview=seen.append)
    assert [(p.number, p.total) for p in seen] == [(1, 2), (2, 2)]
    assert all(p.path.exists() and tmp_path not in p.path.parents and png_size(p.path.read_bytes()) for p in seen)
    assert saved_pngs(tmp_path / "out") == [result.path] and result.previews == 2
    assert read_parameters(result.path)["prompt"] == "a fox at dawn"
    body = fake_api.requests[0].json
    assert body["stream"] is True and body["partial_images"] == 2 and fake_api.generation_count == 1


def test_cost_comes_from_the_completed_events_usage_partial_tokens_included(fake_api, tmp_path):
    result = make_studio(fake_api, tmp_path).generate(gpt(), previews=3, on_preview=lambda p: None)
    plain = make_studio(fake_api, tmp_path).generate(gpt("another fox"))
    per_token = GPT_IMAGE_2.token_prices.image_output / 1e6
    assert not result.cost.estimate and result.cost.usd == pytest.approx(plain.cost.usd + 300 * per_token, abs=1e-4)


def test_a_preview_reaches_the_caller_while_the_server_is_still_working(fake_api, tmp_path):
    fake_api.script(Outcome.stream_fault("stall", after_partials=1, seconds=2.0))
    seen = []
    result = make_studio(fake_api, tmp_path).generate(
        gpt(), previews=2, on_preview=lambda p: seen.append((p.elapsed_s, fake_api.generating)))
    # the preview did not wait for the next event: it reached the caller while the server was still
    # answering (stalled before the second partial image), and before the result
    elapsed_s, answering = seen[0]
    assert answering == 1 and elapsed_s <= result.elapsed_s


FAULTS = [
    # id, outcome, error class, words
    ("reset after a preview", Outcome.stream_fault("reset", 1), errors.BadResponseError, "broke while the image"),
    ("malformed event", Outcome.stream_fault("malformed", 1), errors.BadResponseError, "could not be read"),
    ("error event", Outcome.stream_fault("error", 1, message="upstream fell over"), errors.ServerError,
     "upstream fell over"),
    ("stall longer than the gap", Outcome.stream_fault("stall", 1, seconds=20), errors.RequestTimeoutError,
     "sent nothing for 0.5 s"),
    ("ends without completed", Outcome.stream_fault("truncated", 2), errors.BadResponseError,
     "ended before the final image"),
]


@pytest.mark.parametrize("outcome,error_class,words", [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_stream_fault_is_a_plain_message_never_resent_and_no_preview_is_saved(fake_api, tmp_path, outcome,
                                                                           error_class, words):
    fake_api.script(outcome)
    studio, seen = make_studio(fake_api, tmp_path / "out", timeout_s=0.5), []
    with pytest.raises(error_class) as info:
        studio.generate(gpt(), previews=2, on_preview=seen.append)
    message = info.value.user_message
    assert words in message and "may still be billed" in message and info.value.request_id in message
    assert KEY not in message and "Traceback" not in message
    assert fake_api.generation_count == 1 and saved_pngs(tmp_path / "out") == []
    assert len(seen) == outcome.nbytes
    assert studio.generate(gpt("next one"), previews=1, on_preview=seen.append).path.exists()  # still serving


@pytest.mark.parametrize("mode,requests_first", [("reject", 2), ("ignore", 1)])
def test_an_endpoint_that_does_not_stream_gets_the_plain_call_and_is_remembered(fake_api, tmp_path, mode,
                                                                                 requests_first):
    fake_api.stream_mode = mode
    studio, seen = make_studio(fake_api, tmp_path), []
    first = studio.generate(gpt(), previews=2, on_preview=seen.append)
    assert first.path.exists() and seen == [] and "does not send previews" in first.note
    assert fake_api.generation_count == requests_first and fake_api.requests[0].json["stream"] is True
    assert ("stream" not in fake_api.requests[-1].json) == (mode == "reject")
    second = studio.generate(gpt("second"), previews=2, on_preview=seen.append)
    assert second.note is None and fake_api.generation_count == requests_first + 1
    assert "stream" not in fake_api.requests[-1].json and not studio.streams(gpt())


def test_dalle3_and_callers_without_a_preview_handler_never_stream(fake_api, tmp_path):
    studio, seen = make_studio(fake_api, tmp_path), []
    studio.generate(validate("a fox", model="dall-e-3"), previews=3, on_preview=seen.append)
    studio.generate(gpt(), previews=3)
    assert seen == [] and all("stream" not in r.json for r in fake_api.requests)
    assert not studio.streams(validate("a fox", model="dall-e-3")) and studio.streams(gpt())


def test_a_failing_preview_handler_does_not_cost_the_image(fake_api, tmp_path):
    def broken(preview):
        raise RuntimeError("the page went away")

    result = make_studio(fake_api, tmp_path).generate(gpt(), previews=2, on_preview=broken)
    assert result.path.exists() and result.previews == 2


# --- dalle3.views.live: what a page's generator handler iterates --------------------------------------

def test_live_yields_previews_then_the_result(fake_api, tmp_path):
    items = list(live(make_studio(fake_api, tmp_path), gpt(), previews=2, min_interval_s=0))
    assert [type(i) for i in items] == [Preview, Preview, GenerationResult]
    assert [p.label.split(" · ")[0] for p in items[:2]] == ["preview 1 of 2", "preview 2 of 2"]
    assert all(p.path.exists() for p in items[:2]) and items[-1].path.exists()


def test_live_throttles_to_the_newest_preview_and_drops_one_overtaken_by_the_result(fake_api, tmp_path):
    items = list(live(make_studio(fake_api, tmp_path), gpt(), previews=3, min_interval_s=60))
    assert [type(i) for i in items] == [Preview, GenerationResult] and items[0].number == 1


def test_live_shows_a_held_back_preview_when_its_turn_comes(fake_api, tmp_path):
    fake_api.script(Outcome.stream_fault("stall", after_partials=2, seconds=1.0))
    items = list(live(make_studio(fake_api, tmp_path), gpt(), previews=3, min_interval_s=0.3))
    assert [i.number for i in items[:-1]] == [1, 2, 3] and isinstance(items[-1], GenerationResult)


def test_live_raises_the_generations_error_in_the_consumer(fake_api, tmp_path):
    fake_api.script(Outcome.stream_fault("error", 1, message="nope"))
    seen = []
    with pytest.raises(errors.ServerError, match="nope"):
        for item in live(make_studio(fake_api, tmp_path), gpt(), previews=2, min_interval_s=0):
            seen.append(item)
    assert [type(i) for i in seen] == [Preview]
