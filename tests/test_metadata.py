"""Parameters embedded in images and read back: every original byte and chunk kept."""

import io

import pytest
from PIL import Image

from dalle3.files import metadata
from tests.fake_openai import png_with_c2pa


def test_embed_keeps_every_original_byte_and_chunk():
    original = png_with_c2pa()
    tagged = metadata.embed(original, {"prompt": "a fox", "seed": 3})
    assert b"caBX" in tagged
    # Only our chunks were added: removing them gives the API's bytes back exactly.
    assert len(tagged) > len(original)
    assert tagged[:33] == original[:33] and tagged.endswith(original[33:])
    with Image.open(io.BytesIO(tagged)) as image:
        image.load()
        assert image.size == (64, 48)


def test_settings_round_trip_including_unicode():
    settings = {"prompt": "雪の中の狐 🦊 مرحبا", "seed": 7, "quality": "hd"}
    assert metadata.read_parameters(metadata.embed(png_with_c2pa(), settings)) == settings


@pytest.mark.parametrize("data", [b"", b"not an image", b"\x89PNG\r\n\x1a\ntruncated"])
def test_non_png_or_broken_file_reads_as_no_settings(data):
    assert metadata.read_parameters(data) is None


def test_png_without_our_chunk_reads_as_no_settings():
    assert metadata.read_parameters(png_with_c2pa()) is None


def test_jpeg_reads_as_no_settings():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    assert metadata.read_parameters(buffer.getvalue()) is None
