"""Small previews for the library grid, cached beside the images.

A page of 48 images as the API made them is ~110 MB; as 256-pixel WebP
previews it is ~50 KB, which is what lets the first page show in a blink.
Making one means decoding the full PNG (~0.1 s), so each is made once and
kept in ``DIR/.thumbnails/`` (hidden, so the library's walk skips it), named
by the source's path, mtime and size: a changed file gets a new preview and
the old one is removed by the reconcile.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from dalle3.files.images import MAX_PIXELS

THUMBS_DIR = ".thumbnails"
EDGE = 256


def thumbnail_name(rel: str, mtime_ns: int, nbytes: int) -> str:
    """The cache file name for one version of one image (``rel``: its path inside the output folder)."""
    return hashlib.sha256(f"{rel}\0{mtime_ns}\0{nbytes}".encode()).hexdigest()[:24] + ".webp"


def make_thumbnail(source: Path, target: Path, edge: int = EDGE) -> bool:
    """Write a WebP preview of ``source`` to ``target`` (all at once); False when it is not a usable image."""
    try:
        with Image.open(source) as opened:
            image: Image.Image = opened
            if image.width * image.height > MAX_PIXELS:  # checked from the header, before any decoding
                return False
            image.draft("RGB", (edge, edge))  # JPEG decodes at a fraction of its size; others ignore it
            image.thumbnail((edge, edge), reducing_gap=2.0)
            if image.mode not in ("RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
            buffer = io.BytesIO()
            image.save(buffer, "WEBP", quality=80, method=4)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
        os.replace(tmp, target)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return False
    return True
