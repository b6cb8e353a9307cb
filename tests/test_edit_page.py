"""Edit and vary on the page, the HTTP API (``/edit``, ``n`` on ``/generate``) and MCP, against the loopback fake.

The browser tests paint with the mouse in Gradio's own image editor, send a history image to
edit and read the grid a person sees; the API tests call the app as ``gradio_client`` and
plain HTTP callers do; the MCP tests use the official ``mcp`` client. Screenshots of the edit
part at desktop and phone width land in ``test-output/``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
import requests
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from dalle3.files.metadata import read_parameters
from tests.apphelpers import app_settings
from tests.fake_openai import Outcome, render_image
from tests.browser_support import (REPO, assert_no_error_shown, choose_dropdown, new_page, markdown, open_part,
                                   run_generation, served_page, text_input, two_frames,
                                   upload_input)

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture says what is missing
    expect = None

EDIT_ARGS = dict(prompt="make the sky green", model="gpt-image-2")


def png(size: tuple[int, int] = (256, 192), color=(40, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    with served_page(app_settings(fake.base_url, tmp_path_factory.mktemp("outputs"))) as handle:
        yield handle


@pytest.fixture
def reference(tmp_path) -> Path:
    path = tmp_path / "reference.png"
    path.write_bytes(png())
    return path


# --- HTTP API ------------------------------------------------------------------------------

def test_n_on_generate_makes_that_many_images_and_lists_every_file(client, fake):
    image, _, facts = client.predict(prompt="three foxes", model="gpt-image-2", n="3", api_name="/generate")
    assert fake.requests[-1].json["n"] == 3
    assert facts["n"] == 3 and len(facts["files"]) == 3 and facts["files"][0] == facts["file"]
    assert [f.rsplit("_", 1)[1] for f in facts["files"]] == ["1of3.png", "2of3.png", "3of3.png"]
    assert read_parameters(image)["prompt"] == "three foxes"


def test_n_beyond_the_model_is_refused_plainly(client, fake):
    with pytest.raises(AppError, match="makes one image per request"):
        client.predict(prompt="a fox", model="dall-e-3", n="2", api_name="/generate")
    assert not fake.requests


def test_edit_uploads_files_and_answers_with_the_references_by_hash(client, fake, reference, tmp_path):
    second = tmp_path / "second.png"
    second.write_bytes(png(color=(200, 20, 20)))
    _, text, facts = client.predict(**EDIT_ARGS, images=[handle_file(str(reference)), handle_file(str(second))],
                                    n="2", api_name="/edit")
    seen = fake.edit_requests[-1]
    assert seen.form["n"] == "2"
    assert [p.data for p in seen.files if p.name.startswith("image")] == [reference.read_bytes(), second.read_bytes()]
    assert facts["references"] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in (reference, second)]
    assert len(facts["files"]) == 2 and "Edited from 2 references." in text


def test_edit_with_a_mask_file_sends_it_matched_to_the_first_image(client, fake, reference, tmp_path):
    mask = Image.new("RGBA", (256, 192), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 128, 96))
    mask_path = tmp_path / "mask.png"
    mask.save(mask_path)
    _, text, facts = client.predict(**EDIT_ARGS, images=[handle_file(str(reference))],
                                    mask=handle_file(str(mask_path)), api_name="/edit")
    sent = next(p for p in fake.edit_requests[-1].files if p.name == "mask")
    assert Image.open(io.BytesIO(sent.data)).getpixel((10, 10))[3] == 0
    assert "mask on the first" in text and facts["mask"]


@pytest.mark.parametrize("model, extra, words", [
    ("dall-e-3", {}, "dall-e-3 cannot edit images"),
    ("gpt-image-2", {"input_fidelity": "high"}, "Input fidelity 'high' is not available for gpt-image-2"),
])
def test_edit_refusals_reach_the_caller_as_plain_messages(client, fake, reference, model, extra, words):
    with pytest.raises(AppError, match=words):
        client.predict(prompt="x", model=model, images=[handle_file(str(reference))], **extra, api_name="/edit")
    assert not fake.edit_requests


def _call_edit(url: str, images, mask=None) -> requests.Response:
    data = ["make it green", 0, "", "", "", "gpt-image-2", "", "", "", "", "", "", images, mask, None, ""]
    return requests.post(f"{url}gradio_api/call/edit", json={"data": data}, timeout=30)


def test_plain_http_edit_takes_data_urls(served, fake):
    fake.reset()
    started = _call_edit(served.url, [data_url(png())])
    assert started.status_code == 200, started.text
    answer = requests.get(f"{served.url}gradio_api/call/edit/{started.json()['event_id']}", timeout=60).text
    assert "event: complete" in answer, answer
    image, _, facts = json.loads(answer.split("data: ", 1)[1])
    assert facts["references"] == [hashlib.sha256(png()).hexdigest()]
    assert fake.edit_requests[-1].files[0].data == png()


def test_plain_http_edit_never_reads_a_server_path_it_names(served, fake):
    fake.reset()
    for named in ({"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}, "/etc/hostname"):
        refused = _call_edit(served.url, [named])
        assert refused.status_code == 422
        assert "a path on the server is never read" in refused.json()["error"]
    assert not fake.edit_requests


def test_the_guard_refuses_a_wrong_input_count_on_call_edit(served, fake):
    refused = requests.post(f"{served.url}gradio_api/call/edit", json={"data": ["a fox", 0]}, timeout=10)
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("/edit takes exactly 16 inputs in this order: prompt, seed")
    assert "images, mask, markup, input_fidelity" in refused.json()["error"]


# --- MCP -----------------------------------------------------------------------------------

from tests.test_mcp import call_tool, mcp_url  # noqa: E402,F401 - the same launch as the generate tool's tests


def test_mcp_edit_takes_data_urls_and_returns_every_image_of_the_batch(mcp_url):
    failed, content = call_tool(mcp_url, "edit", {**EDIT_ARGS, "images": [data_url(png())], "n": 2})
    assert not failed, content
    images = [c for c in content if c.type == "image"]
    facts = json.loads(next(c.text for c in content if c.type == "text"))
    assert len(images) == 2 and facts["n"] == 2 and facts["references"] == [hashlib.sha256(png()).hexdigest()]
    pictures = [read_parameters(base64.b64decode(i.data)) for i in images]
    assert [p["batch_index"] for p in pictures] == [0, 1]
    assert all(p["references"] == facts["references"] for p in pictures)


def test_mcp_generate_returns_every_image_of_a_batch(mcp_url):
    failed, content = call_tool(mcp_url, "generate", {"prompt": "two owls", "model": "gpt-image-2", "n": 3})
    assert not failed, content
    assert len([c for c in content if c.type == "image"]) == 3


# --- the page in a browser -------------------------------------------------------------------

def _open(browser, served, fake, request, viewport):
    fake.reset()
    pg = new_page(browser, request, viewport=viewport)
    pg.goto(served.url)
    expect(pg.locator("#generate")).to_be_visible(timeout=30_000)  # a busy machine loads slowly
    open_part(pg, "options")  # the settings are folded under Generate; these tests change them
    expect(pg.locator("#model")).to_be_visible(timeout=15_000)
    return pg


@pytest.fixture
def desk(browser, served, fake, request):
    return _open(browser, served, fake, request, {"width": 1400, "height": 1000})


def paint(pg, box_fraction=(0.3, 0.3, 0.6, 0.6)) -> None:
    """Pick the brush and drag the mouse across the editor's canvas, as a person paints."""
    pg.locator("#editor button[aria-label=Brush]").click()
    canvas = pg.locator("#editor canvas").last.bounding_box()
    x0, y0, x1, y1 = box_fraction
    pg.mouse.move(canvas["x"] + canvas["width"] * x0, canvas["y"] + canvas["height"] * y0)
    pg.mouse.down()
    for step in range(1, 11):  # one move a step: each costs a redraw of the canvas in a GPU-less browser
        t = step / 10
        pg.mouse.move(canvas["x"] + canvas["width"] * (x0 + (x1 - x0) * t),
                      canvas["y"] + canvas["height"] * (y0 + (y1 - y0) * t))
    pg.mouse.up()


