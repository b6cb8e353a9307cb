"""Output formats end to end: validation, the request, the fake, the saved file and its parameters."""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import pytest
from PIL import Image

from dalle3 import simulator
from dalle3.files import metadata
from dalle3.cli import generation_text
from dalle3.models.text import models_markdown
from dalle3.http.client import ImagesClient
from dalle3.files.containers import image_format, image_size_or_none, jpeg_segments, webp_chunks
from dalle3.errors import BadRequestError, ValidationError
from dalle3.models import MODELS
from dalle3.views.studio_view import model_view, output_view, restore
from dalle3.views.session import SessionState
from dalle3.params import request_body, validate
from dalle3.settings import Settings
from dalle3.studio import Studio

KEY = "sk-test-SECRET-formats-0123456789"
REPO = Path(__file__).resolve().parents[1]
PARAMS = {"prompt": "a fox <b>&amp;</b> \"quoted\" ü 🦊", "seed": 3, "revised_prompt": "A fox."}


def encoded(fmt: str, mode: str = "RGB", **options) -> bytes:
    buffer = io.BytesIO()
    colour = (10, 200, 30, 0) if mode == "RGBA" else (10, 200, 30)
    Image.new(mode, (96, 64), colour).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def exif() -> bytes:
    data = Image.Exif()
    data[0x0131] = "a camera app"  # Software
    return data.tobytes()


def studio_for(fake, tmp_path: Path) -> Studio:
    settings = Settings(api_key=KEY, base_url=fake.base_url, output_dir=tmp_path, timeout_s=5, max_retries=0)
    return Studio(settings, ImagesClient(settings))


@pytest.mark.parametrize("image", [
    encoded("JPEG", quality=80),
    encoded("JPEG", exif=exif()),
    encoded("WEBP", quality=80),  # simple lossy: a VP8X header is added
    encoded("WEBP", "RGBA", lossless=True),  # simple lossless with alpha: VP8X keeps the alpha flag
    encoded("WEBP", "RGBA", quality=80),  # already extended (VP8X + ALPH)
    encoded("PNG"),
], ids=["jpeg", "jpeg-exif", "webp-lossy", "webp-lossless-alpha", "webp-vp8x", "png"])
def test_parameters_round_trip_in_every_format_and_the_image_still_opens(image):
    tagged = metadata.embed(image, PARAMS)
    assert metadata.read_parameters(tagged) == PARAMS
    assert image_format(tagged) == image_format(image) and image_size_or_none(tagged) == (96, 64)
    with Image.open(io.BytesIO(tagged)) as reopened, Image.open(io.BytesIO(image)) as original:
        reopened.load()
        assert reopened.mode == original.mode and reopened.tobytes() == original.convert(original.mode).tobytes()
    if image_format(image) == "webp":
        assert struct.unpack("<I", tagged[4:8])[0] == len(tagged) - 8  # RIFF size fixed
        assert [k for k, _, _ in webp_chunks(tagged)][0] == b"VP8X"


def test_jpeg_parameters_are_one_app1_segment_spliced_after_the_headers_without_touching_the_rest():
    image = encoded("JPEG", quality=80)
    tagged = metadata.embed(image, PARAMS)
    segments = list(jpeg_segments(tagged))
    assert segments[0][0] == 0xE0 and segments[1][0] == 0xE1  # after JFIF APP0
    _, start, end = segments[1]
    assert tagged[:start - 4] + tagged[end:] == image


def test_parameters_larger_than_one_jpeg_segment_travel_as_extended_xmp():
    huge = {"prompt": "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(32000)),
            "revised_prompt": "".join(chr(0x1F300 + (i * 31) % 700) for i in range(32000))}
    tagged = metadata.embed(encoded("JPEG"), huge)
    assert sum(1 for m, _, _ in jpeg_segments(tagged) if m == 0xE1) > 2
    assert metadata.read_parameters(tagged) == huge


@pytest.mark.parametrize("packet_text", [
    "[" * 30_000 + "]" * 30_000,
    '{"prompt": 5}',
    "not json",
], ids=["deep-nesting", "wrong-shape", "not-json"])
def test_hostile_xmp_answers_none(packet_text):
    from xml.sax.saxutils import escape

    packet = f"<dalle3:parameters>{escape(packet_text)}</dalle3:parameters>".encode()
    image = encoded("JPEG")
    hostile = image[:2] + b"\xff\xe1" + struct.pack(">H", 2 + 29 + len(packet)) + \
        b"http://ns.adobe.com/xap/1.0/\0" + packet + image[2:]
    assert metadata.read_parameters(hostile) is None


