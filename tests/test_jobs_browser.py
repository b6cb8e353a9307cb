"""The Jobs tab in a real browser (headless Chromium through Playwright), against the loopback fake."""

from __future__ import annotations

import re

import pytest

from tests.apphelpers import app_settings
from tests.test_edit import image_bytes
from tests.browser_support import (SCREENSHOTS, VIEWPORT, assert_no_error_shown, choose_dropdown, new_page, markdown,
                                   served_page, text_input)

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture says what is missing
    expect = None


@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    with served_page(app_settings(fake.base_url, tmp_path_factory.mktemp("jobs"))) as handle:
        yield handle


@pytest.fixture
def jobs_tab(browser, fake, served, request):
    fake.reset()
    fake.default_delay_s = 0.0
    pg = new_page(browser, request, viewport=VIEWPORT)
    pg.goto(served.url)
    pg.get_by_role("tab", name="Jobs").click()
    expect(text_input(pg, "job_template")).to_be_editable()
    return pg



def choose_job_model(pg) -> None:
    """GPT Image 2 picked from the list, and shown as chosen before anything reads it."""
    choose_dropdown(pg, "job_model", "(gpt-image-2)")
    expect(pg.locator("#job_model input")).to_have_value(re.compile(r"\(gpt-image-2\)$"))

def test_a_compare_job_is_counted_run_with_progress_and_gets_a_contact_sheet(jobs_tab, fake):
    pg = jobs_tab
    text_input(pg, "job_template").fill("a {red|blue} fox")
    text_input(pg, "job_axes").fill("quality: low | high")
    choose_job_model(pg)
    pg.locator("#job_check").click()
    expect(markdown(pg, "job_summary")).to_contain_text("4 requests (4 images)")
    expect(markdown(pg, "job_summary")).to_contain_text("as a Batch")
    pg.locator("#job_run").click()
    expect(markdown(pg, "job_progress")).to_contain_text("4 done · 0 failed · 0 left", timeout=60_000)
    expect(pg.locator("#job_gallery img")).to_have_count(4)
    expect(pg.locator("#job_sheet img")).to_be_visible(timeout=30_000)
    expect(markdown(pg, "job_summary")).to_contain_text("done")
    pg.screenshot(path=str(SCREENSHOTS.parent / "jobs.png"))
    assert fake.generation_count == 4
    assert_no_error_shown(pg)


def test_a_batch_is_submitted_listed_and_checked(jobs_tab, fake):
    pg = jobs_tab
    text_input(pg, "job_prompts").fill("a lighthouse\na harbour")
    choose_job_model(pg)
    pg.locator("#job_submit").click()
    expect(markdown(pg, "job_summary")).to_contain_text("Submitted as")
    expect(pg.locator("#job_table")).to_contain_text("validating")
    for _ in range(4):
        pg.locator("#job_show").click()
        expect(markdown(pg, "job_summary")).to_contain_text("Job ")
        if "completed" in markdown(pg, "job_summary").inner_text():
            break
        pg.wait_for_timeout(300)
    expect(markdown(pg, "job_summary")).to_contain_text("completed · 2 done · 0 failed · 0 left")
    expect(pg.locator("#job_gallery img")).to_have_count(2)
    assert fake.batch_api.uploads and len(fake.batch_api.uploads[-1]["lines"]) == 2


def test_reference_images_make_a_job_of_edits_that_runs_with_every_row(jobs_tab, fake, tmp_path):
    pg = jobs_tab
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes((64, 48)))
    expect(pg.get_by_text("Edit these images with every row")).to_be_visible()
    pg.locator("#job_images input[type=file]").set_input_files(str(photo))
    # the file list's cell, by the name a screen reader reads (its text may break between stem and extension)
    expect(pg.locator("#job_images").get_by_role("cell", name="photo.png")).to_be_visible()
    text_input(pg, "job_prompts").fill("a red hat\na blue hat")
    choose_job_model(pg)
    pg.locator("#job_check").click()
    expect(markdown(pg, "job_summary")).to_contain_text("each edited from 1 reference")
    pg.locator("#job_run").click()
    expect(markdown(pg, "job_progress")).to_contain_text("2 done · 0 failed · 0 left", timeout=60_000)
    assert len(fake.edit_requests) == 2 and fake.generation_count == 0
    assert_no_error_shown(pg)
