"""The model table: sizes, prefixes, successors — rules as data."""

import datetime as dt

import pytest

from dalle3 import Settings, Studio
from dalle3.models.text import models_text
from dalle3.models import (ALL_EXTRAS, GPT_IMAGE_2, MODELS, closest_quality_and_size, display_date,
                           image_models, is_experimental, resolve, size_problem)
from dalle3.views.studio_view import model_label


@pytest.mark.parametrize("size", ["1024x1024", "1536x1024", "1024x1536", "auto", "1536x864",
                                  "1024x1792", "3840x2160", "2048x2048"])
def test_gpt_image_2_accepts_presets_and_valid_custom_sizes(size):
    assert size_problem(GPT_IMAGE_2, size) is None


@pytest.mark.parametrize("size,reason", [
    ("1000x1000", "multiples of 16"),
    ("4096x1024", "at most 3840"),
    ("3200x1008", "1:3 and 3:1"),
    ("640x640", "655,360"),
    ("big", "WIDTHxHEIGHT"),
])
def test_gpt_image_2_refuses_bad_custom_sizes_with_the_rule(size, reason):
    assert reason in size_problem(GPT_IMAGE_2, size)


def test_sizes_above_2560x1440_are_experimental():
    assert is_experimental(GPT_IMAGE_2, "3840x2160")
    assert not is_experimental(GPT_IMAGE_2, "2560x1440")


def test_every_profile_cites_sources_and_marks_uncertainty():
    for profile in MODELS.values():
        assert profile.sources
        assert {s.confidence for s in profile.sources} <= {"confirmed", "estimate", "unconfirmed"}
    assert any(s.confidence == "unconfirmed" for s in GPT_IMAGE_2.sources)


def test_unknown_id_with_family_prefix_borrows_family_rules():
    future = resolve("gpt-image-2.7-flare")
    assert future is not None and future.assumed_from == "gpt-image-2"
    assert "rules assumed from the gpt-image-2 family" in future.note
    assert "complexity" in resolve("gpt-image-2.6-turbo").extras
    assert resolve("stable-diffusion") is None


def test_closest_settings_maps_dalle3_values_to_the_successor():
    successor = MODELS[MODELS["dall-e-3"].successor]
    assert closest_quality_and_size(successor, "hd", "1792x1024") == ("high", "1792x1024")
    assert closest_quality_and_size(successor, "standard", "1024x1024") == ("medium", "1024x1024")


def _choice_values(choices) -> set[str]:
    return {value if not isinstance(value, (tuple, list)) else value[1] for value in choices}


def test_page_choices_cover_every_models_values(tmp_path):
    """Drive the built page's own Model handler for every model: it offers exactly that model's values."""
    from tests.apphelpers import app  # sets Gradio's test environment before importing it

    demo = app.build(Studio(Settings(offline=True, output_dir=tmp_path)))
    blocks = {b.elem_id: b for b in demo.blocks.values() if getattr(b, "elem_id", None)}
    model_box = blocks["model"]
    assert set(MODELS) <= _choice_values(model_box.choices)  # the Model dropdown offers every model
    (on_model,) = [fn for fn in demo.fns.values() if (model_box._id, "input") in map(tuple, fn.targets)]
    for model_id, profile in MODELS.items():
        data = {c: c.value for c in on_model.inputs}
        updates = on_model.fn({**data, model_box: model_id})
        got = {getattr(c, "elem_id", None): u for c, u in updates.items()}
        assert _choice_values(got["quality"]["choices"]) == set(profile.qualities), model_id
        assert _choice_values(got["size"]["choices"]) >= set(profile.sizes), model_id
        assert got["style"]["visible"] == bool(profile.styles), model_id
        assert set(profile.styles) <= _choice_values(blocks["style"].choices), model_id
        for name in ALL_EXTRAS:
            offered = got[name].get("choices") if got[name].get("visible") else []
            assert set(profile.extras.get(name, ())) <= _choice_values(offered or []), (model_id, name)


@pytest.mark.parametrize("value,shown", [
    ("2026-12-01", "2026-12-01"),  # the SDK's Model type: a string
    ("2026-12-01T00:00:00Z", "2026-12-01"),
    (1796083200, "2026-12-01"),  # a Unix time, as compatible endpoints send
    (1796083200.75, "2026-12-01"),
    (None, None), ("", None), ("soon", None), ("2026-13-40", None), ("<b>2026-12-01</b>", None),
    (True, None), (-1, None), (float("nan"), None), (10**20, None), (["2026-12-01"], None),
])
def test_listed_shutdown_dates_show_as_iso_days_and_junk_is_ignored(value, shown):
    assert display_date(value) == shown


def test_a_unix_shutdown_date_reaches_the_page_label_and_the_cli_as_a_day():
    offered = {"gpt-image-1.5": {"id": "gpt-image-1.5", "shutdown_date": 1796083200},
               "gpt-image-2.9-x": {"id": "gpt-image-2.9-x", "shutdown_date": 1796083200.0}}
    before = dt.date(2026, 11, 30)  # the day before that shutdown
    assert model_label(MODELS["gpt-image-1.5"], offered, today=before).endswith("retires 2026-12-01")
    assert model_label(resolve("gpt-image-2.9-x"), offered, today=before).count("retires 2026-12-01") == 1
    assert "status:    deprecated, retires 2026-12-01" in models_text(offered, today=before)
    assert "gpt-image-2.9-x, retires 2026-12-01:" in models_text(offered, today=before)
    listed = image_models([{"id": "gpt-image-1.5", "shutdown_date": 1796083200}, {"id": "gpt-image-2",
                           "shutdown_date": "2026-12-01T00:00:00Z"}, {"id": "gpt-image-1", "shutdown_date": "soon"}])
    assert listed == {"gpt-image-1.5": {"id": "gpt-image-1.5", "shutdown_date": "2026-12-01"},
                      "gpt-image-2": {"id": "gpt-image-2", "shutdown_date": "2026-12-01"},
                      "gpt-image-1": {"id": "gpt-image-1"}}  # the discovery path keeps days, drops junk
    junk = {"gpt-image-1.5": {"id": "gpt-image-1.5", "shutdown_date": "<script>"}}
    assert "<script>" not in model_label(MODELS["gpt-image-1.5"], junk) + models_text(junk)