@pytest.mark.browser
def test_a_history_image_with_a_painted_mask_is_edited_where_it_was_painted(desk, fake):
    """The painted strokes become the mask's transparent area. (An edit making several images into a
    grid is proven without painting: the MCP edit batch here, and the batch grid in test_studio_view.)"""
    pg = desk
    # A small picture to paint on: the editor exports its layers at the picture's own size, which a
    # GPU-less browser on a busy machine takes half a minute to do at 1024x1024.
    fake.script(Outcome.success(image=render_image(256, 256)))
    choose_dropdown(pg, "model", "gpt-image-2 ")
    text_input(pg, "prompt").fill("a red barn in a field")
    assert "Done" in run_generation(pg)
    pg.locator("#history img").first.click()  # restores that image's settings
    expect(markdown(pg, "status")).to_contain_text("Settings restored")  # as a person waits to see it
    pg.locator("#use_history").click()
    expect(markdown(pg, "edit_status")).to_contain_text("1 reference: Generate now edits.")
    # the click's price follows in a second step (the cost line's own change), slower on a busy machine
    expect(markdown(pg, "cost")).to_contain_text("from 1 reference", timeout=20_000)
    expect(pg.locator("#editor canvas").last).to_be_visible()
    # the editor draws its background before it takes strokes: two frames rendered since it showed
    two_frames(pg)
    paint(pg)

    # After painting, nothing waits on scrolling: a headless Chromium can spend seconds on the
    # editor's canvas, long enough for a click's scrolling (and the button's re-enabling) to stall;
    # a person's browser paints on the GPU. So the editor is hidden (its canvas stops costing
    # frames), Generate is dispatched, and the status is awaited.
    pg.evaluate("document.querySelector('#editor').style.display = 'none'")
    pg.locator("#generate").dispatch_event("click")
    expect(markdown(pg, "status")).to_contain_text("Edited from 1 reference", timeout=120_000)
    expect(markdown(pg, "status")).to_contain_text("mask on the first.")
    expect(pg.locator("#result")).to_be_visible()
    seen = fake.edit_requests[-1]
    assert seen.form.get("n", "1") == "1"
    mask = Image.open(io.BytesIO(next(p.data for p in seen.files if p.name == "mask")))
    alpha = mask.getchannel("A")
    assert alpha.getextrema() == (0, 255)  # painted: transparent; the rest: opaque
    w, h = mask.size
    assert alpha.getpixel((w // 2, h // 2)) == 0 and alpha.getpixel((2, h - 3)) == 255
    expect(pg.locator("#history img")).to_have_count(2)
    assert_no_error_shown(pg)


@pytest.mark.browser
def test_dall_e_3_has_no_edit_part_and_says_why(desk):
    expect(pg_edit := desk.locator("#edit")).to_be_hidden()
    expect(markdown(desk, "edit_note")).to_contain_text("dall-e-3 cannot edit images")
    expect(desk.locator("#n")).to_be_hidden()
    choose_dropdown(desk, "model", "gpt-image-2 ")
    expect(pg_edit).to_be_visible()
    expect(desk.locator("#n")).to_be_visible()


@pytest.mark.browser
def test_a_dropped_edited_image_brings_back_its_references_or_names_the_missing(desk, served, reference):
    """The first reference was made here (in the outputs folder); the second came from elsewhere."""
    with served.connected() as client:
        kept, _, _ = client.predict(prompt="a kept reference", model="gpt-image-2", api_name="/generate")
        image, _, facts = client.predict(**EDIT_ARGS, images=[handle_file(kept), handle_file(str(reference))],
                                         api_name="/edit")
    upload_input(desk).set_input_files(image)
    expect(markdown(desk, "edit_status")).to_contain_text("1 of 2 reference images found")
    expect(markdown(desk, "edit_status")).to_contain_text(facts["references"][1][:12])
    expect(desk.locator("#references")).to_contain_text("a-kept-reference")
    expect(text_input(desk, "prompt")).to_have_value(EDIT_ARGS["prompt"])


@pytest.mark.browser
def test_the_edit_part_fits_a_phone(browser, served, fake, request, reference):
    pg = _open(browser, served, fake, request, {"width": 390, "height": 844})
    choose_dropdown(pg, "model", "gpt-image-2 ")
    pg.locator("#edit").get_by_text("Edit an image").click()
    pg.locator("#references input[type=file]").set_input_files(str(reference))
    expect(pg.locator("#editor canvas").last).to_be_visible()
    overflow = pg.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
    box = pg.locator("#editor").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    pg.screenshot(path=str(REPO / "test-output" / "edit-phone.png"), full_page=True)
