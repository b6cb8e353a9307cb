"""Edits and batches: inputs prepared and refused before any call, multipart edits, n images per click."""

from __future__ import annotations

import base64
import io
from pathlib import Path
import struct
import zlib

import openai
import pytest
from PIL import Image, ImageDraw

from dalle3 import Studio, validate
from dalle3.models import pricing
from dalle3.edits import references
from dalle3.edits.inputs import EditInputs, mask_from_painting, prepare_edit, prepare_mask
from dalle3.errors import BadRequestError, ContentPolicyError, SpendCapError, ValidationError
from dalle3.files.metadata import read_parameters
from dalle3.params import profile_for
from dalle3.settings import Settings
from tests.fake_openai import Outcome

GPT2 = profile_for("gpt-image-2")
KEY = "sk-test-edit-0000000000000000"


def image_bytes(size=(64, 48), mode="RGB", color=(200, 30, 30), fmt="PNG", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def painted_circle(size=(64, 48)) -> Image.Image:
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).ellipse((size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2), fill=(255, 255, 255, 255))
    return layer


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` and holds no pixels: decoding it would fail or explode."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture
def studio(fake_api, tmp_path) -> Studio:
    settings = Settings(api_key=KEY, base_url=fake_api.base_url, output_dir=tmp_path / "out", max_retries=0)
    return Studio(settings)


# ---------------------------------------------------------------- preparing one reference


def test_a_pixel_bomb_is_refused_from_its_header_before_decoding():
    # (the size is named unless Pillow's own guard, installed at the app's start, refused it first)
    with pytest.raises(ValidationError, match="too large to open safely.*the limit is 40 million pixels"):
        references.prepare(png_header_only(20_000, 2_500))
    with pytest.raises(ValidationError, match="too large to open safely"):  # past Pillow's own guard too
        references.prepare(png_header_only(100_000, 100_000))


def test_a_file_that_is_not_an_image_is_refused_plainly():
    with pytest.raises(ValidationError, match="is not an image"):
        references.prepare(b"%PDF-1.7 not a picture")


def test_a_small_png_is_sent_as_its_own_bytes_and_named_by_its_hash():
    data = image_bytes()
    ref = references.prepare(data)
    assert ref.data == data and ref.mime == "image/png" and ref.size == (64, 48)
    assert ref.sha256 == references.sha256(data)


def test_exif_orientation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = image_bytes((80, 40), fmt="JPEG", exif=exif.tobytes())
    ref = references.prepare(data)
    assert ref.size == (40, 80) == decoded(ref.data).size


@pytest.mark.parametrize("profile", [None, b"not an ICC profile"])
def test_cmyk_becomes_rgb(profile):
    extra = {"icc_profile": profile} if profile else {}
    ref = references.prepare(image_bytes(mode="CMYK", color=(0, 255, 255, 0), fmt="JPEG", **extra))
    image = decoded(ref.data)
    assert image.mode == "RGB" and image.getpixel((5, 5))[0] > 200


def test_sixteen_bit_grey_is_scaled_not_clipped():
    buffer = io.BytesIO()
    Image.new("I;16", (32, 32), 32768).save(buffer, format="PNG")
    image = decoded(references.prepare(buffer.getvalue()).data)
    assert image.mode == "RGB" and 126 <= image.getpixel((0, 0))[0] <= 129


def test_a_sixteen_bit_rgb_png_is_sent_as_eight_bit():
    import numpy

    pixels = numpy.full((8, 8, 3), 40000, dtype=">u2")
    buffer = io.BytesIO()
    # Pillow cannot write 16-bit RGB, so build the PNG by hand: IHDR bit depth 16, colour type 2.
    raw = b"".join(b"\0" + row.tobytes() for row in pixels)
    ihdr = struct.pack(">IIBBBBB", 8, 8, 16, 2, 0, 0, 0)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    ref = references.prepare(buffer.getvalue())
    assert ref.data != buffer.getvalue() and ref.data[24] == 8
    assert 154 <= decoded(ref.data).getpixel((0, 0))[0] <= 157  # 40000 / 65535 * 255


def test_a_palette_png_with_transparency_keeps_it_as_rgba():
    palette = Image.new("P", (16, 16), 0)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", transparency=0)
    image = decoded(references.prepare(buffer.getvalue()).data)
    assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0


def test_a_large_photo_is_scaled_to_the_long_edge_and_stays_jpeg():
    ref = references.prepare(image_bytes((4096, 3072), fmt="JPEG", quality=80))
    assert ref.size == (2048, 1536) and ref.mime == "image/jpeg" and ref.source_size == (4096, 3072)
    png = references.prepare(image_bytes((3000, 1000)))
    assert png.size == (2048, 683) and png.mime == "image/png"


def test_over_the_request_budget_everything_is_prepared_again_smaller(monkeypatch):
    data = image_bytes((1600, 1200), fmt="JPEG")
    monkeypatch.setattr(references, "KEEP_BYTES", 1)  # force a re-encode, so sizes follow the edge
    one = references.prepare(data)
    monkeypatch.setattr(references, "REQUEST_BUDGET", 3 * len(one.data))
    refs = references.prepare_all([data] * 4)
    assert all(references.FALLBACK_EDGE / 2 < max(r.size) <= references.FALLBACK_EDGE for r in refs)


# ---------------------------------------------------------------- masks, markup and the set rules


def test_a_painted_layer_becomes_transparent_exactly_where_painted():
    mask = decoded(mask_from_painting(painted_circle()))
    assert mask.mode == "RGBA"
    assert mask.getpixel((24, 18))[3] == 0  # painted: may change
    assert mask.getpixel((1, 1))[3] == 255  # not painted: kept


def test_a_white_on_black_mask_file_is_read_as_a_painting():
    drawing = Image.new("RGB", (64, 48), (0, 0, 0))
    ImageDraw.Draw(drawing).rectangle((0, 0, 10, 10), fill=(255, 255, 255))
    buffer = io.BytesIO()
    drawing.save(buffer, format="PNG")
    first = references.prepare(image_bytes())
    mask = decoded(prepare_mask(buffer.getvalue(), first).data)
    assert mask.getpixel((5, 5))[3] == 0 and mask.getpixel((40, 40))[3] == 255


def test_a_mask_of_the_same_shape_is_resized_to_the_first_image():
    first = references.prepare(image_bytes((64, 48)))
    mask = prepare_mask(mask_from_painting(painted_circle((128, 96))), first)
    assert decoded(mask.data).size == (64, 48)


@pytest.mark.parametrize("case, call, words", [
    ("17 images", lambda: prepare_edit(GPT2, [image_bytes()] * 17), "at most 16"),
    ("a non-image", lambda: prepare_edit(GPT2, [image_bytes(), b"hello"]), "Reference image 2 is not an image"),
    ("a mask without an image", lambda: prepare_edit(GPT2, [], mask=image_bytes()), "a mask needs the image"),
    ("a mask of the wrong shape", lambda: prepare_edit(GPT2, [image_bytes((64, 48))],
                                                        mask=mask_from_painting(painted_circle((48, 48)))),
     "must have the same shape"),
    ("mask and markup", lambda: prepare_edit(profile_for("gpt-image-2.5-flare"), [image_bytes()],
                                             mask=image_bytes(), markup=image_bytes()), "not both"),
    ("markup on a model without it", lambda: prepare_edit(GPT2, [image_bytes()], markup=image_bytes(mode="RGBA")),
     "does not take a markup"),
    ("a pixel bomb", lambda: prepare_edit(GPT2, [png_header_only(20_000, 20_000)]), "too large to open safely"),
    ("dall-e-3", lambda: prepare_edit(profile_for("dall-e-3"), [image_bytes()]), "cannot edit images"),
    ("input fidelity on gpt-image-2", lambda: prepare_edit(GPT2, [image_bytes()], input_fidelity="high"),
     "leave it empty"),
    ("a mask that marks nothing", lambda: prepare_edit(GPT2, [image_bytes()], mask=image_bytes(mode="RGBA")),
     "marks nothing"),
])
def test_bad_inputs_are_refused_before_any_call(fake_api, case, call, words):
    with pytest.raises(ValidationError, match=words):
        call()
    assert fake_api.edit_requests == []


# ---------------------------------------------------------------- the edit call, through the fake


def test_an_edit_posts_multipart_as_the_sdk_does_and_saves_each_image(studio, fake_api):
    inputs = prepare_edit(GPT2, [image_bytes(), image_bytes(color=(0, 0, 255))],
                          mask=mask_from_painting(painted_circle()))
    result = studio.edit(validate("make it night", model="gpt-image-2", n=2), inputs)
    (seen,) = fake_api.edit_requests
    assert [p.name for p in seen.files] == ["image[]", "image[]", "mask"]
    assert seen.files[0].data == inputs.images[0].data
    assert seen.form["n"] == "2" and seen.form["model"] == "gpt-image-2" and "input_fidelity" not in seen.form
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert len(result.images) == 2 and result.path == result.images[0].path
    stored = read_parameters(result.images[1].path)
    assert stored["references"] == [r.sha256 for r in inputs.images] and stored["mask"] == inputs.mask.sha256
    assert stored["batch_index"] == 1 and stored["n"] == 2


def test_input_fidelity_is_sent_where_the_model_takes_it(studio, fake_api):
    inputs = prepare_edit(profile_for("gpt-image-1.5"), [image_bytes()], input_fidelity="high")
    studio.edit(validate("x", model="gpt-image-1.5"), inputs)
    assert fake_api.edit_requests[0].form["input_fidelity"] == "high"


def test_a_413_from_the_server_is_a_plain_message_and_nothing_is_charged(studio, fake_api):
    fake_api.max_body_bytes = 1000
    with pytest.raises(BadRequestError, match="too large for the server .*fewer or smaller"):
        studio.edit(validate("x", model="gpt-image-2"), prepare_edit(GPT2, [image_bytes((256, 256))]))
    assert studio.ledger.spent == 0


def test_content_policy_on_an_input_image_names_the_images(studio, fake_api):
    fake_api.script(Outcome.image_policy())
    with pytest.raises(ContentPolicyError, match="one of the reference images"):
        studio.edit(validate("x", model="gpt-image-2"), prepare_edit(GPT2, [image_bytes()]))


def test_the_same_edit_again_comes_from_the_cache_and_a_new_mask_does_not(studio, fake_api):
    request = validate("x", model="gpt-image-2")
    first = studio.edit(request, prepare_edit(GPT2, [image_bytes()]))
    again = studio.edit(request, prepare_edit(GPT2, [image_bytes()]))
    masked = studio.edit(request, prepare_edit(GPT2, [image_bytes()], mask=mask_from_painting(painted_circle())))
    assert again.cached and again.path == first.path and not masked.cached
    assert len(fake_api.edit_requests) == 2


def test_the_sdk_client_is_accepted_by_the_fake_and_refused_where_the_sdk_says(fake_api):
    sdk = openai.OpenAI(base_url=fake_api.base_url, api_key=KEY, max_retries=0)
    mask = mask_from_painting(painted_circle((1024, 1024)))
    answer = sdk.images.edit(image=[("a.png", image_bytes((1024, 1024)), "image/png")] * 3,
                             mask=("m.png", mask, "image/png"), prompt="p", model="gpt-image-2", n=3)
    assert len(answer.data) == 3 and answer.usage.input_tokens_details.image_tokens > 0
    with pytest.raises(openai.BadRequestError, match="input_fidelity"):
        sdk.images.edit(image=("a.png", image_bytes(), "image/png"), prompt="p", model="gpt-image-2",
                        input_fidelity="high")
    with pytest.raises(openai.BadRequestError, match="mask"):
        sdk.images.edit(image=("a.png", image_bytes((1024, 1024)), "image/png"),
                        mask=("m.png", image_bytes((512, 512), mode="RGBA"), "image/png"), prompt="p",
                        model="gpt-image-2")


# ---------------------------------------------------------------- n images per click


def test_a_batch_of_four_is_saved_as_four_files_each_with_its_index(studio, fake_api):
    result = studio.generate(validate("four foxes", seed=5, model="gpt-image-2", n=4))
    assert fake_api.requests[0].json["n"] == 4
    assert len({i.path for i in result.images}) == 4 and all(i.path.exists() for i in result.images)
    assert [read_parameters(i.path)["batch_index"] for i in result.images] == [0, 1, 2, 3]
    assert result.cost == pricing.from_usage(GPT2, {
        "input_tokens_details": {"text_tokens": 2}, "output_tokens_details": {"image_tokens": 4 * 1056}})


def test_dall_e_3_takes_one_image_per_request():
    with pytest.raises(ValidationError, match="one image per request"):
        validate("x", model="dall-e-3", n=2)
    with pytest.raises(ValidationError, match="from 1 to 10"):
        validate("x", model="gpt-image-2", n=11)


def test_the_price_before_the_click_multiplies_by_n_and_counts_input_images():
    one = pricing.batch_estimate(GPT2, "medium", "1024x1024")
    four = pricing.batch_estimate(GPT2, "medium", "1024x1024", n=4)
    assert four.usd == pytest.approx(4 * one.usd)
    with_refs = pricing.batch_estimate(GPT2, "medium", "1024x1024", n=4, inputs=[(1024, 1024), (1536, 1024)])
    # 1024² -> 512² -> 1 tile: 65 + 129; 1536x1024 -> 768x512 -> 2 tiles: 65 + 258. $8 per 1M image-input tokens.
    assert with_refs.usd == pytest.approx(four.usd + (194 + 323) * 8 / 1e6) and with_refs.estimate
    assert pricing.input_image_tokens(1024, 1024, "high") == 194 + 4096
    assert pricing.input_image_tokens(1536, 1024, "high") == 323 + 6144


def test_the_spend_cap_reserves_the_whole_batch_before_the_call(fake_api, tmp_path):
    one = pricing.worst_case(GPT2, "medium", "1024x1024")
    with_refs = pricing.worst_case(GPT2, "medium", "1024x1024", n=2, input_tokens=1000)
    assert with_refs == pytest.approx(2 * one + pricing.TOKEN_HEADROOM * 1000 * 8 / 1e6)
    settings = Settings(api_key=KEY, base_url=fake_api.base_url, output_dir=tmp_path, max_spend_usd=2.5 * one)
    studio = Studio(settings)
    with pytest.raises(SpendCapError):
        studio.generate(validate("x", model="gpt-image-2", n=3))
    assert fake_api.requests == []
    result = studio.generate(validate("x", model="gpt-image-2", n=2))
    assert studio.ledger.images == 2 and studio.ledger.spent == pytest.approx(result.cost.usd)


# ---------------------------------------------------------------- offline, and restoring


def test_the_simulator_edits_inside_the_mask_only(tmp_path):
    studio = Studio(Settings(offline=True, output_dir=tmp_path))
    red = image_bytes((1024, 1024), color=(255, 0, 0))
    layer = Image.new("RGBA", (1024, 1024), (0, 0, 0, 0))
    ImageDraw.Draw(layer).rectangle((400, 400, 700, 700), fill=(255, 255, 255, 255))
    inputs = prepare_edit(GPT2, [red], mask=mask_from_painting(layer))
    result = studio.edit(validate("x", model="gpt-image-2", n=2), inputs)
    with Image.open(result.path) as image:
        outside, inside = image.convert("RGB").getpixel((200, 300)), image.convert("RGB").getpixel((550, 550))
    assert outside == (255, 0, 0) and inside != (255, 0, 0)
    assert len(result.images) == 2 and result.cost.usd == 0


def test_references_are_found_again_by_hash_or_named_missing(tmp_path):
    studio = Studio(Settings(offline=True, output_dir=tmp_path))
    made = studio.generate(validate("a fox", model="gpt-image-2"))
    inputs = prepare_edit(GPT2, [made.path.read_bytes(), image_bytes()])
    edited = studio.edit(validate("at night", model="gpt-image-2"), inputs)
    found = studio.find_references(read_parameters(edited.path))
    assert found.found == (made.path,) and found.missing == (inputs.images[1].sha256,)
    assert "1 of 2 reference images found" in found.message()
    assert studio.find_references({"references": ["../../etc/passwd"]}).found == ()


def test_a_batch_puts_every_image_in_the_history_and_counts_it(tmp_path):
    from dalle3.views.session import SessionState

    studio = Studio(Settings(offline=True, output_dir=tmp_path))
    inputs = prepare_edit(GPT2, [image_bytes()])
    state = SessionState().after(studio.edit(validate("x", model="gpt-image-2", n=3), inputs))
    assert state.images == 3 and [e.parameters["batch_index"] for e in state.history] == [0, 1, 2]
    assert all(e.parameters["references"] == [inputs.images[0].sha256] for e in state.history)


def test_images_arrive_as_data_urls_bounded_and_checked():
    data = image_bytes()
    assert references.from_data_url("data:image/png;base64," + base64.b64encode(data).decode()) == data
    with pytest.raises(ValidationError, match="data URL"):
        references.from_data_url("data:text/html;base64,PGgxPg==")
    with pytest.raises(ValidationError, match="damaged"):
        references.from_data_url("data:image/png;base64,!!!")


def test_edit_inputs_record_hashes_never_pixels():
    inputs = prepare_edit(GPT2, [image_bytes()])
    assert inputs.parameters() == {"references": [inputs.images[0].sha256]}
    assert isinstance(inputs, EditInputs) and "data=" not in repr(inputs.images[0])


# ---------------------------------------------------------------- the command line


def test_cli_edit_sends_the_images_and_mask_and_saves_every_image(tmp_path, fake_api):
    from tests.test_cli import run_cli

    (tmp_path / "a.jpg").write_bytes(image_bytes((300, 200), fmt="JPEG"))
    (tmp_path / "b.png").write_bytes(image_bytes((100, 100)))
    mask = Image.new("RGB", (600, 400), (0, 0, 0))
    ImageDraw.Draw(mask).rectangle((0, 0, 100, 100), fill=(255, 255, 255))
    mask.save(tmp_path / "m.png")
    done = run_cli(tmp_path, "edit", "a.jpg", "b.png", "--mask", "m.png", "-n", "4", "--model", "gpt-image-2",
                   "add a moon", fake=fake_api)
    assert done.returncode == 0, done.stderr
    assert "Edited from 2 references, mask on the first." in done.stdout
    saved = [line.removeprefix("Saved: ") for line in done.stdout.splitlines() if line.startswith("Saved: ")]
    assert len(saved) == 4 and all(Path(p).is_file() for p in saved)
    (seen,) = fake_api.edit_requests
    assert [p.name for p in seen.files] == ["image[]", "image[]", "mask"] and seen.form["n"] == "4"
    assert Image.open(io.BytesIO(seen.files[2].data)).size == (300, 200)


def test_cli_edit_refuses_a_non_image_with_exit_1_and_no_call(tmp_path, fake_api):
    from tests.test_cli import run_cli

    (tmp_path / "notes.txt").write_text("hello")
    done = run_cli(tmp_path, "edit", "notes.txt", "x", "--model", "gpt-image-2", fake=fake_api)
    assert done.returncode == 1 and "is not an image" in done.stderr and "Traceback" not in done.stderr
    assert fake_api.edit_requests == []


def test_the_status_says_what_was_edited_and_the_facts_list_every_file(tmp_path):
    from dalle3.views import status

    studio = Studio(Settings(offline=True, output_dir=tmp_path))
    inputs = prepare_edit(GPT2, [image_bytes(), image_bytes(), image_bytes()], mask=mask_from_painting(painted_circle()))
    result = studio.edit(validate("x", model="gpt-image-2", n=4), inputs)
    text = status.success(result)
    assert "4 images" in text and "Edited from 3 references, mask on the first." in text
    facts = status.facts(result)
    assert facts["n"] == 4 and len(facts["files"]) == 4 and facts["mask"] == inputs.mask.sha256
    assert all(str(tmp_path) not in f for f in facts["files"])


def test_the_cost_line_prices_the_whole_click_and_restore_keeps_n_and_references():
    from dalle3.views import studio_view
    from dalle3.views.session import SessionState

    click = studio_view.Click(n=4, references=((1024, 1024),))
    text = studio_view.cost_text("gpt-image-2", "medium", "1024x1024", SessionState(), click=click)
    price = pricing.batch_estimate(GPT2, "medium", "1024x1024", 4, [(1024, 1024)])
    assert text.startswith(f"This click (4 images from 1 reference): {price}")
    assert studio_view.cost_text("dall-e-3", "standard", "1024x1024", SessionState()).startswith("This image: $0.040")
    sha = "ab" * 32
    restored = studio_view.restore({"prompt": "p", "model": "gpt-image-2", "n": 3, "references": [sha, "junk"]})
    assert (restored.request.n, restored.references) == (3, (sha,))


def test_a_batch_asked_with_previews_is_asked_the_plain_way_and_arrives_whole(studio, fake_api):
    seen = []
    request = validate("two at once", model="gpt-image-2", n=2)
    assert not studio.streams(request)
    result = studio.generate(request, previews=2, on_preview=seen.append)
    assert len(result.images) == 2 and seen == [] and "stream" not in fake_api.requests[0].json
