"""The pieces with no network: metadata, storage, simulator, pricing, settings, ledger, cache."""

import io
import json
import os
import threading
from pathlib import Path

import pytest
from PIL import Image

from dalle3 import simulator
from dalle3.files import metadata
from dalle3.models import pricing
from dalle3.cache import LRUCache
from dalle3.errors import ConfigurationError, SpendCapError
from dalle3.ledger import SpendLedger
from dalle3.models import DALLE3, GPT_IMAGE_2
from dalle3.params import validate
from dalle3.settings import from_env
from dalle3.files.storage import save_image, slug
from tests.apphelpers import run_concurrently
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


def test_simulator_is_deterministic_and_sized_and_differs_by_seed():
    a = simulator.render(validate("a lighthouse", seed=1, size="1024x1792"))
    assert a == simulator.render(validate("a lighthouse", seed=1, size="1024x1792"))
    assert a != simulator.render(validate("a lighthouse", seed=2, size="1024x1792"))
    assert metadata.png_size(a) == (1024, 1792)


@pytest.mark.parametrize("prompt,expected", [
    ("A red fox, in the snow!", "a-red-fox-in-the-snow"),
    ("../../etc/passwd", "etc-passwd"),
    ("con", "_con"),
    ("🦊🦊", "image"),
    ("<script>alert(1)</script>", "script-alert-1-script"),
])
def test_file_names_from_prompts_are_safe(prompt, expected):
    assert slug(prompt) == expected


def test_slug_is_bounded():
    assert len(slug("word" * 200, words=50)) <= 60


def test_saves_never_overwrite_even_when_concurrent(tmp_path, monkeypatch):
    link, gate, first = os.link, threading.Barrier(20, timeout=30), threading.local()

    def link_all_at_once(src, dst):  # every save's first link waits until all 20 saves are there
        if not getattr(first, "done", False):
            first.done = True
            gate.wait()
        return link(src, dst)

    monkeypatch.setattr(os, "link", link_all_at_once)
    paths = run_concurrently(*(lambda i=i: save_image(b"%d" % i, tmp_path, "same", 1) for i in range(20)))
    assert len(set(paths)) == 20
    assert sorted(p.read_bytes() for p in paths) == sorted(b"%d" % i for i in range(20))
    assert not list(tmp_path.rglob("*.tmp"))
    assert all(p.parent.parent == tmp_path for p in paths)


@pytest.mark.parametrize("quality,size,usd", [
    ("standard", "1024x1024", 0.040), ("standard", "1024x1792", 0.080), ("standard", "1792x1024", 0.080),
    ("hd", "1024x1024", 0.080), ("hd", "1024x1792", 0.120), ("hd", "1792x1024", 0.120),
])
def test_dalle3_prices(quality, size, usd):
    price = pricing.estimate(DALLE3, quality, size)
    assert price.usd == pytest.approx(usd) and not price.estimate
    assert str(price) == f"${usd:.3f}"


def test_gpt_image_cost_after_the_click_comes_from_usage():
    usage = {"input_tokens": 10, "input_tokens_details": {"text_tokens": 10, "image_tokens": 0},
             "output_tokens": 4160, "total_tokens": 4170}
    price = pricing.from_usage(GPT_IMAGE_2, usage)
    assert price.usd == pytest.approx((10 * 5 + 4160 * 30) / 1e6)
    assert not price.estimate
    assert pricing.estimate(GPT_IMAGE_2, "high", "1024x1024").estimate
    assert pricing.estimate(GPT_IMAGE_2, "auto", "1024x1024") is None


def test_settings_from_env_defaults_and_trailing_slash():
    settings = from_env({"OPENAI_BASE_URL": "http://x/v1/", "OPENAI_API_KEY": "sk-secret"})
    assert settings.base_url == "http://x/v1"
    assert (settings.timeout_s, settings.max_retries, settings.output_dir) == (None, 2, Path("outputs"))
    assert (from_env({"DALLE3_TIMEOUT_S": "45"}).timeout_s, from_env({"DALLE3_TIMEOUT_S": "45"}).connect_timeout_s) \
        == (45.0, 10.0)
    assert "sk-secret" not in repr(settings)
    assert from_env({"DALLE3_OUTPUT_DIR": ""}).output_dir is None


@pytest.mark.parametrize("name,value", [("DALLE3_TIMEOUT_S", "abc"), ("DALLE3_MAX_RETRIES", "two"),
                                        ("DALLE3_CONCURRENCY", "0"), ("DALLE3_OFFLINE", "maybe"),
                                        ("DALLE3_AUTH", "nopassword"), ("OPENAI_BASE_URL", "api.openai.com"),
                                        ("DALLE3_MAX_SPEND_USD", "-5"), ("DALLE3_MODEL", "dall-e-9")])
def test_bad_setting_names_the_variable(name, value):
    with pytest.raises(ConfigurationError, match=name):
        from_env({name: value})


def test_dotenv_is_loaded_and_real_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-from-dotenv\nDALLE3_MAX_RETRIES=5\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "placeholder")  # recorded, so the loaded value is undone
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("DALLE3_MAX_RETRIES", "1")
    settings = from_env()
    assert settings.api_key == "sk-from-dotenv" and settings.max_retries == 1


def test_ledger_refuses_past_the_cap_and_survives_restart(tmp_path):
    path = tmp_path / "ledger.json"
    ledger = SpendLedger(path, cap=0.10)
    with ledger.hold(0.04) as charge:
        charge.usd = 0.04
    with ledger.hold(0.04) as charge:
        charge.usd = 0.04
    with pytest.raises(SpendCapError, match=r"\$0\.100"):
        with ledger.hold(0.04):
            pass
    assert SpendLedger(path, cap=0.10).spent == pytest.approx(0.08)


def test_ledger_failed_call_costs_nothing(tmp_path):
    ledger = SpendLedger(tmp_path / "l.json", cap=0.05)
    with pytest.raises(RuntimeError):
        with ledger.hold(0.04):
            raise RuntimeError("API failed")
    assert ledger.spent == 0
    with ledger.hold(0.04):
        pass


def test_ledger_concurrent_holds_cannot_overshoot(tmp_path):
    ledger = SpendLedger(tmp_path / "l.json", cap=0.20)
    gate = threading.Barrier(10)
    outcomes = []

    def one():
        gate.wait()
        try:
            with ledger.hold(0.04) as charge:
                charge.usd = 0.04
            outcomes.append("ok")
        except SpendCapError:
            outcomes.append("capped")

    run_concurrently(*[one] * 10)  # the barrier in ``one`` makes the ten holds start together
    assert outcomes.count("ok") == 5 and ledger.spent <= 0.20 + 1e-9
    assert json.loads((tmp_path / "l.json").read_text())["images"] == 5


def test_lru_cache_is_bounded():
    cache = LRUCache(maxsize=3)
    for i in range(5):
        cache.put(i, str(i))
    assert len(cache) == 3 and cache.get(0) is None and cache.get(4) == "4"


def test_importing_the_package_does_not_import_gradio():
    import subprocess
    import sys

    code = ("import sys, dalle3, dalle3.views.studio_view, dalle3.http.discovery, dalle3.views.status; "
            "print('gradio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"
