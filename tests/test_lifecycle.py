"""Lifecycles by the calendar: a model is shut down from its shutdown day on, without a release."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from dalle3 import Studio
from dalle3.models import lifecycle
from dalle3.views import studio_view
from dalle3.http.client import ImagesClient
from dalle3.errors import ModelUnavailableError
from dalle3.models import MODELS, resolve
from dalle3.params import validate
from dalle3.settings import Settings
from tests.apphelpers import app_settings, running_app

EVE, DAY = dt.date(2026, 11, 30), dt.date(2026, 12, 1)  # the eve of gpt-image-1.5's shutdown, and the day
OPENAI = Settings(api_key="sk-test-0123456789", base_url="https://api.openai.com/v1", default_model="gpt-image-1.5")


@pytest.mark.parametrize("model_id", ["gpt-image-1.5", "gpt-image-1-mini", "chatgpt-image-latest"])
def test_the_december_models_are_deprecated_on_the_eve_and_shut_down_from_the_day(model_id):
    profile = MODELS[model_id]
    assert profile.shutdown == "2026-12-01" and profile.successor == "gpt-image-2"
    assert lifecycle.status(profile, today=EVE) == "deprecated"
    assert lifecycle.status(profile, today=DAY) == "retired"
    assert studio_view.model_label(profile, today=EVE).endswith("retires 2026-12-01")
    assert studio_view.model_label(profile, today=DAY).endswith("retired 2026-12-01")


def test_an_endpoints_shutdown_date_counts_from_its_day_too():
    listing = {"gpt-image-2": {"id": "gpt-image-2", "shutdown_date": "2027-03-01"}}
    assert studio_view.model_label(MODELS["gpt-image-2"], listing, today=dt.date(2027, 2, 28)).endswith("retires 2027-03-01")
    assert "retired 2027-03-01" in studio_view.model_label(MODELS["gpt-image-2"], listing,
                                                              today=dt.date(2027, 3, 1))


def test_an_unlisted_snapshot_goes_with_its_shut_down_family_and_a_live_familys_stays_live():
    snapshot = resolve("gpt-image-1.5-2025-12-16")
    assert lifecycle.status(snapshot, today=DAY) == "retired" and snapshot.successor == "gpt-image-2"
    assert lifecycle.status(resolve("gpt-image-2.9-x"), today=DAY) == "active"


def test_chatgpt_image_latest_is_driven_with_first_generation_rules():
    request = validate("a fox", seed=1, quality="high", size="1536x1024", model="chatgpt-image-latest")
    assert request.model == "chatgpt-image-latest"
    assert resolve("chatgpt-image-latest").custom_size is None


def test_a_shut_down_model_is_never_the_starting_model_on_openai():
    assert studio_view.start_model("gpt-image-1.5", None, today=EVE) == ("gpt-image-1.5", None)
    assert studio_view.start_model("gpt-image-1.5", None, today=DAY) == (
        "gpt-image-2", "gpt-image-1.5 was shut down on 2026-12-01; using gpt-image-2.")
    view = studio_view.starting_view(OPENAI, today=DAY)
    assert view.profile.id == "gpt-image-2"
    assert view.note.startswith("gpt-image-1.5 was shut down on 2026-12-01; using gpt-image-2.")
    assert studio_view.starting_view(OPENAI, today=EVE).profile.id == "gpt-image-1.5"


def test_a_listing_that_still_dates_the_model_past_its_day_moves_the_page_on():
    listing = {"gpt-image-1.5": {"id": "gpt-image-1.5", "shutdown_date": "2026-12-01"},
               "gpt-image-2": {"id": "gpt-image-2"}}
    assert studio_view.start_model("gpt-image-1.5", listing, today=EVE) == ("gpt-image-1.5", None)
    assert studio_view.start_model("gpt-image-1.5", listing, today=DAY)[0] == "gpt-image-2"
    # a compatible server that lists a model with no shutdown date still serves it
    assert studio_view.start_model("dall-e-3", {"dall-e-3": {"id": "dall-e-3"}}, today=DAY) == ("dall-e-3", None)


def test_picking_a_shut_down_model_offers_its_successor_before_any_call():
    view = studio_view.model_view("gpt-image-1-mini", "high", "1024x1536", studio_view.SessionState(), today=DAY)
    assert view.successor == "gpt-image-2"
    assert "OpenAI retired gpt-image-1-mini on 2026-12-01" in view.note
    assert view.note.endswith("Its successor is gpt-image-2.")
    view_eve = studio_view.model_view("gpt-image-1-mini", "high", "1024x1536", studio_view.SessionState(), today=EVE)
    assert view_eve.successor is None
    assert studio_view.switch_label(view.successor, view.quality, view.size).startswith("Switch to gpt-image-2")


def test_the_api_default_on_a_compatible_server_keeps_a_model_it_lists_undated(fake, tmp_path):
    """The fake lists dall-e-3 with no shutdown date: there the configured model is served."""
    with running_app(app_settings(fake.base_url, tmp_path, default_model="dall-e-3")) as handle:
        _, _, facts = handle.predict_once(prompt="a lighthouse")
    assert fake.requests[-1].json["model"] == "dall-e-3" and facts["model"] == "dall-e-3"


def test_on_openais_api_a_shut_down_model_is_refused_before_any_call(fake, tmp_path):
    """Settings name OpenAI's API (where the calendar decides); the client is pointed at the fake to count calls."""
    settings = replace(app_settings("https://api.openai.com/v1", tmp_path), default_model="gpt-image-2")
    studio = Studio(settings, client=ImagesClient(replace(settings, base_url=fake.base_url)))
    fake.reset()
    with pytest.raises(ModelUnavailableError) as refused:
        studio.generate(validate("a fox", seed=1, quality="low", size="1024x1024", model="gpt-image-1.5"))
    assert refused.value.successor == "gpt-image-2" and "2026-12-01" in refused.value.user_message
    assert fake.requests == []
    studio.generate(validate("a fox", seed=1, quality="low", size="1024x1024", model="gpt-image-2"))
    assert [r.json["model"] for r in fake.requests] == ["gpt-image-2"]
