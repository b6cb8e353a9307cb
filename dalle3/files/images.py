"""Images that come in from outside, measured before anything decodes them.

A 164 KB PNG can declare 13000×13000 pixels: decoding it takes ~1 GB. Pillow's
``Image.open`` is lazy — it reads the header (and a PNG's chunks up to the
pixel data), not the pixels — so the size can be checked first and the file
refused before any ``load()``. Pillow's own guard (``MAX_IMAGE_PIXELS``) only
warns below twice its limit of ~89 million pixels, hence our own, lower bound.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from dalle3.errors import ValidationError

#: The most pixels an incoming image may have: 40 million (a GPT Image answer is at most
#: 8.3 million; 40 million is a 6324×6324 square, ~160 MB once decoded as RGBA).
MAX_PIXELS = 40_000_000
#: The largest image file read at all (uploads, dropped files, the outputs folder); refused unread above.
MAX_FILE_BYTES = 64 * 1024 * 1024


def install_pillow_limit() -> None:
    """Make Pillow itself refuse images over :data:`MAX_PIXELS` in this process (Gradio's decoding too).

    Pillow raises ``DecompressionBombError`` above twice ``Image.MAX_IMAGE_PIXELS``
    (and only warns above it), hence half our bound. Process-wide, so the app
    calls it once at start; ``import dalle3`` changes nothing by itself.
    """
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2


def too_many_pixels(size: tuple[int, int]) -> bool:
    """Whether (width, height) is over :data:`MAX_PIXELS`."""
    return size[0] * size[1] > MAX_PIXELS


def checked_image_size(source: str | Path | bytes) -> tuple[int, int]:
    """(width, height) from the image's header, refusing a pixel bomb; pixels are never decoded.

    Raises :class:`ValidationError` with a plain message when the file is not an
    image Pillow knows, or has more than :data:`MAX_PIXELS` pixels.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we apply our own, lower limit
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
                size = image.size
    except Image.DecompressionBombError:
        size = (MAX_PIXELS + 1, 1)  # over twice Pillow's limit: far over ours too
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError("That file is not an image this app can read (PNG, JPEG or WebP).") from None
    if too_many_pixels(size):
        raise ValidationError(
            f"That image has more than {MAX_PIXELS // 1_000_000} million pixels, more than this app accepts "
            "(it would take too much memory to open). Use a smaller image.")
    return size
