"""The nearest allowed size, offered under the cost line and taken in one click (headless Chromium)."""

from __future__ import annotations

import pytest

from tests.apphelpers import app_settings
from tests.browser_support import (VIEWPORT, assert_no_error_shown, choose_dropdown, close_page, launched_chromium,
                                   markdown, open_part, served_page, text_input)

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture says what is missing
    expect = None


@pytest.fixture(scope="module")
def page_url(fake, tmp_path_factory):
    with served_page(app_settings(fake.base_url, tmp_path_factory.mktemp("size-offer"), api_key=None)) as handle:
        yield handle.url


@pytest.fixture
def pg(page_url, request):
    with launched_chromium() as chromium:
        context = chromium.new_context(viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.page_errors = []
        page.on("pageerror", lambda e: page.page_errors.append(str(e)))
        try:
            page.goto(page_url)
            expect(page.locator("#generate")).to_be_visible()
            open_part(page, "options")  # the model and the size are folded under Generate
            yield page
        finally:
            close_page(context, page, request)


def test_a_refused_size_is_offered_its_nearest_and_taken_in_one_click(pg):
    choose_dropdown(pg, "model", "GPT Image 2 (gpt-image-2)")
    offer = pg.locator("#size-fix")
    expect(offer).to_be_hidden()
    size = text_input(pg, "size")
    size.fill("1920x1080")
    size.press("Enter")
    # the typed value is committed when the offer appears (it is computed from the committed size)
    expect(offer).to_be_visible(timeout=15_000)
    expect(markdown(pg, "cost")).to_contain_text("1920x1088 is the nearest allowed", timeout=15_000)
    expect(offer).to_have_text("Use 1920x1088, the nearest allowed size")
    expect(size).to_have_value("1920x1080")  # never changed unasked
    offer.click()
    expect(size).to_have_value("1920x1088")
    # the price of the size taken, as this page settles it (no key here: the simulator, free, with
    # OpenAI's price beside it); the refusal is gone
    expect(markdown(pg, "cost")).to_contain_text("This image: free in the offline simulator (on OpenAI: ≈ $")
    expect(markdown(pg, "cost")).not_to_contain_text("nearest allowed")
    expect(offer).to_be_hidden()
    assert_no_error_shown(pg)
