"""Hostile inputs against the package itself: what an anonymous visitor of a public Space could send, refused.

Each test replays one attack or hostile value against the real pieces (the
Studio against the loopback fake, PNG files built byte by byte) and checks
what the visitor would see. The spend cap's attacks are in
``test_ledger.py``.
"""

from __future__ import annotations

import re

import io
import logging
import subprocess
import sys
import tracemalloc
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from dalle3.files import metadata
from dalle3.views import studio_view, status
from dalle3.errors import AuthenticationError, ConfigurationError, ConnectionFailedError, ValidationError
from dalle3.files.images import MAX_PIXELS, checked_image_size, install_pillow_limit
from dalle3.files.containers import png_chunk as _chunk
from dalle3.models import image_models, parse_size, resolve
from dalle3.params import GenerationRequest, parse_seed, validate
from dalle3.settings import Settings, from_env
from dalle3.results import GenerationResult
from dalle3.studio import Studio
from dalle3.models.pricing import Price
from tests.app_process import ROOT
from tests.apphelpers import run_concurrently
from tests.fake_openai import Outcome, closed_port_url, png_with_c2pa

SERVER_KEY = "sk-server-KEY-0123456789abcdef"
OWN_KEY = "sk-own-VISITOR-A-0123456789abcdef"
HOSTILE_MODEL = "gpt-image-2 ![x](http://host/p.png) <img src=x>"


def studio_for(fake, tmp_path: Path, **overrides) -> Studio:
    settings = Settings(api_key=SERVER_KEY, base_url=fake.base_url, timeout_s=5.0, connect_timeout_s=1.0,
                        output_dir=tmp_path)
    return Studio(replace(settings, **overrides))


# --- no result crosses payers ---------------------------------------------------------------------

def test_own_key_image_is_not_returned_to_the_server_key_or_a_bogus_key(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path)
    request = validate("a secret prompt only visitor A typed", seed=0)
    first = studio.generate(request, OWN_KEY)
    server = studio.generate(request)  # a visitor with no key: the server pays
    assert not server.cached and server.path != first.path and fake_api.generation_count == 2
    fake_api.script(Outcome.invalid_key())
    with pytest.raises(AuthenticationError):
        studio.generate(request, "sk-bogus-0000")
    again = studio.generate(request, OWN_KEY)
    assert again.cached and again.path == first.path and again.request_id == first.request_id
    assert fake_api.generation_count == 3


def test_visitor_without_any_key_gets_the_simulator_not_an_own_key_image(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path, api_key=None)
    request = validate("visitor A's prompt", seed=0)
    paid = studio.generate(request, OWN_KEY)
    anonymous = studio.generate(request)
    assert anonymous.simulated and not anonymous.cached and anonymous.path != paid.path
    assert "returned from cache" not in status.success(anonymous)


def test_two_own_keys_asking_at_once_each_pay_for_their_own_image(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path)
    fake_api.rendezvous = 2  # neither answer before both are in flight: single-flight must not join them
    request = validate("the same prompt", seed=4)
    results: list[GenerationResult] = run_concurrently(
        *(lambda k=k: studio.generate(request, k) for k in (OWN_KEY, "sk-own-VISITOR-B-0123456789abcdef")))
    assert fake_api.max_in_flight == 2  # they were asking at once
    assert fake_api.generation_count == 2 and not any(r.cached for r in results)
    assert len({r.request_id for r in results}) == 2


def test_cache_keys_hold_a_salted_hash_never_the_key(fake_api, tmp_path):
    studio = studio_for(fake_api, tmp_path)
    studio.generate(validate("hash me", seed=1), OWN_KEY)
    assert OWN_KEY not in repr(list(studio.recall.cache._items)) and "VISITOR" not in repr(list(studio.recall.cache._items))
    code = ("import sys; from dalle3 import Settings, Studio; "
            "print(Studio(Settings(api_key='sk-server', output_dir=None)).payer(sys.argv[1]))")
    other_process = subprocess.run([sys.executable, "-c", code, OWN_KEY], capture_output=True, text=True,
                                   check=True, cwd=ROOT).stdout.strip()
    assert other_process.startswith("own:") and studio.payer(OWN_KEY) != other_process  # the salt is per process
    assert studio.payer(OWN_KEY) == studio.payer(f"  {OWN_KEY} ")
    assert (studio.payer(None), studio_for(fake_api, tmp_path, offline=True).payer(OWN_KEY)) == ("server", "simulator")


