"""Output formats and the safety identifier through the page's /generate endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client.exceptions import AppError

from dalle3.files.metadata import read_parameters
from tests.apphelpers import app_settings, running_app


@pytest.fixture(scope="module")
def served(fake, tmp_path_factory):
    """The page on loopback (the module's ``client`` fixture talks to it)."""
    with running_app(app_settings(fake.base_url, tmp_path_factory.mktemp("out")), sleep=lambda s: None) as handle:
        yield handle


@pytest.fixture(scope="module")
def public(fake, tmp_path_factory):
    """An app that believes it serves others (0.0.0.0), so it sends a safety identifier."""
    with running_app(app_settings(fake.base_url, tmp_path_factory.mktemp("public")), sleep=lambda s: None,
                     host="0.0.0.0") as handle:
        yield handle


@pytest.mark.parametrize("fmt,suffix,magic", [("webp", ".webp", b"RIFF"), ("jpeg", ".jpg", b"\xff\xd8")])
def test_a_lossy_format_is_asked_for_saved_and_carries_the_settings(client, fake, fmt, suffix, magic):
    path, status, facts = client.predict(prompt=f"a {fmt} fox", model="gpt-image-2", output_format=fmt,
                                         output_compression="70", api_name="/generate")
    body = fake.requests[0].json
    assert (body["output_format"], body["output_compression"]) == (fmt, 70)
    data = Path(path).read_bytes()
    assert data.startswith(magic) and facts["file"].endswith(suffix)
    assert read_parameters(data)["prompt"] == f"a {fmt} fox"


def test_compression_with_png_is_refused_before_any_call(client, fake):
    with pytest.raises(AppError, match="compression"):
        client.predict(prompt="a png fox", model="gpt-image-2", output_format="png", output_compression="50",
                       api_name="/generate")
    assert fake.generation_count == 0


def test_each_visitor_gets_a_stable_identifier_never_derived_from_a_key(public, fake):
    fake.reset()
    with public.visitors(2) as (alice, bob):
        for visitor, who in ((alice, "alice"), (bob, "bob"), (alice, "alice again")):
            visitor.predict(prompt=f"an owl for {who}", model="gpt-image-2", api_name="/generate")
    ids = [r.json.get("safety_identifier") for r in fake.requests]
    assert all(isinstance(i, str) and len(i) >= 16 for i in ids), ids
    assert ids[0] == ids[2] != ids[1]
    assert not any(i in p.read_text(errors="ignore") for i in ids
                   for p in public.studio.output_dir.rglob("*") if p.is_file())


def test_loopback_sends_no_identifier(client, fake):
    client.predict(prompt="a quiet owl", model="gpt-image-2", api_name="/generate")
    assert "safety_identifier" not in fake.requests[0].json
