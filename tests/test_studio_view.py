"""The Studio as a person uses it, in headless Chromium at a desktop's 1280x800 and a phone's 390x844.

Positions are asserted as a person sees them (in the first screen or not), then the flows:
Stop during a slow call, a double click, "Edit this" on a model that cannot edit, a batch
that fits the result area; then the keyboard path and axe-core (WCAG 2.1 A/AA) in every state.
"""

from __future__ import annotations

import pytest

from dalle3.views.glance import FREE_NOTE
from tests.apphelpers import app_settings, running_app
from tests.fake_openai import Outcome, render_image
from tests.browser_support import (
    SCREENSHOTS,
    assert_no_error_shown,
    new_page,
    markdown,
    open_part,
    run_generation,
    served_page,
    text_input,
    wait_image_loaded,
)

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture says what is missing
    expect = None

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    with served_page(app_settings(fake.base_url, tmp_path_factory.mktemp("outputs"))) as handle:
        yield handle


@pytest.fixture(scope="module")
def simulated(fake, tmp_path_factory):
    """The offline simulator with the Library tab, as ``python app.py`` serves it with no key."""
    settings = app_settings(fake.base_url, tmp_path_factory.mktemp("sim"), api_key=None)
    with running_app(settings, sleep=lambda s: None, library=True) as handle:
        yield handle


def open_page(browser, url: str, viewport: dict, request):
    pg = new_page(browser, request, viewport=viewport)
    pg.goto(url)
    expect(pg.locator("#generate")).to_be_visible(timeout=30_000)  # a busy machine loads slowly
    expect(text_input(pg, "prompt")).to_be_editable()
    return pg


def in_first_screen(pg, selector: str, viewport: dict) -> bool:
    box = pg.locator(selector).first.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"] \
        and box["x"] + box["width"] <= viewport["width"]


@pytest.fixture
def quiet(fake):
    fake.reset()
    fake.default_delay_s = 0.0
    yield fake
    fake.default_delay_s = 0.0


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_prompt_generate_and_cost_are_in_the_first_screen_and_the_result_after_the_click(
        browser, simulated, quiet, request, viewport):
    pg = open_page(browser, simulated.url, viewport, request)
    for part in ("#prompt textarea", "#generate", "#cost"):
        assert in_first_screen(pg, part, viewport), part
    summary = pg.locator("#options .label-wrap").first
    expect(summary).to_contain_text("Options · dall-e-3 · standard · 1024x1024")
    expect(pg.locator("#model")).to_be_hidden()  # folded: one click away
    expect(markdown(pg, "cost")).to_contain_text("free in the offline simulator")
    text_input(pg, "prompt").fill("A paper lantern on a lake")
    status = run_generation(pg)
    assert "Simulated" in status, status
    wait_image_loaded(pg)
    assert in_first_screen(pg, "#result img", viewport)
    assert in_first_screen(pg, "#status p", viewport)  # its first line: what was made, or what went wrong
    name = "desktop" if viewport is DESKTOP else "phone"
    pg.screenshot(path=str(SCREENSHOTS.parent / f"studio-{name}-result.png"))
    open_part(pg, "options")
    expect(pg.locator("#model")).to_be_visible()
    assert_no_error_shown(pg)


def test_the_summary_follows_the_options(browser, served, quiet, request):
    pg = open_page(browser, served.url, DESKTOP, request)
    open_part(pg, "options")
    text_input(pg, "model").click()
    pg.locator("#model li[role=option]", has_text="GPT Image 2 (gpt-image-2)").first.click()
    pg.locator("#quality label[data-testid='high-radio-label']").click()
    expect(pg.locator("#options .label-wrap").first).to_contain_text("Options · gpt-image-2 · high · 1024x1024")
    assert_no_error_shown(pg)


def test_stop_abandons_a_slow_call_keeps_the_previous_image_and_generate_works_at_once(
        browser, served, quiet, request):
    pg = open_page(browser, served.url, DESKTOP, request)
    text_input(pg, "prompt").fill("A first quick picture")
    assert "Done" in run_generation(pg)
    before = wait_image_loaded(pg)["src"]
    quiet.default_delay_s = 30.0
    text_input(pg, "prompt").fill("A very slow picture")
    pg.locator("#generate").click()
    expect(pg.locator("#stop")).to_be_visible()
    expect(pg.locator("#generate")).to_be_disabled()
    deadline = 200  # wait (up to ten seconds) for the request to reach the fake: it then hangs
    while quiet.generation_count < 2 and deadline:
        pg.wait_for_timeout(50)
        deadline -= 1
    assert quiet.generation_count == 2
    pg.locator("#stop").click()
    expect(markdown(pg, "status")).to_contain_text("Stopped.", timeout=10_000)
    expect(markdown(pg, "status")).to_contain_text("may still be billed")
    expect(pg.locator("#generate")).to_be_enabled()
    expect(pg.locator("#stop")).to_be_hidden()
    assert wait_image_loaded(pg)["src"] == before  # the previous image stays
    quiet.default_delay_s = 0.0
    text_input(pg, "prompt").fill("A picture after the stop")
    assert "Done" in run_generation(pg)
    assert quiet.generation_count == 3
    assert_no_error_shown(pg)


