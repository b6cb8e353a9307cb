"""A request that names no model runs on the endpoint's successor; a named model is never replaced."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dalle3 import Settings, Studio, validate
from dalle3.errors import ModelUnavailableError
from dalle3.files.metadata import read_parameters
from dalle3.models.choice import after_refusal
from tests.fake_openai import FakeOpenAI

REPO = Path(__file__).resolve().parents[1]
KEY = "sk-choice-test-SECRET-0123456789abcdef"


def without_dalle3(fake: FakeOpenAI) -> None:
    """What an ordinary OpenAI key sees today: dall-e-3 neither listed nor served."""
    fake.retired_models = {"dall-e-3"}
    fake.models = [m for m in fake.models if m["id"] != "dall-e-3"]


def studio_for(fake: FakeOpenAI, tmp_path: Path) -> Studio:
    return Studio(Settings(api_key=KEY, base_url=fake.base_url, output_dir=tmp_path, max_retries=0))


def test_no_model_named_runs_on_the_successor_and_says_so(fake_api, tmp_path, caplog):
    without_dalle3(fake_api)
    studio = studio_for(fake_api, tmp_path)
    with caplog.at_level(logging.WARNING, logger="dalle3"):
        result = studio.generate(validate("a lighthouse at dawn", seed=7, quality="hd"))
    assert (result.request.model, result.request.quality) == ("gpt-image-2", "high")
    assert read_parameters(result.path)["model"] == "gpt-image-2"
    assert caplog.messages == ["dall-e-3 is not offered by this endpoint; using gpt-image-2 (quality hd → high). "
                               "Name a model to choose another."]
    assert [r.json["model"] for r in fake_api.requests] == ["dall-e-3", "gpt-image-2"]  # the refusal is free


def test_the_move_is_remembered_and_still_said(fake_api, tmp_path, caplog):
    without_dalle3(fake_api)
    studio = studio_for(fake_api, tmp_path)
    studio.generate(validate("first", seed=1))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dalle3"):
        studio.generate(validate("second", seed=2))
    assert [r.json["model"] for r in fake_api.requests] == ["dall-e-3", "gpt-image-2", "gpt-image-2"]
    assert caplog.messages == ["dall-e-3 is not offered by this endpoint; using gpt-image-2 (quality standard → "
                               "medium). Name a model to choose another."]


def test_a_named_model_keeps_the_refusal_and_its_successor(fake_api, tmp_path):
    without_dalle3(fake_api)
    with pytest.raises(ModelUnavailableError) as info:
        studio_for(fake_api, tmp_path).generate(validate("a lighthouse", model="dall-e-3"))
    assert info.value.successor == "gpt-image-2" and len(fake_api.requests) == 1


def test_an_endpoint_that_lists_no_successor_keeps_the_refusal(fake_api, tmp_path):
    without_dalle3(fake_api)
    fake_api.models = [m for m in fake_api.models if not m["id"].startswith("gpt-image-2")]
    with pytest.raises(ModelUnavailableError):
        studio_for(fake_api, tmp_path).generate(validate("a lighthouse"))
    assert [r.json["model"] for r in fake_api.requests] == ["dall-e-3"]


def test_without_a_listing_the_refusals_successor_is_tried():
    choice = after_refusal(validate("a fox", style="vivid"), None, "gpt-image-2")
    assert choice.request.model == "gpt-image-2" and choice.request.style is None
    assert "style vivid dropped, gpt-image-2 has none" in (choice.note or "")
    assert after_refusal(validate("a fox"), None, None).note is None


def readme_python_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("From Python without the page:", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_python_example_runs_as_printed_with_an_ordinary_key(fake_api, tmp_path):
    without_dalle3(fake_api)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DALLE3_"))}
    env.update(PYTHONPATH=str(REPO), OPENAI_API_KEY=KEY, OPENAI_BASE_URL=fake_api.base_url,
               DALLE3_OUTPUT_DIR=str(tmp_path / "out"), PYTHONIOENCODING="utf-8")
    done = subprocess.run([sys.executable, "-c", readme_python_example()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "using gpt-image-2 (quality hd → high)" in done.stderr
    path = Path(done.stdout.split()[0])
    assert path.is_file() and path.is_relative_to(tmp_path / "out")
    assert read_parameters(path)["seed"] == 7 and read_parameters(path)["model"] == "gpt-image-2"
