"""In a real browser: picking a model whose shutdown day has come offers its successor before any call."""

from __future__ import annotations

import re

import pytest

from tests.apphelpers import app_settings
from tests.browser_support import (VIEWPORT, assert_no_error_shown, choose_dropdown, close_page, markdown, open_part,
                                   radio_choices, served_page, text_input)

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture says what is missing
    expect = None


@pytest.fixture
def loaded(browser, fake, tmp_path, request):
    with served_page(app_settings(fake.base_url, tmp_path)) as app:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.page_errors = errors
        try:
            pg.goto(app.url)
            expect(pg.locator("#generate")).to_be_visible()
            open_part(pg, "options")  # the model and its settings are folded under Generate
            yield pg
        finally:
            close_page(context, pg, request)


def test_picking_a_shut_down_model_offers_its_successor_before_any_call(loaded, fake):
    pg = loaded
    fake.reset()
    choose_dropdown(pg, "model", "(gpt-image-1-mini)")
    shown = re.compile(r"^GPT Image 1 mini \(gpt-image-1-mini\) — retired 2026-12-01")
    expect(text_input(pg, "model")).to_have_value(shown)
    expect(markdown(pg, "model_note")).to_contain_text("OpenAI retired gpt-image-1-mini on 2026-12-01")
    switch = pg.locator("#switch_model")
    expect(switch).to_be_visible()
    expect(switch).to_contain_text("Switch to gpt-image-2")
    assert fake.requests == []  # offered before any call
    switch.click()
    expect(text_input(pg, "model")).to_have_value("GPT Image 2 (gpt-image-2)")
    expect(switch).to_be_hidden()
    assert radio_choices(pg, "quality") == ["low", "medium", "high", "auto"]
    choose_dropdown(pg, "model", "(gpt-image-2.5-flare)")  # a live model: no offer
    expect(markdown(pg, "model_note")).not_to_contain_text("retired")
    expect(switch).to_be_hidden()
    assert_no_error_shown(pg)
