"""The page in a real browser (headless Chromium through Playwright), against the loopback fake API.

Each test looks at what a person would see: the cost line, the picture and its size, the
status words, the seed box, the history strip, the offline banner. One app (and one
browser) per module; one fresh page (a new Gradio session) per test. A failing test leaves
``test-output/screenshots/<test>.png``; the happy path saves ``test-output/screenshot.png``
(``docs/screenshot.png`` with ``DALLE3_UPDATE_SCREENSHOT=1``).
"""

from __future__ import annotations

import os

import pytest
from PIL import Image

from tests.apphelpers import app_settings, running_app
from tests.browser_support import (REPO, SCREENSHOTS, VIEWPORT, assert_no_error_shown, choose_dropdown, choose_radio,
                                   new_page, image_src, markdown, open_part, radio_choices,
                                   radio_value, result_image, run_generation, served_page, text_input, upload_input,
                                   wait_image_loaded)
from tests.fake_openai import Outcome

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture says what is missing
    expect = None

# The README's screenshot is refreshed on request only, so a test run leaves the checkout clean.
DOCS_SCREENSHOT = (REPO / "docs" if os.environ.get("DALLE3_UPDATE_SCREENSHOT") == "1"
                   else REPO / "test-output") / "screenshot.png"


# --- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    with served_page(app_settings(fake.base_url, tmp_path_factory.mktemp("outputs"))) as handle:
        yield handle


@pytest.fixture(scope="module")
def offline_served(fake, tmp_path_factory):
    with served_page(app_settings(fake.base_url, tmp_path_factory.mktemp("offline"), api_key=None)) as handle:
        yield handle


@pytest.fixture
def page(browser, fake, request):
    """A new page (a new Gradio session); screenshot kept if the test fails."""
    fake.reset()
    fake.retired_models = set()
    fake.default_delay_s = 0.0
    try:
        yield new_page(browser, request, viewport=VIEWPORT, timeout_ms=15_000)
    finally:
        fake.retired_models = set()


def open_app(pg, url: str):
    pg.goto(url)
    expect(pg.locator("#generate")).to_be_visible(timeout=30_000)  # a busy machine loads slowly
    expect(text_input(pg, "prompt")).to_be_editable()
    open_part(pg, "options")  # the settings are folded under Generate; these tests change them
    expect(pg.locator("#model")).to_be_visible(timeout=15_000)
    return pg


@pytest.fixture
def studio(page, served):
    """The page of the app that talks to the fake, loaded."""
    return open_app(page, served.url)


def generate_one(pg, prompt: str) -> str:
    text_input(pg, "prompt").fill(prompt)
    status = run_generation(pg)
    assert "Done" in status, status
    wait_image_loaded(pg)
    return status


# --- tests ----------------------------------------------------------------------------------------

def test_happy_path_generates_shows_costs_history_and_restores(studio, fake):
    pg = studio
    prompt = "A lighthouse on a basalt cliff at dusk, long exposure"
    text_input(pg, "prompt").fill(prompt)
    expect(markdown(pg, "char_count")).to_have_text(f"{len(prompt)} / 4000")
    text_input(pg, "prompt").press("End")
    text_input(pg, "prompt").press("Backspace")  # no keypress event: the count must follow anyway
    expect(markdown(pg, "char_count")).to_have_text(f"{len(prompt) - 1} / 4000")
    text_input(pg, "prompt").fill(prompt)
    text_input(pg, "seed").fill("5")
    choose_radio(pg, "seed_control", "increment")
    choose_radio(pg, "quality", "hd")
    choose_radio(pg, "style", "vivid")
    choose_dropdown(pg, "size", "1792x1024")
    expect(text_input(pg, "size")).to_have_value("1792x1024")
    expect(markdown(pg, "cost")).to_contain_text("This image: $0.120")

    status = run_generation(pg)
    size = wait_image_loaded(pg)
    assert (size["w"], size["h"]) == (1792, 1024)
    assert "Revised prompt: Revised: A lighthouse on a basalt cliff" in status
    assert "$0.120" in status
    body = fake.requests[-1].json
    assert (body["quality"], body["style"], body["size"], body["prompt"]) == ("hd", "vivid", "1792x1024", prompt)
    assert fake.generation_count == 1
    expect(text_input(pg, "seed")).to_have_value("6")
    expect(markdown(pg, "cost")).to_contain_text("This session: $0.12 (1 image)")
    thumbs = pg.locator("#history button.thumbnail-item")
    expect(thumbs).to_have_count(1)
    wait_image_loaded(pg, "#history button.thumbnail-item img")
    expect(pg.locator("#generate")).to_be_enabled()
    assert_no_error_shown(pg)

    DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(DOCS_SCREENSHOT), full_page=True)

    # Change things, then click the thumbnail: its settings come back.
    text_input(pg, "prompt").fill("something else entirely")
    choose_radio(pg, "quality", "standard")
    expect(markdown(pg, "cost")).to_contain_text("This image: $0.080")
    thumbs.first.click()
    expect(markdown(pg, "status")).to_contain_text("Settings restored from the history")
    expect(text_input(pg, "prompt")).to_have_value(prompt)
    expect(pg.locator("#quality input[value=hd]")).to_be_checked()
    expect(pg.locator("#style input[value=vivid]")).to_be_checked()
    expect(text_input(pg, "size")).to_have_value("1792x1024")
    expect(text_input(pg, "seed")).to_have_value("5")
    expect(markdown(pg, "cost")).to_contain_text("This image: $0.120 · This session: $0.12 (1 image)")
    assert fake.generation_count == 1  # restoring is free
    assert_no_error_shown(pg)


