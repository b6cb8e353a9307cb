"""Helpers for the browser tests: find Chromium, launch the page as ``python app.py`` does, read the DOM.

Gradio 6 puts ``elem_id`` on the component's wrapper (a ``div`` or ``fieldset``); the
helpers here reach the element a person actually sees or types into inside it.
"""

from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest


from dalle3 import Settings
from tests.apphelpers import RunningApp, running_app

CHROMIUM = "/usr/bin/chromium"
# SwiftShader, not --disable-gpu: with no GL at all, the image editor's canvas stalls the whole
# page for many seconds after a stroke (a test painting a mask took 100 s instead of 33 s).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}
REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "test-output" / "screenshots"


def unavailable(reason: str) -> None:
    """Skip locally; fail on CI (``CI=true``), where a silently skipped browser suite hides breakage."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run on CI: {reason}", pytrace=False)
    pytest.skip(reason)


def find_chromium() -> str | None:
    if os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


@contextmanager
def launched_chromium() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright, closed afterwards; :func:`unavailable` when missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the environment
        unavailable(f"playwright is not installed ({exc}); pip install -r requirements-dev.txt")
    path = find_chromium()
    if path is None:
        unavailable("Chromium not found (/usr/bin/chromium or `chromium` on PATH); apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def served_page(settings: Settings) -> Iterator[RunningApp]:
    """The page launched with the same ``launch()`` options as ``app.main``; retries without waiting."""
    with running_app(settings, sleep=lambda s: None) as handle:
        yield handle


def screenshot_name(nodeid_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid_name).strip("_") + ".png"


# --- reading and driving components -------------------------------------------------------

def text_input(page, elem_id: str):
    """The textarea/input inside a Textbox, Number or Dropdown wrapper."""
    return page.locator(f"#{elem_id} textarea, #{elem_id} input:not([type=file])").first


def markdown(page, elem_id: str):
    """The rendered text of a Markdown component (without the progress overlay)."""
    return page.locator(f"#{elem_id} [data-testid=markdown]")


def radio_label(page, elem_id: str, value: str):
    return page.locator(f"#{elem_id} label[data-testid='{value}-radio-label']")


def choose_radio(page, elem_id: str, value: str) -> None:
    radio_label(page, elem_id, value).click()


def radio_value(page, elem_id: str) -> str | None:
    checked = page.locator(f"#{elem_id} input[type=radio]:checked")
    return checked.get_attribute("value") if checked.count() else None


def radio_choices(page, elem_id: str) -> list[str]:
    return page.locator(f"#{elem_id} input[type=radio]").evaluate_all("els => els.map(e => e.value)")


def choose_dropdown(page, elem_id: str, option_text: str) -> None:
    """Open a Dropdown and click the option whose label contains ``option_text``."""
    text_input(page, elem_id).click()
    page.locator(f"#{elem_id} li[role=option]", has_text=option_text).first.click()


def open_part(page, elem_id: str) -> None:
    """Unfold an accordion (the options, the key, the restore drop zone) unless it is open."""
    part = page.locator(f"#{elem_id}")
    if part.get_attribute("class") and "open" not in (part.locator(".label-wrap").first.get_attribute("class") or ""):
        part.locator(".label-wrap").first.click()
        # a fold mounts its controls when opened and hands them their values a frame later:
        # what a test types before then can be overwritten (a person is never that quick)
        two_frames(page)


def two_frames(page) -> None:
    """Wait until the browser has rendered two more frames (what was just mounted has settled)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def upload_input(page):
    """The restore drop zone's file input (its fold opened first: a closed fold renders no input)."""
    open_part(page, "restore_part")
    return page.locator("#upload input[type=file]")


def result_image(page):
    return page.locator("#result img")


def image_src(page) -> str | None:
    img = result_image(page)
    return img.get_attribute("src") if img.count() else None


def wait_image_loaded(page, selector: str = "#result img", timeout: float = 15_000) -> dict:
    """Wait until the image has really been decoded; its natural size."""
    page.wait_for_function(
        "sel => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }",
        arg=selector, timeout=timeout)
    return page.locator(selector).first.evaluate("i => ({w: i.naturalWidth, h: i.naturalHeight, src: i.src})")


def run_generation(page, trigger=None, timeout: float = 20_000) -> str:
    """Trigger a generation (click Generate unless told) and wait for a new status; its text."""
    status = markdown(page, "status")
    before = status.inner_text()
    (trigger or (lambda: page.locator("#generate").click()))()
    page.wait_for_function(
        "before => { const s = document.querySelector('#status [data-testid=markdown]');"
        " const b = document.querySelector('#generate');"
        " return s && s.innerText.trim() && s.innerText !== before && b && !b.disabled; }",
        arg=before, timeout=timeout)
    return status.inner_text()


def assert_no_error_shown(page) -> None:
    """No Gradio error badge on a component, no error toast, no uncaught script error.

    An event that fails before the app's own code (e.g. a Radio value outside its choices)
    shows only these; the app's own failures are words in #status instead.
    """
    badges = page.locator("[data-testid='status-tracker'] .error").count()
    toasts = page.locator("[data-testid='toast-body']").all_inner_texts()
    assert badges == 0 and not toasts, f"Gradio shows an error: {badges} badge(s), toasts {toasts}"
    assert not getattr(page, "page_errors", []), f"uncaught script errors: {page.page_errors}"


def new_page(browser, request, *, viewport: dict, timeout_ms: float = 20_000):
    """A new page, so a new Gradio session, closed (with a screenshot if the test failed) after the test.

    Pages share one browser context per module: Chromium then keeps Gradio's scripts compiled
    and cached between tests (a page loads in about two thirds of the time). What a test could
    leak to the next (cookies, localStorage, sessionStorage) is cleared when it ends; a test that
    needs two visitors at once opens contexts of its own.
    """
    context = getattr(browser, "shared_context", None)
    if context is None:
        context = browser.shared_context = browser.new_context()
    pg = context.new_page()
    pg.set_viewport_size({"width": viewport["width"], "height": viewport["height"]})
    pg.set_default_timeout(timeout_ms)
    pg.page_errors = []
    pg.on("pageerror", lambda e: pg.page_errors.append(str(e)))
    request.addfinalizer(lambda: _close_shared(browser, pg, request))
    return pg


def _close_shared(browser, page, request) -> None:
    _keep_failure_screenshot(page, request)
    context = page.context
    try:
        page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
        context.clear_cookies()
        page.close()
    except Exception:  # a page that broke may not answer: the next test gets a new context instead
        browser.shared_context = None
        context.close()


def _keep_failure_screenshot(page, request) -> None:
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(SCREENSHOTS / screenshot_name(request.node.name)), full_page=True)
        except Exception as exc:  # the page may be what broke; never mask the test's own failure
            print(f"could not save the failure screenshot: {exc}")


def close_page(context, page, request) -> None:
    """Close a test's own browser context, keeping a full-page screenshot when the test failed."""
    _keep_failure_screenshot(page, request)
    context.close()
