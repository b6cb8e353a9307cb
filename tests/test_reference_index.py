"""Finding an edit's references again by content hash in the outputs folder."""

from __future__ import annotations

import hashlib

from dalle3.edits import index
from dalle3.edits.index import ReferenceIndex
from dalle3.library.index import walk


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_hidden_folders_such_as_thumbnails_are_never_hashed(tmp_path):
    """The same walk as the library's: a thumbnail with a wanted hash is not a reference."""
    thumbs = tmp_path / ".thumbnails"
    thumbs.mkdir()
    hidden = b"RIFF....WEBPVP8 thumbnail"
    (thumbs / "abc.webp").write_bytes(hidden)
    day = tmp_path / "2026-12-07"
    day.mkdir()
    shown = b"\x89PNG\r\n\x1a\n an image"
    (day / "fox.png").write_bytes(shown)

    found = ReferenceIndex(tmp_path).find([_sha(hidden), _sha(shown)])

    assert found.found == (day / "fox.png",)
    assert found.missing == (_sha(hidden),)
    assert set(walk(tmp_path)) == {"2026-12-07/fox.png"}


def test_the_file_budget_goes_to_images_not_thumbnails(tmp_path, monkeypatch):
    monkeypatch.setattr(index, "MAX_FILES", 3)
    thumbs = tmp_path / ".thumbnails"
    thumbs.mkdir()
    for i in range(10):
        (thumbs / f"{i}.webp").write_bytes(b"thumb %d" % i)
    wanted = b"the one reference"
    (tmp_path / "ref.jpg").write_bytes(wanted)

    assert ReferenceIndex(tmp_path).find([_sha(wanted)]).found == (tmp_path / "ref.jpg",)
