"""The spend ledger: the server key's cap holds against a broken ledger, bills above
the estimate, concurrent holds and calls the client gave up on — with zero overshoot —
and survives a restart.

Driven through the Studio against the loopback fake, whose ``usage`` can be
made to bill every image as ``high`` whatever quality was asked.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from dalle3.models import pricing
from dalle3.errors import (ConfigurationError, ConnectionFailedError, LedgerUnreadableError, RequestTimeoutError,
                           SpendCapError)
from dalle3.ledger import LEDGER_NAME, SpendLedger
from dalle3.models import MODELS
from dalle3.params import validate
from dalle3.settings import Settings, from_env
from dalle3.studio import Studio
from tests.apphelpers import run_concurrently
from tests.fake_openai import Outcome, closed_port_url

import json
import threading
from pathlib import Path

import pytest

from dalle3.models import pricing
from dalle3.errors import ConfigurationError, SpendCapError
from dalle3.ledger import SpendLedger
from dalle3.params import validate
from dalle3.settings import from_env
from tests.apphelpers import run_concurrently

SERVER_KEY = "sk-server-KEY-0123456789abcdef"
OWN_KEY = "sk-own-VISITOR-0123456789abcdef"


def studio_for(base_url: str, tmp_path: Path, **overrides) -> Studio:
    settings = Settings(api_key=SERVER_KEY, base_url=base_url, timeout_s=5.0, connect_timeout_s=1.0,
                        output_dir=tmp_path, max_retries=2)
    studio = Studio(replace(settings, **overrides))
    studio.client._sleep = lambda s: None  # backoff recorded by the client's own tests; not waited here
    return studio


# --- the ledger fails closed ----------------------------------------------------------------------

@pytest.mark.parametrize("content", [b'{"spent_usd": 0.4', b'{"spent_usd": NaN, "images": 1}',
                                     b'{"spent_usd": Infinity, "images": 1}', b'{"spent_usd": 1e999, "images": 1}',
                                     b'{"spent_usd": -3, "images": 1}', b'{"spent_usd": "0.1", "images": 1}',
                                     b'{"spent_usd": true, "images": 1}', b'{"spent_usd": 0.1, "images": -1}',
                                     b'[0.1]', b"", b"\xff\xfe", b"[" * 100_000, b" " * 10_000])
def test_unreadable_or_non_finite_ledger_stops_the_server_key(tmp_path, content, caplog):
    path = tmp_path / LEDGER_NAME
    path.write_bytes(content)
    with caplog.at_level(logging.ERROR, logger="dalle3"):
        ledger = SpendLedger(path, cap=5.0)
        for _ in range(3):
            with pytest.raises(LedgerUnreadableError, match=LEDGER_NAME.replace(".", r"\.")) as info:
                with ledger.hold(0.04):
                    pass
    assert isinstance(info.value, SpendCapError) and "own OpenAI API key" in info.value.user_message
    assert str(tmp_path) not in info.value.user_message  # the visitor sees the file's name, the log its path
    lines = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and str(path) in lines[0].getMessage() and not lines[0].exc_info
    assert path.read_bytes() == content  # left as it was for the operator to see


def test_missing_ledger_is_a_fresh_start_and_a_deleted_one_turns_the_key_back_on(tmp_path):
    path = tmp_path / LEDGER_NAME
    assert SpendLedger(path, cap=1.0).spent == 0
    path.write_text('{"spent_usd": NaN}')
    ledger = SpendLedger(path, cap=1.0)
    with pytest.raises(LedgerUnreadableError):
        with ledger.hold(0.04):
            pass
    path.unlink()  # the operator's fix: no restart needed
    with ledger.hold(0.04) as charge:
        charge.usd = 0.04
    assert json.loads(path.read_text()) == {"spent_usd": 0.04, "images": 1}


def test_broken_ledger_refuses_the_server_key_but_own_keys_still_work(fake_api, tmp_path):
    (tmp_path / LEDGER_NAME).write_text('{"spent_usd": 0.0')
    studio = studio_for(fake_api.base_url, tmp_path, max_spend_usd=1.0)
    with pytest.raises(LedgerUnreadableError):
        studio.generate(validate("a fox"))
    assert fake_api.generation_count == 0
    assert studio.generate(validate("a fox"), OWN_KEY).path.exists() and fake_api.generation_count == 1


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e999"])
def test_non_finite_cap_stops_start_up(value):
    with pytest.raises(ConfigurationError, match="DALLE3_MAX_SPEND_USD"):
        from_env({"DALLE3_MAX_SPEND_USD": value})


# --- the cap holds for token-billed models --------------------------------------------------------

def test_thirty_parallel_gpt_image_2_calls_billed_at_the_maximum_end_within_the_cap(fake_api, tmp_path):
    fake_api.billed_quality = "high"  # every "low" image billed like a "high" one: ~15x its estimate
    fake_api.default_delay_s = 0.05
    studio = studio_for(fake_api.base_url, tmp_path, max_spend_usd=0.50)
    outcomes: list[str] = []

    def call(i: int) -> None:
        try:
            studio.generate(validate(f"lighthouse {i}", model="gpt-image-2", quality="low"))
            outcomes.append("ok")
        except SpendCapError:
            outcomes.append("capped")

    fake_api.rendezvous = 2  # the first answer waits for a second call in flight: they really run in parallel
    run_concurrently(*(lambda i=i: call(i) for i in range(30)), timeout_s=60)
    assert fake_api.max_in_flight >= 2
    assert len(outcomes) == 30 and outcomes.count("ok") >= 2
    assert studio.ledger.spent <= 0.50
    saved = json.loads((tmp_path / LEDGER_NAME).read_text())
    assert saved["spent_usd"] <= 0.50 and saved["images"] == outcomes.count("ok") == fake_api.generation_count


@pytest.mark.parametrize("model,size", [(m, s) for m in ("gpt-image-2", "gpt-image-2.6-flare", "gpt-image-1",
                                                         "gpt-image-1-mini")
                                        for s in ("1024x1024", "1536x1024", "auto", "3840x2160")
                                        if s != "3840x2160" or MODELS[m].custom_size])
def test_reservation_covers_the_highest_quality_bill_for_the_size(model, size):
    profile = MODELS[model]
    prompt = "ü" * 32000  # two UTF-8 bytes a character: the prompt's tokens are in the reservation
    billed_size = "1536x1024" if size == "auto" else size
    w, h = map(int, billed_size.split("x"))
    high = {"input_tokens": 64000, "output_tokens": round(4160 * w * h / 1048576)}
    bill = pricing.from_usage(profile, high).usd
    assert all(pricing.worst_case(profile, q, size, prompt) >= bill for q in profile.qualities)


def test_unreadable_usage_settles_at_the_reservation_not_below(fake_api, tmp_path):
    assert pricing.from_usage(MODELS["gpt-image-2"], {"output_tokens": -5_000_000}) is None
    assert pricing.from_usage(MODELS["gpt-image-2"], {"output_tokens": float("nan")}) is None
    studio = studio_for(fake_api.base_url, tmp_path, max_spend_usd=5.0)
    request = validate("no bill", model="gpt-image-1.5", quality="low")  # no token prices: no exact bill
    studio.generate(request)
    assert studio.ledger.spent == pytest.approx(pricing.worst_case(MODELS["gpt-image-1.5"], "low", "1024x1024",
                                                                    request.prompt))


# --- abandoned calls count ------------------------------------------------------------------------

def test_timed_out_call_counts_as_spent_and_is_not_retried_under_a_cap(fake_api, tmp_path):
    fake_api.script(*[Outcome.hang(10)] * 3)
    studio = studio_for(fake_api.base_url, tmp_path, max_spend_usd=1.0, timeout_s=0.3)
    request = validate("slow", model="gpt-image-2", quality="low")
    with pytest.raises(RequestTimeoutError):
        studio.generate(request)
    reserved = pricing.worst_case(MODELS["gpt-image-2"], "low", "1024x1024", request.prompt)
    assert fake_api.generation_count == 1 and studio.ledger.spent == pytest.approx(reserved)
    assert json.loads((tmp_path / LEDGER_NAME).read_text())["spent_usd"] == pytest.approx(reserved, abs=1e-6)


def test_reset_after_sending_counts_as_spent(fake_api, tmp_path):
    fake_api.script(Outcome.reset_connection())
    studio = studio_for(fake_api.base_url, tmp_path, max_spend_usd=1.0)
    with pytest.raises(ConnectionFailedError) as info:
        studio.generate(validate("reset", seed=1))
    assert info.value.abandoned and fake_api.generation_count == 1 and studio.ledger.spent == pytest.approx(0.04)


def test_connection_never_made_costs_nothing_and_is_retried(tmp_path):
    studio = studio_for(closed_port_url(), tmp_path, max_spend_usd=1.0)
    with pytest.raises(ConnectionFailedError, match="tried 3 times") as info:
        studio.generate(validate("refused"))
    assert not info.value.abandoned and studio.ledger.spent == 0


def test_without_a_cap_and_with_own_keys_timeouts_are_still_retried(fake_api, tmp_path):
    fake_api.script(*[Outcome.hang(10)] * 6)
    uncapped = studio_for(fake_api.base_url, tmp_path, timeout_s=0.3)
    with pytest.raises(RequestTimeoutError, match="tried 3 times"):
        uncapped.generate(validate("slow", seed=1))
    capped = studio_for(fake_api.base_url, tmp_path / "capped", timeout_s=0.3, max_spend_usd=1.0)
    with pytest.raises(RequestTimeoutError, match="tried 3 times"):
        capped.generate(validate("slow", seed=2), OWN_KEY)
    assert fake_api.generation_count == 6 and capped.ledger.spent == 0


# --- the ledger itself ----------------------------------------------------------------------------

def test_ledger_refuses_past_the_cap_and_survives_restart(tmp_path):
    path = tmp_path / "ledger.json"
    ledger = SpendLedger(path, cap=0.10)
    with ledger.hold(0.04) as charge:
        charge.usd = 0.04
    with ledger.hold(0.04) as charge:
        charge.usd = 0.04
    with pytest.raises(SpendCapError, match=r"\$0\.100"):
        with ledger.hold(0.04):
            pass
    assert SpendLedger(path, cap=0.10).spent == pytest.approx(0.08)


def test_ledger_failed_call_costs_nothing(tmp_path):
    ledger = SpendLedger(tmp_path / "l.json", cap=0.05)
    with pytest.raises(RuntimeError):
        with ledger.hold(0.04):
            raise RuntimeError("API failed")
    assert ledger.spent == 0
    with ledger.hold(0.04):
        pass


def test_ledger_concurrent_holds_cannot_overshoot(tmp_path):
    ledger = SpendLedger(tmp_path / "l.json", cap=0.20)
    gate = threading.Barrier(10)
    outcomes = []

    def one():
        gate.wait()
        try:
            with ledger.hold(0.04) as charge:
                charge.usd = 0.04
            outcomes.append("ok")
        except SpendCapError:
            outcomes.append("capped")

    run_concurrently(*[one] * 10)  # the barrier in ``one`` makes the ten holds start together
    assert outcomes.count("ok") == 5 and ledger.spent <= 0.20 + 1e-9
    assert json.loads((tmp_path / "l.json").read_text())["images"] == 5