def test_a_blank_own_key_is_no_key_to_every_question_the_studio_answers(fake_api, tmp_path):
    """What the page says (backend_for) and what the call does agree: blanks are no key at all."""
    keyless = studio_for(fake_api, tmp_path, api_key=None)
    assert keyless.backend_for("   ") == keyless.generate(validate("blank", seed=1), "   ").backend == "simulator"
    served = studio_for(fake_api, tmp_path)
    assert (served.backend_for("  "), served.payer("  ")) == ("openai", "server")


# --- text from a dropped PNG is inert -------------------------------------------------------------

def test_png_naming_a_hostile_model_is_refused_by_restore():
    png = metadata.embed(png_with_c2pa(), {"prompt": "a fox", "seed": 0, "model": HOSTILE_MODEL})
    parameters = metadata.read_parameters(png)
    assert parameters["model"] == HOSTILE_MODEL and studio_view.restore(parameters) is None


@pytest.mark.parametrize("model_id", [HOSTILE_MODEL, "gpt-image-2<script>", "gpt-image-2\n", "GPT-IMAGE-2X",
                                      "gpt-image-2" + "a" * 64, "dall-e-3 ", ["gpt-image-2"]])
def test_resolve_refuses_ids_outside_the_strict_pattern(model_id):
    assert resolve(model_id) is None


def test_endpoint_listing_keeps_only_checked_ids_and_dates():
    offered = image_models([{"id": HOSTILE_MODEL}, {"id": "gpt-image-2.7-flare", "shutdown_date": "<b>soon</b>"},
                            {"id": "gpt-image-1.5", "shutdown_date": "2026-12-01", "owned_by": "![x](http://h)"},
                            {"id": 7}])
    assert offered == {"gpt-image-2.7-flare": {"id": "gpt-image-2.7-flare"},
                       "gpt-image-1.5": {"id": "gpt-image-1.5", "shutdown_date": "2026-12-01"}}


def test_model_id_in_the_status_is_escaped_even_if_it_got_past_validation(tmp_path):
    request = GenerationRequest("a fox", model=HOSTILE_MODEL, style=None, quality="<b>q</b>")
    result = GenerationResult(request, tmp_path / "x.png", (1, 1), None, None, 0.1, Price(0.0), "openai")
    text = status.success(result)
    assert "<img" not in text and "<b>" not in text and "![" not in text
    assert not re.search(r"(?<!\\)\]\(http", text), "a live Markdown link"


# --- hostile values end as plain messages ---------------------------------------------------------

