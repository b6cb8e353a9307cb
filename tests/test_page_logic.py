"""What the page shows, tested as plain functions (no browser): cost, seed control, restore, status."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from dalle3.views import studio_view, status
from dalle3.errors import ContentPolicyError
from dalle3.models import image_models
from dalle3.params import SEED_MAX, validate
from dalle3.models.pricing import Price
from dalle3.views.session import HISTORY_LIMIT, SessionState, next_seed
from dalle3.results import GenerationResult
from tests.apphelpers import running_app, app_settings


def result(prompt="a fox", seed=1, usd=0.04, cached=False, backend="openai", **kw) -> GenerationResult:
    return GenerationResult(request=validate(prompt, seed=seed, **kw),
                            path=Path(f"/srv/out/2026-11-27/a-fox_seed{seed}.png"),
                            size=(1024, 1024),
                            revised_prompt="A fox, revised", request_id="req_1", elapsed_s=12.34,
                            cost=Price(usd), backend=backend, cached=cached)


@pytest.mark.parametrize("control,seed,expected", [
    ("fixed", 5, 5), ("increment", 5, 6), ("decrement", 5, 4),
    ("increment", SEED_MAX, SEED_MAX), ("decrement", 0, 0),
])
def test_control_after_generate_moves_the_seed_like_comfyui(control, seed, expected):
    assert next_seed(seed, control) == expected


def test_randomize_gives_a_seed_in_range():
    seeds = {next_seed(5, "randomize", random.Random(i)) for i in range(20)}
    assert len(seeds) > 15 and all(0 <= s <= SEED_MAX for s in seeds)


def test_cost_line_before_the_click_and_session_total_after():
    state = SessionState()
    assert studio_view.cost_text("dall-e-3", "hd", "1792x1024", state) == \
        "This image: $0.120 · This session: $0.00 (0 images)"
    for i in range(3):
        state = state.after(result(seed=i))
    assert studio_view.cost_text("dall-e-3", "standard", "1024x1024", state).endswith("This session: $0.12 (3 images)")
    state = state.after(result(seed=0, usd=0.0, cached=True))
    assert state.images == 3 and state.spent_usd == pytest.approx(0.12)


def test_gpt_image_cost_is_marked_as_an_estimate():
    text = studio_view.cost_text("gpt-image-2", "high", "1024x1024", SessionState())
    assert "≈ $0.125 (estimate)" in text
    assert "unknown until it is made" in studio_view.cost_text("gpt-image-2", "auto", "1024x1024", SessionState())
    assert "experimental" in studio_view.cost_text("gpt-image-2", "low", "3840x2160", SessionState())


def test_history_is_newest_first_and_bounded():
    state = SessionState()
    for i in range(HISTORY_LIMIT + 5):
        state = state.after(result(prompt=f"p{i}", seed=i))
    assert len(state.history) == HISTORY_LIMIT and state.history[0].parameters["prompt"] == f"p{HISTORY_LIMIT + 4}"


def test_switching_model_keeps_nearest_settings_and_explains_style():
    view = studio_view.model_view("gpt-image-2", "hd", "1792x1024", SessionState())
    assert (view.quality, view.size, view.style_visible) == ("high", "1792x1024", False)
    assert view.profile.custom_size is not None and "WIDTHxHEIGHT (multiples of 16" in view.note
    assert "no style setting" in view.note and "hd → high" in view.note.replace("Quality ", "")
    assert "hd → high" not in studio_view.model_view("gpt-image-2", "hd", "1792x1024", SessionState(), remapped=False).note
    back = studio_view.model_view("dall-e-3", "high", "1536x864", SessionState())
    assert (back.quality, back.size, back.style_visible) == ("standard", "1024x1024", True)


def test_model_choices_mark_retired_and_endpoint_status():
    labels = dict((v, k) for k, v in studio_view.model_choices())
    assert "retired 2026-05-12" in labels["dall-e-3"]
    offered = image_models([{"id": "gpt-image-2"}, {"id": "gpt-image-2.7-flare"},
                                 {"id": "gpt-image-1.5", "shutdown_date": "2026-12-01"}, {"id": "gpt-5"}])
    labels = dict((v, k) for k, v in studio_view.model_choices(offered, today=dt.date(2026, 11, 30)))
    assert "not offered by this endpoint" in labels["dall-e-3"]
    assert "not offered" not in labels["gpt-image-2"]
    assert "rules assumed from the gpt-image-2 family" in labels["gpt-image-2.7-flare"]
    assert "retires 2026-12-01" in labels["gpt-image-1.5"]
    assert "gpt-5" not in labels  # not an image model


def test_restore_checks_settings_against_the_table():
    restored = studio_view.restore({"prompt": "a fox", "seed": 9, "quality": "hd", "style": "vivid",
                             "size": "1792x1024", "model": "dall-e-3"})
    r = restored.request
    assert (r.prompt, r.seed, r.quality, r.style, r.size) == ("a fox", 9, "hd", "vivid", "1792x1024")
    assert studio_view.restore({"prompt": "a fox", "seed": -5}) is None
    assert studio_view.restore(None) is None
    gpt = studio_view.restore({"prompt": "x", "model": "gpt-image-2.6-flare", "quality": "low", "complexity": "medium"})
    assert gpt.request.options["complexity"] == "medium" and gpt.request.style is None


def test_status_success_has_revised_prompt_time_cost_and_request_id():
    text = status.success(result())
    assert "Revised prompt: A fox, revised" in text.replace("\\", "")
    assert "12.3 s" in text and "cost $0.040" in text and "request `req_1`" in text
    assert "Saved as `2026-11-27/a-fox_seed1.png`" in text and "/srv/out" not in text
    cached = status.success(result(cached=True, usd=0.0))
    assert "returned from cache, no charge" in cached


def test_status_failure_is_the_plain_message_with_its_details():
    text = status.failure(ContentPolicyError("Rephrase it.", http_status=400, code="content_policy_violation",
                                             request_id="req_9"))
    assert text.startswith("**Prompt rejected by the safety system.** Rephrase it")
    assert "HTTP 400" in text and "content\\_policy\\_violation" in text


def test_offline_mode_without_key_generates_free_marked_images(tmp_path):
    with running_app(app_settings("http://127.0.0.1:9/v1", tmp_path, api_key=None)) as handle:
        path, text, _ = handle.predict_once(prompt="offline fox", seed=4)
    assert "Offline simulator" in text and "no charge" in text
    assert Path(path).stat().st_size > 1000


def test_banner_says_where_images_come_from_and_never_shows_the_key():
    from dalle3.settings import Settings

    assert "no API key is configured" in studio_view.banner_text(Settings())
    assert "DALLE3_OFFLINE=1" in studio_view.banner_text(Settings(api_key="sk-abc-SECRET", offline=True))
    served = studio_view.banner_text(Settings(api_key="sk-abc-SECRET", max_spend_usd=5.0))
    assert "Server key configured" in served and "$5.00" in served and "SECRET" not in served


def test_switch_offer_names_the_settings_it_will_use():
    assert studio_view.switch_label("gpt-image-2", "hd", "1792x1024") == \
        "Switch to gpt-image-2 (quality high, size 1792x1024; style has no counterpart)"


def test_cost_line_explains_an_invalid_size_instead_of_pricing_it():
    text = studio_view.cost_text("gpt-image-2", "medium", "1000x1000", SessionState())
    assert text.startswith("This image: no price — Size 1000x1000") and "multiples of 16" in text
    assert "$" not in text.split("·")[0]



def _call_writer(fn, data: dict) -> list[dict]:
    """Every update one page handler returns for ``data`` (a select event picks the first image)."""
    import inspect

    import gradio as gr

    special = {"evt": gr.SelectData(None, {"index": 0, "value": None}), "request": gr.Request(session_hash="cost")}
    names = list(inspect.signature(fn.fn).parameters)
    wanted = {p: special[p] for p in names[1:] if p in special}
    given = [data] if fn.inputs_as_dict else [data[b] for b in fn.inputs]  # inputs as a set, or a list
    answer = fn.fn(*given, **wanted)
    return list(answer) if inspect.isgenerator(answer) else [answer]


def test_every_writer_of_the_cost_line_prices_the_click_free_in_the_simulator(tmp_path):
    """The cost line has one owner: every event that writes it (an option, the size offer, the switch,
    Generate, what the click adds, the reference buttons, restore from history, a file or the library)
    writes the whole click's price, marked free in the simulator, never a one-image OpenAI price that
    another event corrects a round trip later."""
    import gradio as gr
    from PIL import Image

    from dalle3 import Settings, Studio
    from dalle3.files.metadata import read_parameters
    from dalle3.views.glance import FREE_NOTE
    from tests.apphelpers import app

    settings = Settings(offline=True, output_dir=tmp_path)
    studio = Studio(settings, library=app.open_library(settings, "127.0.0.1"))
    demo = app.build(studio)
    blocks = {b.elem_id: b for b in demo.blocks.values() if getattr(b, "elem_id", None)}
    made = studio.generate(validate("a fox", model="gpt-image-2"))
    reference = tmp_path / "reference.png"
    Image.new("RGB", (1024, 1024)).save(reference)
    writers = [fn for fn in demo.fns.values() if fn.fn is not None and blocks["cost"] in fn.outputs]
    session = next(b for fn in writers for b in fn.inputs if isinstance(getattr(b, "value", None), SessionState))
    # the click: 3 images from a 1024x1024 reference
    click = {blocks["n"]: 3, blocks["references"]: [str(reference)], blocks["model"]: "gpt-image-2",
             blocks["quality"]: "medium", blocks["size"]: "1024x1024", blocks["prompt"]: "a fox",
             blocks["result"]: str(made.path), blocks["upload"]: str(made.path), blocks["lib_image"]: str(made.path),
             session: SessionState().after(made)}
    # each State without a value is what that handler was given: a successor, the picked image, the library's pick
    given = {"on_switch": "gpt-image-2", "on_use_history": 0, "on_restore": read_parameters(made.path)}
    switching = {"on_switch", "<lambda>:click", "on_use_history", "on_use"}  # from a model that cannot edit
    wrote: dict[str, list[str]] = {}
    for fn in writers:
        name = fn.fn.__name__
        key = f"{name}:{fn.targets[0][1]}" if name == "<lambda>" else name
        data = {b: click.get(b, b.value) for b in fn.inputs}
        data.update({b: given.get(name) for b in fn.inputs if isinstance(b, gr.State) and b.value is None})
        if key in switching:
            data[blocks["model"]] = "dall-e-3"
        if name == "on_size_fix":
            data[blocks["size"]] = "1920x1080"
        for updates in _call_writer(fn, data):
            if blocks["cost"] in updates:
                wrote.setdefault(key, []).append(updates[blocks["cost"]])
    assert set(wrote) == {"on_model", "<lambda>:input", "on_setting", "on_size_fix", "on_switch", "on_generate",
                          "on_click_change", "<lambda>:click", "on_use_history", "on_use", "on_history",
                          "on_upload", "on_restore", "on_references"}  # all but refresh_models (nothing offline)
    # restoring a plain image clears the references; history and a dropped file restore its n, the library keeps n
    restored = {"on_history": "This image: ", "on_upload": "This image: ", "on_restore": "This click (3 images): "}
    for key, texts in wrote.items():
        for text in texts:
            assert text.startswith(restored.get(key, "This click (3 images from ")), (key, text)
            assert FREE_NOTE in text and "(on OpenAI: " in text, (key, text)