def test_a_double_click_on_generate_starts_one_call(browser, served, quiet, request):
    pg = open_page(browser, served.url, DESKTOP, request)
    quiet.default_delay_s = 2.0
    text_input(pg, "prompt").fill("One click only")
    pg.locator("#generate").evaluate("b => { b.click(); b.click(); }")
    expect(markdown(pg, "status")).to_contain_text("Done", timeout=20_000)
    expect(pg.locator("#generate")).to_be_enabled()
    assert quiet.generation_count == 1
    assert_no_error_shown(pg)


def test_edit_this_on_dall_e_3_switches_to_a_model_that_edits_and_shows_the_references(
        browser, simulated, quiet, request):
    pg = open_page(browser, simulated.url, DESKTOP, request)
    text_input(pg, "prompt").fill("A teapot")
    run_generation(pg)
    wait_image_loaded(pg)
    pg.locator("#edit_this").click()
    expect(markdown(pg, "edit_status")).to_contain_text("dall-e-3 cannot edit images, so the model is now gpt-image-2")
    expect(pg.locator("#options .label-wrap").first).to_contain_text("gpt-image-2")
    expect(pg.locator("#references")).to_be_visible()
    expect(pg.locator("#clear_references")).to_be_visible()
    expect(pg.locator("#editor canvas").last).to_be_visible(timeout=20_000)
    pg.locator("#edit_this").click()  # the result replaces the references: still one
    expect(markdown(pg, "edit_status")).to_contain_text("1 reference: Generate now edits.")
    text_input(pg, "prompt").fill("The teapot, in blue")
    status = run_generation(pg, timeout=60_000)
    assert "Edited from 1 reference" in status, status
    assert_no_error_shown(pg)


def test_an_edit_uploads_its_picture_a_bounded_number_of_times(browser, served, quiet, request):
    """Gradio re-reads the controls on every progress update, and the editor re-uploads its picture
    on each read; handlers on the references' change event turned that into rounds of hundreds of
    uploads (182 to 837 for one edit, a minute with a 3 MB photo). Counted, not timed."""
    quiet.script(Outcome.success(image=render_image(256, 256)))
    pg = open_page(browser, served.url, DESKTOP, request)
    text_input(pg, "prompt").fill("A teapot")
    run_generation(pg)
    wait_image_loaded(pg)
    uploads: list[str] = []
    pg.on("request", lambda r: uploads.append(r.url) if "/gradio_api/upload" in r.url else None)
    pg.locator("#edit_this").click()
    expect(markdown(pg, "edit_status")).to_contain_text("1 reference: Generate now edits.")
    expect(pg.locator("#editor canvas").last).to_be_visible(timeout=20_000)
    text_input(pg, "prompt").fill("The teapot, in blue")
    status = run_generation(pg, timeout=60_000)
    assert "Edited from 1 reference" in status, status
    assert len(uploads) <= 100, f"{len(uploads)} uploads for one edit"
    assert_no_error_shown(pg)


def test_a_batch_of_four_fits_the_result_area(browser, simulated, quiet, request):
    pg = open_page(browser, simulated.url, DESKTOP, request)
    open_part(pg, "options")
    text_input(pg, "model").click()
    pg.locator("#model li[role=option]", has_text="GPT Image 2 (gpt-image-2)").first.click()
    expect(pg.locator("#n")).to_be_visible()
    pg.locator("#n input[type=number]").fill("4")
    pg.locator("#n input[type=number]").press("Enter")
    expect(pg.locator("#options .label-wrap").first).to_contain_text("×4")
    text_input(pg, "prompt").fill("Four small boats")
    status = run_generation(pg)
    assert "4 images" in status, status
    expect(pg.locator("#grid img")).to_have_count(4)
    grid = pg.locator("#grid").bounding_box()
    for img in pg.locator("#grid img").all():
        box = img.bounding_box()
        assert box is not None and box["y"] >= grid["y"] - 1 and box["y"] + box["height"] <= grid["y"] + grid["height"] + 1
    saved = sorted(p.name for p in simulated.studio.output_dir.rglob("four-small-boats*"))
    assert len(saved) == 4 and all(name in status for name in saved), (saved, status)  # every file named
    assert_no_error_shown(pg)


RECORD_COST_TEXTS = """() => {
    const text = () => (document.querySelector('#cost [data-testid=markdown]') || {}).innerText || '';
    const seen = window.__costTexts = [text()];
    new MutationObserver(() => { if (text() !== seen[seen.length - 1]) seen.push(text()); })
        .observe(document.querySelector('#cost'), {subtree: true, childList: true, characterData: true});
}"""