def test_upload_of_an_app_png_restores_its_settings(studio, served):
    path, _, _ = served.predict_once(prompt="A copper teapot on a linen cloth", seed=42, quality="hd", style="vivid",
                                  size="1024x1792")
    pg = studio
    upload_input(pg).set_input_files(path)
    expect(markdown(pg, "status")).to_contain_text("Settings restored from the dropped image")
    expect(text_input(pg, "prompt")).to_have_value("A copper teapot on a linen cloth")
    expect(text_input(pg, "seed")).to_have_value("42")
    expect(pg.locator("#quality input[value=hd]")).to_be_checked()
    expect(pg.locator("#style input[value=vivid]")).to_be_checked()
    expect(text_input(pg, "size")).to_have_value("1024x1792")
    expect(markdown(pg, "cost")).to_contain_text("This image: $0.120")
    assert_no_error_shown(pg)


def test_upload_of_a_gpt_image_png_switches_the_controls_to_that_model(studio, served, fake):
    """Restoring settings of another model family: the quality choices must follow the model."""
    path, _, _ = served.predict_once(prompt="A poster of a comet", seed=7, model="gpt-image-2", quality="high",
                                  size="1536x1024", background="opaque")
    pg = studio
    upload_input(pg).set_input_files(path)
    expect(markdown(pg, "status")).to_contain_text("Settings restored from the dropped image")
    expect(text_input(pg, "model")).to_have_value("GPT Image 2 (gpt-image-2)")
    expect(pg.locator("#quality input[value=high]")).to_be_checked()
    assert radio_choices(pg, "quality") == ["low", "medium", "high", "auto"]
    expect(pg.locator("#style")).to_be_hidden()
    expect(text_input(pg, "size")).to_have_value("1536x1024")
    expect(text_input(pg, "background")).to_have_value("opaque")
    expect(markdown(pg, "char_count")).to_have_text("19 / 32000")
    # and the restored settings generate as they are (same inputs: from the cache, no new request)
    fake.reset()
    status = run_generation(pg)
    assert "Done" in status and "gpt-image-2" in status, status
    assert "returned from cache" in status, status
    assert fake.generation_count == 0
    assert_no_error_shown(pg)


def test_upload_of_a_png_without_settings_says_so(studio, tmp_path):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (64, 48), (200, 40, 40)).save(plain)
    pg = studio
    text_input(pg, "prompt").fill("keep me")
    upload_input(pg).set_input_files(str(plain))
    expect(markdown(pg, "status")).to_contain_text("No dalle3 studio settings found")
    expect(text_input(pg, "prompt")).to_have_value("keep me")
    assert radio_value(pg, "quality") == "standard"
    assert_no_error_shown(pg)


def test_content_policy_error_keeps_the_previous_image(studio, fake):
    pg = studio
    generate_one(pg, "A quiet mountain lake in the morning")
    before = image_src(pg)
    assert before
    fake.script(Outcome.content_policy())
    text_input(pg, "prompt").fill("A prompt the safety system dislikes")
    status = run_generation(pg)
    assert "safety system" in status, status
    assert fake.generation_count == 2
    expect(result_image(pg)).to_be_visible()
    assert image_src(pg) == before
    expect(markdown(pg, "cost")).to_contain_text("This session: $0.04 (1 image)")
    expect(pg.locator("#generate")).to_be_enabled()
    expect(pg.locator("#switch_model")).to_be_hidden()
    assert_no_error_shown(pg)


