"""``python -m bench.browser [--quick]``: what a person waits for, measured in headless Chromium.

Rows (ours and its baseline sampled alternately, as every bench row):

* B1. First load to a usable Generate button (enabled, prompt editable) — against the floor
  app's page to its button.
* B2. Click to the final image on screen (decoded) — against the floor app's button to its
  image, both answered by the loopback fake after the same fixed delay.
* B3. The Library's first page of 48 previews on screen (all 48 in the grid, every visible one
  decoded), at 10,000 images, after the tab is clicked (≤ 300 ms, absolute) — against a click
  on the Studio tab (the cost of a tab switch).

* B4. Click to the first preview on screen (decoded), previews on (the page's default, one) —
  against a bare ``requests`` read of the same stream until the API's first event is whole and
  decoded; target +100 ms. The fake sends that event halfway through its 2 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator

import requests

from bench.common import DELAY_S, ROOT, log, prompt
from bench.images import realistic_png
from bench.procs import app_env, floor_env, subprocess_app
from bench.stats import Row, Side
from bench.stream import floor_first_event
from tests.browser_support import CHROMIUM_ARGS, choose_dropdown, find_chromium, open_part
from tests.fake_openai import FakeOpenAI

IMAGE_ON_SCREEN = ("sel => { const i = document.querySelector(sel);"
                   " return !!i && i.complete && i.naturalWidth > 0; }")
LIBRARY_PAGE = 48
# the page's 48 previews are in the grid, and every one a person can see (inside the window and the
# grid's scroll box) is decoded; the rest load as the page or the grid is scrolled (at 10,000 images
# the totals by day fill the first screen, so none may be visible yet)
LIBRARY_ON_SCREEN = """n => {
  const box = document.querySelector('#lib_grid .grid-wrap')?.getBoundingClientRect();
  const imgs = [...document.querySelectorAll('#lib_grid img')];
  if (!box || imgs.length < n) return false;
  const seen = imgs.filter(i => { const r = i.getBoundingClientRect();
    return r.bottom > Math.max(0, box.top) && r.top < Math.min(innerHeight, box.bottom) && r.width > 0; });
  return seen.every(i => i.complete && i.naturalWidth > 0);
}"""
LIBRARY_TARGET_S = 0.3


def alternate(ours: Callable[[], float], floor: Callable[[], float], runs: int) -> tuple[Side, Side]:
    a, b = [], []
    for _ in range(runs):
        a.append(ours())
        b.append(floor())
    return Side(tuple(a)), Side(tuple(b))


@contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    path = find_chromium()
    if path is None:
        raise SystemExit("bench.browser needs Chromium (/usr/bin/chromium or `chromium` on PATH)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _fresh(browser, url: str, ready: str):
    """A new context (a new Gradio session) on ``url``, and seconds until ``ready`` holds."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function(ready, timeout=60_000)
    return context, page, time.perf_counter() - started


OURS_READY = ("() => { const b = document.querySelector('#generate'); const t = document.querySelector("
              "'#prompt textarea'); return !!b && !b.disabled && !!t && !t.disabled; }")
FLOOR_READY = "() => !!document.querySelector('#go') && !!document.querySelector('textarea')"


def row_first_load(browser, ours_url: str, floor_url: str, runs: int) -> Row:
    def load(url: str, ready: str) -> float:
        context, _, seconds = _fresh(browser, url, ready)
        context.close()
        return seconds

    a, b = alternate(lambda: load(ours_url, OURS_READY), lambda: load(floor_url, FLOOR_READY), runs)
    return Row(f"B1. First load to a usable Generate button, headless Chromium ({runs} each)", "s", a, b,
               "floor app's page to its button", None)


def row_final_image(browser, ours_url: str, floor_url: str, runs: int) -> Row:
    ours_ctx, ours, _ = _fresh(browser, ours_url, OURS_READY)
    floor_ctx, floor, _ = _fresh(browser, floor_url, FLOOR_READY)

    def click_ours() -> float:
        before = ours.locator("#history img").count()
        ours.locator("#prompt textarea").fill(prompt())
        started = time.perf_counter()
        ours.locator("#generate").click()
        ours.wait_for_function(f"() => document.querySelectorAll('#history img').length > {before}", timeout=60_000)
        ours.wait_for_function(IMAGE_ON_SCREEN, arg="#result img", timeout=60_000)
        return time.perf_counter() - started

    def click_floor() -> float:
        floor.locator("textarea").first.fill(prompt())
        old = floor.evaluate("() => document.querySelector('#image img')?.src || ''")
        started = time.perf_counter()
        floor.locator("#go").click()
        floor.wait_for_function(
            "old => { const i = document.querySelector('#image img');"
            " return !!i && i.src !== old && i.complete && i.naturalWidth > 0; }", arg=old, timeout=60_000)
        return time.perf_counter() - started

    try:
        a, b = alternate(click_ours, click_floor, runs)
    finally:
        ours_ctx.close()
        floor_ctx.close()
    return Row(f"B2. Click to the final image on screen, fake delay {DELAY_S:g} s ({runs} each)", "s", a, b,
               "floor app's click to its image", 1.05)