def test_the_cost_line_never_shows_an_openai_price_in_the_simulator(browser, simulated, quiet, request):
    """Every text the cost line shows, not only the last: no event writes the one-image OpenAI price
    for another to correct a round trip later."""
    pg = open_page(browser, simulated.url, DESKTOP, request)
    pg.evaluate(RECORD_COST_TEXTS)
    open_part(pg, "options")
    pg.locator("#quality label[data-testid='hd-radio-label']").click()
    expect(markdown(pg, "cost")).to_contain_text("(on OpenAI: $0.080)")
    text_input(pg, "prompt").fill("A paper lantern on a lake")
    run_generation(pg)
    expect(markdown(pg, "cost")).to_contain_text("This session: $0.00 (1 image)")
    text_input(pg, "model").click()  # another model, then two images a click
    pg.locator("#model li[role=option]", has_text="GPT Image 2 (gpt-image-2)").first.click()
    expect(markdown(pg, "cost")).to_contain_text("This image: free")
    pg.locator("#n input[type=number]").fill("2")
    pg.locator("#n input[type=number]").press("Enter")
    expect(markdown(pg, "cost")).to_contain_text("This click (2 images): free")
    texts = pg.evaluate("() => window.__costTexts")
    assert len(texts) >= 5 and all(FREE_NOTE in text for text in texts), texts


def test_the_keyboard_reaches_the_prompt_by_the_skip_link_and_generate_by_one_tab(browser, simulated, quiet, request):
    pg = open_page(browser, simulated.url, DESKTOP, request)
    pg.locator("body").focus()
    pg.keyboard.press("Tab")
    expect(pg.locator(".skip-link")).to_be_focused()
    pg.keyboard.press("Enter")
    expect(text_input(pg, "prompt")).to_be_focused()
    pg.keyboard.type("A kite over the dunes")
    pg.keyboard.press("Tab")
    expect(pg.locator("#generate")).to_be_focused()
    outline = pg.locator("#generate").evaluate("b => getComputedStyle(b).outlineStyle")
    assert outline == "solid", outline  # focus is visible
    status = run_generation(pg, trigger=lambda: pg.keyboard.press("Enter"))
    assert "Simulated" in status, status


def test_a_radio_group_is_one_tab_stop_and_the_arrow_keys_choose_within_it(browser, simulated, quiet, request):
    """Gradio names each radio input apart (the browser sees a group per option); the page keeps the
    ARIA radio-group pattern: Tab reaches the chosen option, arrows move the choice, Tab leaves the group."""
    pg = open_page(browser, simulated.url, DESKTOP, request)
    open_part(pg, "options")
    standard = pg.locator("#quality input[value=standard]")
    standard.focus()
    pg.keyboard.press("ArrowRight")
    expect(pg.locator("#quality input[value=hd]")).to_be_focused()
    expect(pg.locator("#quality input[value=hd]")).to_be_checked()
    expect(pg.locator("#options .label-wrap").first).to_contain_text("hd")  # the choice reached the app
    pg.keyboard.press("ArrowRight")  # wraps round, as the pattern asks
    expect(standard).to_be_checked()
    pg.keyboard.press("Tab")
    focused = pg.evaluate("() => document.activeElement.closest('fieldset')?.id")
    assert focused != "quality", "Tab stayed inside the quality group"
    pg.keyboard.press("Shift+Tab")
    expect(standard).to_be_focused()  # back to the group's one stop: the chosen option


AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}


def serious_violations(pg) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    # the page names what Gradio renders as it renders it (ui/look.py): wait until it has caught up
    pg.wait_for_function("() => document.body.dataset.studioReady"
                         " && !document.querySelector('div[aria-label]:not([role])')")
    found = Axe().run(pg, options=AXE_OPTIONS).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:4]}"
            for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_nothing_serious_on_the_first_screen_a_result_the_library_and_the_edit_part(
        browser, simulated, quiet, request, viewport):
    pytest.importorskip("axe_playwright_python", reason="pip install -r requirements-dev.txt")
    pg = open_page(browser, simulated.url, viewport, request)
    assert serious_violations(pg) == [], "first screen"
    text_input(pg, "prompt").fill("A lighthouse at dusk")
    run_generation(pg)
    wait_image_loaded(pg)
    expect(pg.locator("#generate")).to_be_enabled()
    assert serious_violations(pg) == [], "a result"
    pg.get_by_role("tab", name="Library").click()
    expect(pg.locator("#lib_grid img").first).to_be_visible()
    assert serious_violations(pg) == [], "the Library"
    # the editor's 1024x1024 canvas costs a GPU-less browser seconds a frame on a busy machine,
    # enough to stall any later click: the edit part is checked last
    pg.get_by_role("tab", name="Studio").click()
    pg.locator("#edit_this").click()
    expect(pg.locator("#editor canvas").last).to_be_visible(timeout=20_000)
    assert serious_violations(pg) == [], "the edit part"