def test_ctrl_enter_in_the_prompt_generates(studio, fake):
    pg = studio
    expect(pg.locator("body[data-studio-ready]")).to_have_count(1)  # the page's shortcut is installed
    box = text_input(pg, "prompt")
    box.fill("A paper boat on a puddle")
    box.focus()
    status = run_generation(pg, trigger=lambda: box.press("Control+Enter"))
    assert "Done" in status
    wait_image_loaded(pg)
    assert fake.generation_count == 1
    expect(box).to_have_value("A paper boat on a puddle")  # no newline typed
    assert_no_error_shown(pg)


def test_offline_banner_and_simulated_image(page, offline_served, fake):
    pg = open_app(page, offline_served.url)
    expect(markdown(pg, "banner")).to_contain_text("Offline simulator")
    text_input(pg, "prompt").fill("A cardboard robot waving")
    status = run_generation(pg)
    size = wait_image_loaded(pg)
    assert (size["w"], size["h"]) == (1024, 1024)
    assert "Simulated" in status and "Offline simulator" in status and "no charge" in status, status
    assert fake.generation_count == 0
    expect(markdown(pg, "cost")).to_contain_text("This session: $0.00")
    assert_no_error_shown(pg)


def test_switching_to_a_gpt_image_model_changes_the_controls(studio, fake):
    pg = studio
    expect(pg.locator("#style")).to_be_visible()
    assert radio_choices(pg, "quality") == ["standard", "hd"]
    choose_radio(pg, "quality", "hd")
    expect(markdown(pg, "cost")).to_contain_text("This image: $0.080")
    choose_dropdown(pg, "model", "(gpt-image-2)")
    expect(pg.locator("#style")).to_be_hidden()
    expect(pg.locator("#quality input[value=low]")).to_have_count(1)
    assert radio_choices(pg, "quality") == ["low", "medium", "high", "auto"]
    expect(pg.locator("#quality input[value=high]")).to_be_checked()
    expect(markdown(pg, "char_count")).to_contain_text("/ 32000")
    # The choices sent to the page are accepted back by Gradio: a generation goes through.
    text_input(pg, "prompt").fill("A neon sign reading OPEN")
    choose_radio(pg, "quality", "medium")
    status = run_generation(pg)
    assert "Done" in status and "gpt-image-2" in status, status
    body = fake.requests[-1].json
    assert (body["model"], body["quality"]) == ("gpt-image-2", "medium") and "style" not in body
    # Back to DALL·E 3 with the keyboard: filter, Enter.
    text_input(pg, "model").click()
    text_input(pg, "model").fill("dall-e-3")
    text_input(pg, "model").press("Enter")
    expect(pg.locator("#style")).to_be_visible()
    expect(pg.locator("#quality input[value=hd]")).to_have_count(1)
    assert radio_choices(pg, "quality") == ["standard", "hd"]
    expect(pg.locator("#quality input[value=standard]")).to_be_checked()  # medium's nearest
    expect(markdown(pg, "char_count")).to_contain_text("/ 4000")
    assert_no_error_shown(pg)


def test_retired_model_offers_a_switch_to_its_successor(studio, fake):
    fake.retired_models = {"dall-e-3"}
    pg = studio
    choose_radio(pg, "quality", "hd")
    expect(markdown(pg, "cost")).to_contain_text("This image: $0.080")
    text_input(pg, "prompt").fill("An old brass compass")
    status = run_generation(pg)
    assert "2026-05-12" in status, status
    switch = pg.locator("#switch_model")
    expect(switch).to_be_visible()
    expect(switch).to_contain_text("gpt-image-2")
    expect(result_image(pg)).to_have_count(0)
    switch.click()
    expect(text_input(pg, "model")).to_have_value("GPT Image 2 (gpt-image-2)")
    expect(pg.locator("#quality input[value=high]")).to_be_checked()
    expect(markdown(pg, "status")).to_contain_text("Switched to gpt-image-2: quality hd → high")
    expect(switch).to_be_hidden()
    expect(pg.locator("#style")).to_be_hidden()
    assert radio_choices(pg, "quality") == ["low", "medium", "high", "auto"]
    expect(markdown(pg, "char_count")).to_contain_text("/ 32000")
    status = run_generation(pg)
    assert "Done" in status and "gpt-image-2" in status, status
    body = fake.requests[-1].json
    assert (body["model"], body["quality"]) == ("gpt-image-2", "high") and "style" not in body
    expect(markdown(pg, "cost")).to_contain_text("(1 image)")
    assert_no_error_shown(pg)