def test_oversized_truncated_and_foreign_files_answer_none(tmp_path):
    big = tmp_path / "big.jpg"
    with big.open("wb") as handle:
        handle.truncate(metadata.MAX_FILE_BYTES + 1)
    assert metadata.read_parameters(big) is None
    tagged = metadata.embed(encoded("WEBP"), PARAMS)
    assert metadata.read_parameters(tagged[: len(tagged) // 2]) is None
    assert metadata.read_parameters(encoded("JPEG")) is None
    assert metadata.read_parameters(b"RIFF\0\0\0\0WEBP") is None
    assert metadata.read_parameters(tmp_path / "missing.webp") is None


@pytest.mark.parametrize("kwargs,words", [
    ({"output_format": "png", "output_compression": 50}, "jpeg and webp only"),
    ({"output_format": "jpeg", "extras": {"background": "transparent"}}, "transparent background needs png or webp"),
    ({"output_format": "gif"}, "preview access"),
    ({"output_format": "svg"}, "SVG needs project access"),
    ({"output_format": "jpeg", "output_compression": 101}, "0 to 100"),
    ({"output_format": "tiff"}, "Choose one of: png, webp, jpeg"),
    ({"model": "dall-e-3", "output_format": "jpeg"}, "always returns PNG"),
    ({"quality": "xhigh"}, "not available for gpt-image-2"),
])
def test_validation_refuses_output_mixes_the_api_would_refuse(kwargs, words):
    kwargs.setdefault("model", "gpt-image-2")
    with pytest.raises(ValidationError) as info:
        validate("a fox", **kwargs)
    assert words in info.value.user_message


def test_request_body_carries_format_compression_and_safety_id_but_parameters_do_not_keep_the_id():
    request = validate("a fox", model="gpt-image-2.5-flare", quality="xhigh", output_format="webp",
                       output_compression="80", safety_identifier="a" * 64)
    body = request_body(request, MODELS["gpt-image-2.5-flare"])
    assert (body["output_format"], body["output_compression"], body["quality"]) == ("webp", 80, "xhigh")
    assert body["safety_identifier"] == "a" * 64
    assert "safety_identifier" not in request.parameters()
    assert request == validate("a fox", model="gpt-image-2.5-flare", quality="xhigh", output_format="webp",
                               output_compression=80)  # the cache is shared across sessions


@pytest.mark.parametrize("fmt,compression", [("jpeg", 60), ("webp", None), ("png", None)])
def test_studio_saves_the_api_bytes_in_the_asked_format_with_parameters_and_size(fake_api, tmp_path, fmt, compression):
    request = validate("a fox", model="gpt-image-2.5-sunburst", size="1536x1024", output_format=fmt,
                       output_compression=compression, extras={"background": "opaque"})
    result = studio_for(fake_api, tmp_path).generate(request)
    data = result.path.read_bytes()
    assert result.path.suffix == {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}[fmt]
    assert image_format(data) == fmt and result.size == (1536, 1024) and result.file_bytes == len(data)
    stored = metadata.read_parameters(result.path)
    assert stored["output_format"] == fmt and stored.get("output_compression") == compression
    assert restore(stored).request.output_format == fmt
    sent = fake_api.requests[-1].json
    assert sent["output_format"] == fmt and sent.get("output_compression") == compression
    assert f"({fmt})" in generation_text(result) and "File: " in generation_text(result)


def test_xhigh_on_a_model_the_sdk_documents_is_sent_and_billed(fake_api, tmp_path):
    result = studio_for(fake_api, tmp_path).generate(validate("a fox", model="gpt-image-2.5-flare-2026-09-08",
                                                              quality="max"))
    assert fake_api.requests[-1].json["quality"] == "max" and result.cost.usd > 0.4


def test_an_api_refusal_of_an_unconfirmed_26_quality_is_explained_plainly(fake_api, tmp_path):
    with pytest.raises(BadRequestError) as info:
        studio_for(fake_api, tmp_path).generate(validate("a fox", model="gpt-image-2.6-flare", quality="xhigh"))
    message = info.value.user_message
    assert "unconfirmed evidence" in message and "pick another quality" in message
    assert KEY not in message


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_simulator_draws_the_asked_format_and_a_transparent_background(fmt):
    background = "opaque" if fmt == "jpeg" else "transparent"
    request = validate("a fox", model="gpt-image-2", size="1024x1536", output_format=fmt,
                       output_compression=70 if fmt != "png" else None, extras={"background": background})
    data = simulator.render(request)
    assert image_format(data) == fmt and image_size_or_none(data) == (1024, 1536)
    assert data == simulator.render(request)
    with Image.open(io.BytesIO(data)) as image:
        if background == "transparent":
            assert image.mode == "RGBA" and image.getpixel((0, image.height // 2))[3] == 0
            assert image.getpixel((image.width // 2, image.height // 2))[3] == 255


def test_output_controls_show_only_for_models_with_a_format_choice():
    assert not output_view("dall-e-3", "jpeg", 50).visible
    view = output_view("gpt-image-2", "webp", 80, background="transparent")
    assert view.visible and view.formats == ("png", "webp", "jpeg") and view.compression_visible
    assert (view.output_format, view.compression, view.note) == ("webp", 80, "")
    png = output_view("gpt-image-2", "png", 80)
    assert not png.compression_visible and png.compression is None
    assert "transparent background needs png or webp" in output_view("gpt-image-2", "jpeg", None, "transparent").note
    assert "xhigh" in model_view("gpt-image-2.6-flare", None, None, SessionState()).quality_info
    assert "xhigh" not in model_view("gpt-image-2", None, None, SessionState()).quality_info


def test_readme_model_table_is_the_generated_one():
    assert models_markdown() in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("body,status,param", [
    ({"model": "gpt-image-2.5-sunburst-2026-09-08", "quality": "xhigh"}, 200, None),
    ({"model": "gpt-image-2.6-sunburst", "quality": "max"}, 400, "quality"),
    ({"model": "gpt-image-2", "output_format": "png", "output_compression": 50}, 400, "output_compression"),
    ({"model": "gpt-image-2", "output_format": "gif"}, 403, "output_format"),
    ({"model": "gpt-image-1.5", "size": "1536x864"}, 400, "size"),
    ({"model": "gpt-image-2", "safety_identifier": 5}, 400, "safety_identifier"),
], ids=["2.5-snapshot-xhigh", "2.6-max", "png-compression", "gif", "gpt1-custom-size", "id-type"])
def test_fake_checks_the_new_values_the_way_the_sdk_documents_them(fake_api, body, status, param):
    import requests

    answer = requests.post(f"{fake_api.base_url}/images/generations", json={"prompt": "a fox", **body},
                           headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
    assert answer.status_code == status
    if param:
        assert answer.json()["error"]["param"] == param
    else:
        assert answer.json()["quality"] == body["quality"]


def test_cli_writes_the_asked_format_and_reads_it_back(tmp_path):
    from tests.test_cli import run_cli, saved_path

    done = run_cli(tmp_path, "a fox", "--model", "gpt-image-2", "--output-format", "webp",
                   "--output-compression", "40", "--offline")
    assert done.returncode == 0, done.stderr
    saved = saved_path(done.stdout)
    assert saved.suffix == ".webp" and re.search(r"^File: \d+ KB \(webp\)$", done.stdout, re.M)
    read = run_cli(tmp_path, "--read", str(saved))
    assert read.returncode == 0 and '"output_compression": 40' in read.stdout


def test_switching_away_from_xhigh_keeps_the_nearest_quality_and_26_says_what_is_unconfirmed():
    from dalle3.models import closest_quality_and_size

    assert closest_quality_and_size(MODELS["gpt-image-2"], "max", "1536x864") == ("high", "1536x864")
    note = model_view("gpt-image-2.6-sunburst", "xhigh", "1536x864", SessionState()).note
    assert "xhigh/max and custom sizes come from third-party guides" in note and "unconfirmed" in note
    assert "unconfirmed" not in model_view("gpt-image-2.5-flare", "xhigh", "1536x864", SessionState()).note


def test_a_streamed_jpeg_arrives_with_previews_and_is_saved_as_jpeg(fake_api, tmp_path):
    previews = []
    result = studio_for(fake_api, tmp_path).generate(
        validate("a fox", model="gpt-image-2.5-flare", output_format="jpeg", output_compression=50),
        previews=2, on_preview=previews.append)
    assert fake_api.requests[-1].json["stream"] is True and len(previews) == 2
    assert result.path.suffix == ".jpg" and metadata.read_parameters(result.path)["output_compression"] == 50
