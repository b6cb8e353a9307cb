"""Stop abandons the HTTP call (its reservation kept, the words honest); the page's one-line summaries.

The Stop tests drive a real Studio against the loopback fake, whose answer hangs until the
client gives up: a Stop from another thread must end the blocked read at once.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from dalle3.models import pricing
from dalle3.views.glance import as_charged, editing_model, options_summary, size_for_aspect
from dalle3.models import MODELS
from dalle3.params import validate
from dalle3.settings import Settings
from dalle3.http.stopping import SENT_MESSAGE, StopHandle, StoppedError, bound, stoppable
from dalle3.studio import Studio
from tests.fake_openai import Outcome

SERVER_KEY = "sk-server-KEY-0123456789abcdef"


def studio_for(base_url: str, tmp_path: Path, **overrides) -> Studio:
    settings = Settings(api_key=SERVER_KEY, base_url=base_url, timeout_s=30.0, connect_timeout_s=2.0,
                        output_dir=tmp_path, max_retries=2)
    studio = Studio(replace(settings, **overrides))
    studio.client._sleep = lambda s: None
    return studio


def stop_when_sent(fake_api, handle: StopHandle) -> threading.Thread:
    """Press Stop once the fake has the request (it then hangs far longer than the test waits)."""
    def press() -> None:
        while fake_api.generation_count == 0:
            threading.Event().wait(0.01)
        handle.stop()

    thread = threading.Thread(target=press, daemon=True)
    thread.start()
    return thread


def test_stop_abandons_the_call_keeps_the_reservation_and_says_it_may_be_billed(fake_api, tmp_path):
    fake_api.script(Outcome.hang(60), Outcome.hang(60), Outcome.hang(60))
    studio = studio_for(fake_api.base_url, tmp_path, max_spend_usd=1.0)
    request = validate("a slow fox", model="gpt-image-2", quality="low")
    handle = StopHandle()
    presser = stop_when_sent(fake_api, handle)
    with bound(handle), pytest.raises(StoppedError) as info:
        studio.generate(request)
    presser.join(5)
    reserved = pricing.worst_case(MODELS["gpt-image-2"], "low", "1024x1024", request.prompt)
    assert info.value.abandoned and info.value.user_message == SENT_MESSAGE
    assert "may still be billed" in info.value.user_message
    assert fake_api.generation_count == 1  # no retry after a Stop, even with retries allowed
    assert studio.ledger.spent == pytest.approx(reserved)


def test_stop_before_sending_sends_nothing_and_says_nothing_is_billed(fake_api, tmp_path):
    studio = studio_for(fake_api.base_url, tmp_path, max_spend_usd=1.0)
    handle = StopHandle()
    handle.stop()
    with bound(handle), pytest.raises(StoppedError) as info:
        studio.generate(validate("never sent", model="gpt-image-2", quality="low"))
    assert not info.value.abandoned and "nothing is billed" in info.value.user_message
    assert fake_api.generation_count == 0 and studio.ledger.spent == 0


def test_a_connection_reused_by_the_next_call_is_not_shut_by_an_old_stop(fake_api, tmp_path):
    studio = studio_for(fake_api.base_url, tmp_path)
    first = StopHandle()
    with bound(first):
        studio.generate(validate("first", model="gpt-image-2", quality="low"))
    second = StopHandle()
    with bound(second):
        first.stop()  # the first call is over: its old connection now belongs to the second
        result = studio.generate(validate("second", model="gpt-image-2", quality="low"))
    assert result.path.exists() and fake_api.generation_count == 2


def test_stoppable_stops_waiting_at_once_and_passes_items_and_errors():
    release = threading.Event()

    def slow():
        yield 1
        release.wait(30)
        yield 2

    handle = StopHandle()
    seen = []
    for item in stoppable(slow, handle):
        seen.append(item)
        handle.stop()
    release.set()
    assert seen == [1]

    def broken():
        raise ValueError("boom")
        yield  # pragma: no cover

    with pytest.raises(ValueError, match="boom"):
        list(stoppable(broken, StopHandle()))


def test_the_options_summary_names_the_model_and_what_differs_from_its_defaults():
    assert options_summary("dall-e-3", "standard", "1024x1024", style="natural") == \
        "Options · dall-e-3 · standard · 1024x1024 · natural"
    text = options_summary("gpt-image-2", "high", "1536x1024", style="natural", output_format="webp", n=4,
                           extras={"background": "transparent", "moderation": "auto"})
    assert text == "Options · gpt-image-2 · high · 1536x1024 · webp · background transparent · ×4"
    assert options_summary("gpt-image-2", "low", "1024x1024", output_format="png", n=1) == \
        "Options · gpt-image-2 · low · 1024x1024"
    assert "<b>" not in options_summary("<b>x</b>")


def test_the_simulator_cost_line_says_free_and_keeps_the_openai_price():
    line = "This image: $0.040 · This session: $0.00 (1 image)"
    assert as_charged(line, True) == \
        "This image: free in the offline simulator (on OpenAI: $0.040) · This session: $0.00 (1 image)"
    assert as_charged(line, False) == line
    assert as_charged(as_charged(line, True), True) == as_charged(line, True)


def test_editing_on_a_model_that_cannot_edit_goes_to_its_successor():
    assert editing_model("gpt-image-1") == ("gpt-image-1", None)
    model, note = editing_model("dall-e-3")
    assert model == "gpt-image-2" and "dall-e-3 cannot edit images" in note


@pytest.mark.parametrize("size, expected", [((1536, 1024), "1536x1024"), ((1000, 1000), "1024x1024"),
                                            ((768, 1152), "1024x1536"), ((1920, 1080), "auto")])
def test_an_edit_size_follows_the_reference_aspect(size, expected):
    assert size_for_aspect("gpt-image-2", *size) == expected


def test_a_second_click_while_one_is_claimed_starts_nothing_even_when_queued_behind_it():
    from ui.wiring import CLAIM_TTL_S, Running

    now = [0.0]
    running = Running(clock=lambda: now[0])
    assert running.click("s") is True and running.click("s") is False  # a double click
    assert running.click("other") is True  # another browser session is not held up
    first = running.start("s")
    assert first is not None and running.busy("s")
    running.finish("s", first)
    assert running.start("s") is None  # the queued second click, run after the first: refused
    assert not running.busy("s") and running.click("s") is True  # the next click works at once
    now[0] += CLAIM_TTL_S + 1  # a claim whose queued step never ran stops blocking
    assert running.click("s") is True


def test_stop_reaches_the_running_call_of_that_session_only():
    from ui.wiring import Running

    running = Running()
    running.click("a")
    running.click("b")
    a, b = running.start("a"), running.start("b")
    running.stop("a")
    assert a.stopped and not b.stopped


def test_an_edit_records_its_references_file_names_and_a_missing_one_is_named_by_it(tmp_path):
    import io

    from PIL import Image

    from dalle3.edits.inputs import prepare_edit
    from dalle3.edits.index import ReferenceIndex

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buffer, "PNG")
    inputs = prepare_edit(MODELS["gpt-image-2"], [buffer.getvalue()], names=["C:\\photos\\sky <1>.png"])
    parameters = inputs.parameters()
    assert parameters["reference_names"] == ["sky 1.png"]  # the last part only, plain characters
    found = ReferenceIndex(tmp_path).restore(parameters)  # an empty outputs folder: it is missing
    assert found.missing == tuple(parameters["references"])
    assert f"sky 1.png ({parameters['references'][0][:12]})" in found.message()