def test_own_key_typed_in_the_page_is_used_and_never_stored_by_the_browser(studio, fake):
    """The visitor's key reaches the API for their requests only; localStorage and the page never keep it."""
    pg = studio
    own_key = "sk-own-BROWSERSECRET-k3y9"
    pg.get_by_text("Your OpenAI API key", exact=True).first.click()  # open the accordion
    key_box = pg.locator("#api_key input")
    key_box.fill(own_key)
    key_box.blur()
    generate_one(pg, "A kite over a windy beach")
    assert fake.requests[-1].headers["authorization"] == f"Bearer {own_key}"
    stored = pg.evaluate("() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})")
    assert "BROWSERSECRET" not in stored
    assert "BROWSERSECRET" not in markdown(pg, "status").inner_text()
    assert "BROWSERSECRET" not in pg.locator("#history").inner_html()
    assert_no_error_shown(pg)


def test_seed_out_of_range_is_explained_in_the_status_and_nothing_is_sent(studio, fake):
    pg = studio
    text_input(pg, "prompt").fill("A quiet pond")
    text_input(pg, "seed").fill("-1")
    status = run_generation(pg)
    assert "0 to 2147483647" in status and fake.generation_count == 0
    assert_no_error_shown(pg)


# --- first contact --------------------------------------------------------------------------------

@pytest.fixture
def without_default(fake, tmp_path):
    """An app whose endpoint lists no dall-e-3 (as OpenAI today), started fresh so it asks anew."""
    listed = fake.models
    fake.models = [m for m in listed if m["id"] != "dall-e-3"]
    try:
        with served_page(app_settings(fake.base_url, tmp_path / "outputs")) as handle:
            yield handle
    finally:
        fake.models = listed


def test_page_starts_on_the_successor_when_the_endpoint_lacks_the_default(page, without_default, fake):
    pg = open_app(page, without_default.url)
    expect(text_input(pg, "model")).to_have_value("GPT Image 2 (gpt-image-2)")
    expect(markdown(pg, "model_note")).to_contain_text("dall-e-3 is not offered by this endpoint; using gpt-image-2")
    assert radio_choices(pg, "quality") == ["low", "medium", "high", "auto"]
    text_input(pg, "prompt").fill("A red kite over a green hill")
    status = run_generation(pg)
    assert "Done" in status and "gpt-image-2" in status, status
    assert fake.requests[-1].json["model"] == "gpt-image-2"
    assert_no_error_shown(pg)


def test_the_page_refuses_before_the_click_what_the_api_would(studio, fake, tmp_path):
    pg = studio
    text_input(pg, "prompt").fill("x" * 4001)
    expect(markdown(pg, "char_count")).to_contain_text("1 over the limit")
    text_input(pg, "prompt").fill("A quiet pond")
    text_input(pg, "seed").fill("5.5")
    status = run_generation(pg)
    assert "whole number" in status and fake.generation_count == 0, status
    junk = tmp_path / "notes.txt"
    junk.write_text("not an image at all")
    upload_input(pg).set_input_files(str(junk))
    expect(markdown(pg, "status")).to_contain_text("No dalle3 studio settings found")
    assert_no_error_shown(pg)


def test_a_repeat_answers_from_the_cache_and_history_agrees(studio, fake):
    pg = studio
    choose_radio(pg, "seed_control", "fixed")
    text_input(pg, "prompt").fill("A lantern in the fog")
    first = run_generation(pg)
    assert "Done" in first, first
    again = run_generation(pg)
    assert "Same inputs as the image made at" in again and fake.generation_count == 1, again
    expect(pg.locator("#history img")).to_have_count(1)
    expect(markdown(pg, "cost")).to_contain_text("(1 image)")
    assert_no_error_shown(pg)


def test_on_a_phone_the_result_is_in_view_after_generate(browser, served, fake, request):
    pg = open_app(new_page(browser, request, viewport={"width": 390, "height": 844}), served.url)
    text_input(pg, "prompt").fill("A paper boat on a puddle")
    run_generation(pg)
    wait_image_loaded(pg)
    box = pg.locator("#result").bounding_box()
    assert box is not None and 0 <= box["y"] < 844, box
    model_box = pg.locator("#model").bounding_box()
    assert model_box is not None and model_box["x"] + model_box["width"] <= 390, model_box
    pg.screenshot(path=str(SCREENSHOTS.parent / "phone.png"), full_page=False)


