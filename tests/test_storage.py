"""Saving images: safe names, never overwriting, never half a file."""

import os
import threading

import pytest

from dalle3.files.storage import save_image, slug
from tests.apphelpers import run_concurrently


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