# the status names the first preview and the result shows a new, decoded image
PREVIEW_ON_SCREEN = """old => {
  const status = document.querySelector('#status')?.innerText || '';
  const i = document.querySelector('#result img');
  return status.includes('preview 1 of') && !!i && i.src !== old && i.complete && i.naturalWidth > 0;
}"""
PREVIEW_DELAY_S = 2.0


def row_first_preview(browser, fake: FakeOpenAI, ours_url: str, runs: int) -> Row:
    context, page, _ = _fresh(browser, ours_url, OURS_READY)
    open_part(page, "options")
    choose_dropdown(page, "model", "(gpt-image-2)")
    page.wait_for_function("() => !!document.querySelector('#previews')", timeout=30_000)
    session = requests.Session()

    def click_ours() -> float:
        page.locator("#prompt textarea").fill(prompt())
        old = page.evaluate("() => document.querySelector('#result img')?.src || ''")
        started = time.perf_counter()
        # the page's own click, not Playwright's (which waits for actionability and moves a mouse
        # first, up to half a second on a busy machine, a cost the bare-requests side has no twin of)
        page.evaluate("() => document.querySelector('#generate').click()")
        page.wait_for_function(PREVIEW_ON_SCREEN, arg=old, timeout=60_000, polling=10)
        seconds = time.perf_counter() - started
        page.wait_for_function("() => (document.querySelector('#status')?.innerText || '').includes('Done')",
                               timeout=60_000)  # the call ends before the next one starts: not timed
        return seconds

    fake.default_delay_s = PREVIEW_DELAY_S
    try:
        click_ours()  # warm-up: the first streamed call on this page
        a, b = alternate(click_ours, lambda: floor_first_event(fake.base_url, session, "1024x1024", partials=1), runs)
    finally:
        fake.default_delay_s = DELAY_S
        context.close()
    return Row(f"B4. Click to the first preview on screen, previews on ({runs} each; target +100 ms)", "s", a, b,
               "bare requests to the API's first event", 1 + 0.1 / b.median)


def row_library_page(browser, fake: FakeOpenAI, count: int, runs: int) -> Row:
    from bench.library import make_folder

    with tempfile.TemporaryDirectory(prefix="dalle3-bench-browser-lib-") as tmp:
        root = Path(tmp) / "outputs"
        root.mkdir()
        make_folder(root, count)
        with subprocess_app(ROOT / "app.py", app_env(fake, root)) as (_, url, _):
            context, page, _ = _fresh(browser, url, OURS_READY)
            page.get_by_role("tab", name="Library").click()  # the first visit waits for indexing: not timed
            page.wait_for_function(f"() => document.querySelectorAll('#lib_grid img').length >= {LIBRARY_PAGE}",
                                   timeout=300_000)

            def open_library() -> float:
                page.get_by_role("tab", name="Studio").click()
                page.locator("#generate").wait_for()
                started = time.perf_counter()
                page.get_by_role("tab", name="Library").click()
                page.wait_for_function(LIBRARY_ON_SCREEN, arg=LIBRARY_PAGE, timeout=60_000)
                return time.perf_counter() - started

            def open_studio() -> float:
                page.get_by_role("tab", name="Library").click()
                page.locator("#lib_grid").wait_for()
                started = time.perf_counter()
                page.get_by_role("tab", name="Studio").click()
                page.locator("#generate").wait_for()
                return time.perf_counter() - started

            try:
                a, b = alternate(open_library, open_studio, runs)
            finally:
                context.close()
    return Row(f"B3. The Library's first {LIBRARY_PAGE} previews on screen after the tab click, {count:,} "
               f"images ({runs} each)", "s", a, b, "a click back to the Studio tab", LIBRARY_TARGET_S,
               absolute=True)


def rows(quick: bool = False, library_images: int = 10_000) -> list[Row]:
    runs = 3 if quick else 6
    with FakeOpenAI() as fake, ExitStack() as stack, tempfile.TemporaryDirectory(prefix="dalle3-bench-b-") as tmp:
        fake.default_delay_s, fake.default_image = DELAY_S, realistic_png()
        tmp_path = Path(tmp)
        _, ours_url, _ = stack.enter_context(subprocess_app(ROOT / "app.py", app_env(fake, tmp_path / "ours")))
        _, floor_url, _ = stack.enter_context(
            subprocess_app(ROOT / "bench" / "floor_app.py", floor_env(fake, tmp_path / "floor", 1)))
        browser = stack.enter_context(chromium())
        log("browser rows: first load, click to final image, click to first preview")
        found = [row_first_load(browser, ours_url, floor_url, runs),
                 row_final_image(browser, ours_url, floor_url, runs),
                 row_first_preview(browser, fake, ours_url, runs)]
        log(f"browser rows: the Library at {library_images:,} images")
        found.append(row_library_page(browser, fake, library_images, runs))
    return found


def main(argv: list[str] | None = None) -> int:
    from bench.library import table  # absolute targets (B3) held as the library's rows are

    parser = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--images", type=int, default=10_000, help="images in the Library row's folder")
    args = parser.parse_args(argv)
    print("\n".join(table(rows(args.quick, args.images), note=False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