def test_a_preview_shows_before_the_final_image_and_only_the_final_is_saved(studio, served, fake):
    """GPT Image with previews: the partial replaces the spinner first, then the final image replaces it."""
    pg = studio
    choose_dropdown(pg, "model", "GPT Image 2 (gpt-image-2)")
    expect(pg.locator("#previews")).to_be_visible()
    choose_radio(pg, "previews", "2")
    fake.default_delay_s = 3.0
    text_input(pg, "prompt").fill("A hot air balloon at sunrise")
    pg.locator("#generate").click()
    expect(markdown(pg, "status")).to_contain_text("preview 1 of 2", timeout=10_000)
    expect(result_image(pg)).to_have_count(1)
    preview_src = image_src(pg)
    expect(markdown(pg, "status")).to_contain_text("Done", timeout=20_000)
    expect(result_image(pg)).not_to_have_attribute("src", preview_src)
    body = fake.requests[-1].json
    assert body["stream"] is True and body["partial_images"] == 2
    saved = list(served.studio.output_dir.rglob("*hot-air-balloon*"))
    assert len(saved) == 1, saved
    assert_no_error_shown(pg)


def test_output_format_controls_follow_model_and_format(studio, served, fake):
    pg = studio
    expect(pg.locator("#output_format")).to_be_hidden()  # dall-e-3 always answers PNG
    choose_dropdown(pg, "model", "GPT Image 2 (gpt-image-2)")
    expect(pg.locator("#output_format")).to_be_visible()
    expect(pg.locator("#output_compression")).to_be_hidden()  # png is lossless
    choose_radio(pg, "output_format", "webp")
    expect(pg.locator("#output_compression")).to_be_visible()
    choose_radio(pg, "previews", "off")
    text_input(pg, "prompt").fill("A glass of water on a sunny sill")
    status = run_generation(pg)
    assert "Done" in status and ".webp" in status, status
    body = fake.requests[-1].json
    assert body["output_format"] == "webp" and body["output_compression"] == 100
    assert_no_error_shown(pg)


# --- the library ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shelf(fake, tmp_path_factory):
    """An app with the Library tab, over a folder that already holds two images made here."""
    out = tmp_path_factory.mktemp("library")
    with running_app(app_settings(fake.base_url, out), sleep=lambda s: None) as maker:
        for prompt in ("A red fox asleep in the snow", "A lighthouse in a storm"):
            maker.predict_once(prompt=prompt, model="gpt-image-2", quality="low")
    with running_app(app_settings(fake.base_url, out), sleep=lambda s: None, library=True) as handle:
        yield handle


def test_the_library_finds_restores_and_shows_the_request_as_code(page, shelf, fake):
    pg = open_app(page, shelf.url)
    pg.get_by_role("tab", name="Library").click()
    expect(pg.locator("#lib_grid img")).to_have_count(2, timeout=15_000)
    expect(markdown(pg, "lib_summary")).to_contain_text("2 images")
    text_input(pg, "lib_words").fill("fox")
    text_input(pg, "lib_words").press("Enter")
    expect(pg.locator("#lib_grid img")).to_have_count(1)
    pg.locator("#lib_grid img").first.click()
    expect(pg.locator("#lib_prompt textarea")).to_have_value("A red fox asleep in the snow")
    expect(markdown(pg, "lib_details")).to_contain_text("gpt-image-2")
    pg.screenshot(path=str(SCREENSHOTS.parent / "library.png"))
    pg.locator("#lib_restore").click()
    expect(text_input(pg, "prompt")).to_have_value("A red fox asleep in the snow")
    expect(text_input(pg, "model")).to_have_value("GPT Image 2 (gpt-image-2)")
    expect(pg.locator("#quality input[value=low]")).to_be_checked()
    choose_dropdown(pg, "model", "(dall-e-3)")  # a model that cannot edit: using a reference switches it
    expect(pg.locator("#edit")).to_be_hidden()
    pg.get_by_role("tab", name="Library").click()
    pg.locator("#lib_use").click()
    expect(markdown(pg, "edit_status")).to_contain_text("dall-e-3 cannot edit images, so the model is now")
    expect(markdown(pg, "edit_status")).to_contain_text("1 reference: Generate now edits.")
    expect(text_input(pg, "prompt")).to_be_visible()  # back on the Studio tab
    expect(pg.locator("#references")).to_be_visible()  # never hidden while they change what Generate does
    expect(pg.locator("#clear_references")).to_be_visible()
    assert "dall-e-3" not in text_input(pg, "model").input_value()
    assert_no_error_shown(pg)


def test_the_newest_result_comes_with_its_request_as_code(studio, fake):
    pg = studio
    text_input(pg, "prompt").fill("A teapot shaped like a snail")
    run_generation(pg)
    pg.get_by_text("The request as code").first.click()
    code = pg.locator("#code_curl").inner_text()
    assert "$OPENAI_API_KEY" in code and "A teapot shaped like a snail" in code, code
    assert "sk-" not in code
    assert_no_error_shown(pg)
