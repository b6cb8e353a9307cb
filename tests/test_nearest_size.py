"""A refused size names the nearest allowed one, on every door; nothing changes a size unasked."""

from __future__ import annotations

import pytest

from dalle3 import ValidationError, validate
from dalle3.views import studio_view
from dalle3.models import MODELS, nearest_size, size_problem
from dalle3.views.session import SessionState
from tests.test_cli import run_cli

GPT_IMAGE_2 = MODELS["gpt-image-2"]


@pytest.mark.parametrize(("model", "asked", "nearest"), [
    ("gpt-image-2", "1920x1080", "1920x1088"),   # multiples of 16: a tie (1072/1088) goes up
    ("gpt-image-2", "4000x2000", "3840x2000"),   # the long edge
    ("gpt-image-2", "100x100", "816x816"),       # the fewest pixels allowed
    ("gpt-image-2", "4000x800", "3840x1280"),    # 3:1 at most
    ("dall-e-3", "1920x1080", "1792x1024"),      # presets only
    ("gpt-image-1", "1000x1000", "1024x1024"),
])
def test_the_nearest_allowed_size_is_allowed_and_named(model, asked, nearest):
    profile = MODELS[model]
    assert nearest_size(profile, asked) == nearest
    assert size_problem(profile, nearest) is None
    assert size_problem(profile, asked).endswith(f" {nearest} is the nearest allowed.")


def test_allowed_and_unreadable_sizes_get_no_suggestion():
    assert nearest_size(GPT_IMAGE_2, "1920x1088") is None and size_problem(GPT_IMAGE_2, "1920x1088") is None
    assert nearest_size(GPT_IMAGE_2, "big") is None
    assert "nearest" not in size_problem(GPT_IMAGE_2, "big")


def test_the_python_api_refuses_and_suggests_never_snaps():
    with pytest.raises(ValidationError) as info:
        validate("a harbour", size="1920x1080", model="gpt-image-2")
    assert info.value.user_message == ("Size 1920x1080: width and height must both be multiples of 16. "
                                       "1920x1088 is the nearest allowed.")


def test_the_cost_line_names_the_nearest_size_and_the_page_offers_it():
    line = studio_view.cost_text("gpt-image-2", "medium", "1920x1080", SessionState())
    assert line.startswith("This image: no price — Size 1920x1080") and "1920x1088 is the nearest allowed" in line
    assert studio_view.size_offer("gpt-image-2", "1920x1080") == "1920x1088"
    assert studio_view.size_offer_label("1920x1088") == "Use 1920x1088, the nearest allowed size"
    assert studio_view.size_offer("gpt-image-2", "1920x1088") is None and studio_view.size_offer("gpt-image-2", None) is None


def test_the_cli_prints_the_suggestion_and_makes_nothing(tmp_path):
    done = run_cli(tmp_path, "a harbour", "--model", "gpt-image-2", "--size", "1920x1080", "--offline")
    assert done.returncode == 1 and done.stdout == ""
    assert "1920x1088 is the nearest allowed." in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.png"))


def test_the_page_button_takes_the_offer_in_one_click(tmp_path):
    from dalle3 import Settings, Studio
    from tests.apphelpers import app

    demo = app.build(Studio(Settings(offline=True, output_dir=tmp_path)))
    handlers = {fn.fn.__name__: fn for fn in demo.fns.values() if fn.fn is not None}
    on_setting, on_fix = handlers["on_setting"], handlers["on_size_fix"]
    by_id = {getattr(block, "elem_id", None): block for block in demo.blocks.values()}
    model, size, quality, button = by_id["model"], by_id["size"], by_id["quality"], by_id["size-fix"]
    defaults = {b: b.value for b in on_fix.inputs}  # what the page starts with: n, references, the own key, the session
    data = {**defaults, model: "gpt-image-2", size: "1920x1080", quality: "medium"}
    shown = on_setting.fn(data)
    assert shown[button]["visible"] is True and shown[button]["value"] == "Use 1920x1088, the nearest allowed size"
    taken = on_fix.fn(data)
    assert taken[size] == "1920x1088" and taken[button]["visible"] is False
    assert taken[by_id["cost"]].startswith("This image: free in the offline simulator (on OpenAI: ≈ $")
    assert on_setting.fn({**data, size: "1920x1088"})[button]["visible"] is False
