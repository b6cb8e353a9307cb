"""Settings written into the PNG, and read back from any PNG a user drops in.

The API's PNG carries C2PA provenance (a ``caBX`` chunk) that re-encoding with
Pillow would drop, and re-encoding a 3 MB image costs a second of CPU. So we
never decode the pixels: an ``iTXt`` chunk is spliced into the API's bytes
right after ``IHDR``. Reading uses Pillow, which parses text chunks without
decoding the image.
"""

from __future__ import annotations

import io
import json
import struct
import warnings
import zlib
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from dalle3.images import too_many_pixels

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = "parameters"
SOFTWARE = "dalle3-studio"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_size(png: bytes) -> tuple[int, int] | None:
    """(width, height) from the IHDR chunk, or None when ``png`` is not a PNG."""
    if len(png) < 33 or not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", png[16:24])


def embed(png: bytes, settings: dict[str, Any]) -> bytes:
    """``png`` with ``settings`` as a JSON ``iTXt`` chunk after IHDR; pixels untouched."""
    if png_size(png) is None:
        raise ValueError("not a PNG")
    ihdr_end = 8 + 12 + struct.unpack(">I", png[8:12])[0]
    text = json.dumps(settings, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    itxt = KEYWORD.encode("latin-1") + b"\0\0\0" + b"\0" + b"\0" + text
    software = _chunk(b"tEXt", b"Software\0" + SOFTWARE.encode("latin-1"))
    return png[:ihdr_end] + _chunk(b"iTXt", itxt) + software + png[ihdr_end:]


def read_parameters(source: str | Path | bytes) -> dict[str, Any] | None:
    """The settings stored by :func:`embed` (or a compatible tool), else None.

    Any file that is not a PNG with our chunk — a JPEG, a PNG from elsewhere,
    a truncated file — answers None rather than raising.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # images.MAX_PIXELS is lower
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
                if too_many_pixels(image.size):  # lazy open: nothing decoded yet; refuse before anything is
                    return None
                raw = image.info.get(KEYWORD) if image.format == "PNG" else None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    if not raw:
        return None
    try:
        data = json.loads(str(raw))
    except (ValueError, RecursionError):  # deeply nested JSON: no parameters, not a crash
        return None
    return data if isinstance(data, dict) and isinstance(data.get("prompt"), str) else None
