"""The repository deploys as a Hugging Face Space: README front matter and pinned requirements.

Offline checks only: that each pin installs on Python 3.10-3.12 needs the
network, so it is checked by hand when a pin changes, with
``pip download --python-version 3.10 --only-binary=:all: --no-deps NAME==VERSION``
(and 3.12).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[A-Za-z0-9,._-]+\])?==(?P<version>[0-9][0-9A-Za-z.+-]*)$")
REQUIRED_KEYS = ("title", "emoji", "colorFrom", "colorTo", "sdk", "sdk_version", "app_file", "short_description")
SPACE_COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def front_matter(text: str) -> dict[str, str]:
    """The ``key: value`` lines between the first two ``---`` lines (quotes stripped)."""
    lines = text.splitlines()
    assert lines and lines[0].strip() == "---", "README.md must start with a --- line (Space front matter)"
    end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    data = {}
    for line in lines[1:end]:
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition(":")
            assert sep, f"front matter line is not key: value: {line!r}"
            data[key.strip()] = value.strip().strip("\"'")
    return data


def requirement_lines(name: str) -> list[str]:
    lines = (REPO / name).read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


@pytest.fixture(scope="module")
def meta() -> dict[str, str]:
    return front_matter((REPO / "README.md").read_text(encoding="utf-8"))


def test_front_matter_has_every_key_a_space_needs(meta):
    missing = [key for key in REQUIRED_KEYS if not meta.get(key)]
    assert not missing, f"README front matter lacks {missing}"
    assert meta["sdk"] == "gradio"
    assert meta["app_file"] == "app.py" and (REPO / meta["app_file"]).is_file()
    assert meta["colorFrom"] in SPACE_COLORS and meta["colorTo"] in SPACE_COLORS


def test_short_description_fits_the_space_card(meta):
    assert len(meta["short_description"]) <= 60, meta["short_description"]


def test_python_version_is_one_the_pins_support(meta):
    assert meta.get("python_version", "3.10") in {"3.10", "3.11", "3.12"}


def test_sdk_version_equals_the_gradio_pin(meta):
    pins = dict(line.split("==", 1) for line in requirement_lines("requirements.txt"))
    assert pins.get("gradio") == meta["sdk_version"], "requirements.txt's gradio pin must equal sdk_version"


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_every_requirement_is_pinned_exactly(name):
    for line in requirement_lines(name):
        if line.startswith("-r "):
            assert (REPO / line[3:].strip()).is_file(), line
            continue
        assert PIN.match(line), f"{name}: {line!r} is not name==version"