def _png_with_text(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("parameters", text)
    buffer = io.BytesIO()
    Image.new("L", (4, 4)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def test_deeply_nested_json_in_a_png_reads_as_no_parameters(caplog):
    nested = '{"prompt": "x", "a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with caplog.at_level(logging.DEBUG):
        assert metadata.read_parameters(_png_with_text(nested)) is None
        assert studio_view.restore(metadata.read_parameters(_png_with_text(nested))) is None
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("size", ["¹⁰²⁴x1024", "１０２４x１０２４", "١٠٢٤x١٠٢٤", "1024x1024\n", " 1024x1024",
                                  "9" * 5000 + "x16", "+1024x1024", "1_024x1024"])
def test_size_with_other_than_ascii_digits_is_refused_with_a_message(size):
    assert parse_size(size) is None
    with pytest.raises(ValidationError, match="Size"):
        validate("a fox", size=size, model="gpt-image-2")


@pytest.mark.parametrize("seed", [True, False, float("nan"), float("inf"), -float("inf"), 2.5, "5.0", "⁵", "５",
                                  "٥", "-1", "", [5], {"seed": 5}, 2 ** 31,
                                  pytest.param(10 ** 5000, id="int-of-5000-digits")])
def test_seed_that_is_not_a_whole_number_in_range_is_refused_with_a_message(seed):
    with pytest.raises(ValidationError, match="Seed must be a whole number") as info:
        parse_seed(seed)
    assert len(info.value.user_message) < 160  # a bounded message, not the value's whole repr


@pytest.mark.parametrize("seed,expected", [(5, 5), (5.0, 5), ("5", 5), (" 7 ", 7), ("2147483647", 2147483647)])
def test_seed_as_ascii_digits_or_a_whole_float_is_accepted(seed, expected):
    assert parse_seed(seed) == expected


@pytest.mark.parametrize("field,value", [("quality", ["hd"]), ("quality", {"a": 1}), ("size", 1024),
                                         ("size", None), ("style", ["x"]), ("prompt", 5)])
def test_wrongly_typed_values_end_as_validation_errors(field, value):
    raw = {"prompt": "a fox", "seed": 0, "quality": None, "style": None, "size": "1024x1024", "model": "dall-e-3"}
    raw[field] = value
    if value is None:  # a blank size takes the default: that one is valid
        assert validate(**raw).size == "1024x1024"
        return
    with pytest.raises(ValidationError):
        validate(**raw)


# --- the endpoint's host, never its credentials ---------------------------------------------------

def test_banner_and_errors_name_the_host_without_userinfo(tmp_path):
    port = closed_port_url().split(":")[2].split("/")[0]
    # from_env refuses userinfo; a Settings built in code may still carry it, and it is never shown
    settings = Settings(base_url=f"http://user:PASSWORD123@127.0.0.1:{port}/v1", api_key=SERVER_KEY,
                        output_dir=tmp_path, max_retries=0)
    assert settings.base_url_shown == f"http://127.0.0.1:{port}/v1"
    banner = studio_view.banner_text(settings)
    assert "PASSWORD123" not in banner and "user" not in banner and f"127.0.0.1:{port}" in banner
    with pytest.raises(ConnectionFailedError) as info:
        Studio(settings).generate(validate("a fox"))
    assert "PASSWORD123" not in info.value.user_message and f"127.0.0.1:{port}/v1" in info.value.user_message


@pytest.mark.parametrize("url", ["https://h/v1#SECRET99",
                                 "https://user:SECRET99@h:99999/v1", "ftp://SECRET99@h/v1", "https:///v1",
                                 "https://h/v1 SECRET99", "api.openai.com"])
def test_bad_base_url_stops_start_up_without_repeating_it(url):
    with pytest.raises(ConfigurationError, match="OPENAI_BASE_URL") as info:
        from_env({"OPENAI_BASE_URL": url})
    assert "SECRET99" not in info.value.user_message


# --- pixel bombs refused before decoding ----------------------------------------------------------

def _grey_png(width: int, height: int, complete: bool = True) -> bytes:
    """A real greyscale PNG built row by row (never holding the pixels); ``complete=False``: header only."""
    head = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\0\0\0\0")
    squeeze = zlib.compressobj(9)
    row = bytes(width + 1)
    body = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush() if complete else b"\x78\x9c"
    return head + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _grey_png(7000, 7000)  # 49 million pixels, ~50 KB on disk


def test_pixel_bomb_is_refused_from_its_header_without_decoding(bomb, tmp_path):
    assert 7000 * 7000 > MAX_PIXELS and len(bomb) < 200_000
    path = tmp_path / "bomb.png"
    path.write_bytes(metadata.embed(bomb, {"prompt": "a fox", "seed": 0}))
    tracemalloc.start()
    try:
        with pytest.raises(ValidationError, match="million pixels"):
            checked_image_size(path)
        assert metadata.read_parameters(path) is None  # its parameters are never read either
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # decoding would take 49 MB


def test_image_past_twice_pillows_own_limit_is_refused_with_our_message():
    header_only = _grey_png(20_000, 20_000, complete=False)  # 400 million pixels: Pillow itself raises
    with pytest.raises(ValidationError, match="million pixels"):
        checked_image_size(header_only)
    assert metadata.read_parameters(header_only) is None


def test_ordinary_image_passes_and_non_image_is_a_plain_message():
    assert checked_image_size(png_with_c2pa()) == (64, 48)
    with pytest.raises(ValidationError, match="not an image"):
        checked_image_size(b"<html>not an image</html>")


def test_installed_pillow_limit_makes_any_decoder_refuse_a_bomb_before_decoding(bomb, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # restored after the test
    install_pillow_limit()
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bomb))  # what Gradio's own image handling calls first
    with Image.open(io.BytesIO(_grey_png(2048, 2048))) as fine:  # an ordinary size still opens and decodes
        fine.load()
        assert fine.size == (2048, 2048)
