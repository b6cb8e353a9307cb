"""Reference images for edits: checked and prepared with Pillow before any call.

An upload is data from outside: its size is bounded before anything is read,
its pixel count is read from the header (Pillow's lazy ``Image.open``) and a
pixel bomb is refused before a single pixel is decoded (the bound is
:data:`dalle3.files.images.MAX_PIXELS`; the app also sets Pillow's own guard at start
with ``images.install_pillow_limit``). Then, only when
needed: EXIF orientation applied, CMYK / 16-bit / palette / grey converted to
RGB or RGBA, and the image scaled down so its long edge is at most
:data:`LONG_EDGE`. A JPEG, PNG or WebP that needs none of that is sent as its
own bytes (no re-encode: faster, and no second generation of JPEG loss).

Why 2048: OpenAI scales every input image to fit a 2048 x 2048 square before
the model sees it (the image-input cost rules in its vision guide; GPT Image
then works from a 512-px short side), so more pixels are never seen but are
uploaded: a 4K PNG is 20-40 MB, and four of them make the request that
proxies and the API answer with HTTP 413. A 2048 RGBA PNG is at most ~16 MB,
well under the 50 MB per file the SDK documents. :data:`REQUEST_BUDGET` bounds
the sum over all files; over it, everything is prepared again at
:data:`FALLBACK_EDGE`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import math
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from dalle3.files.decode_budget import DECODING
from dalle3.errors import ValidationError
from dalle3.files.containers import MIME_TYPES, PIL_FORMATS
from dalle3.files.images import MAX_FILE_BYTES, MAX_PIXELS, too_many_pixels

LONG_EDGE = 2048
FALLBACK_EDGE = 1024
KEEP_BYTES = 20 * 1024 * 1024  # a file that needs no change but is larger than this is re-encoded
REQUEST_BUDGET = 48 * 1024 * 1024  # all files of one request together
PREPARE_THREADS = 4
# Pillow format name -> the type the API is sent, for the formats it takes as they are.
API_FORMATS = {PIL_FORMATS[fmt]: MIME_TYPES[fmt] for fmt in PIL_FORMATS}
READABLE_FORMATS = {*API_FORMATS, "MPO", "GIF", "BMP", "TIFF"}
_KEEP_MODES = {"PNG": {"RGB", "RGBA"}, "JPEG": {"RGB", "L"}, "WEBP": {"RGB", "RGBA"}}
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Reference:
    """One prepared input: the bytes to upload, and the hash of the file it came from.

    ``sha256`` is of the original file (what the outputs folder holds, so a
    reference can be found again); equality and hashing use it alone.
    """

    sha256: str
    data: bytes = field(repr=False, compare=False)
    mime: str = field(compare=False)
    size: tuple[int, int] = field(compare=False)  # as uploaded (after orientation and scaling)
    source_size: tuple[int, int] = field(compare=False)  # as the original, after orientation
    name: str = field(default="image.png", compare=False)

    @property
    def filename(self) -> str:
        """A safe upload name: the API reads the type from it and the Content-Type."""
        return f"{self.sha256[:12]}.{self.mime.split('/')[1].replace('jpeg', 'jpg')}"


_DATA_URL = re.compile(r"^data:image/(png|jpeg|jpg|webp);base64,", re.IGNORECASE)


def from_data_url(text: str, what: str = "The image") -> bytes:
    """The bytes of a ``data:image/...;base64,`` URL (as the HTTP API and MCP clients send images).

    The length is bounded before decoding, and only image types are accepted.
    """
    match = _DATA_URL.match(text[:64]) if isinstance(text, str) else None
    if match is None:
        raise ValidationError(f"{what} must be a file or a data URL starting data:image/png;base64, "
                              "(or jpeg, webp).")
    if len(text) - match.end() > MAX_FILE_BYTES * 4 // 3 + 4:
        raise ValidationError(f"{what} is larger than {MAX_FILE_BYTES // 2**20} MB.")
    try:
        return base64.b64decode(text[match.end():], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"{what} is a data URL whose base64 is damaged.") from None


def read_file(path: Path, what: str = "image") -> bytes:
    """A local file's bytes (CLI, or a file Gradio uploaded), refused unread when larger than an upload may be."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValidationError(f"The {what} {path.name} is larger than {MAX_FILE_BYTES // 2**20} MB.")
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"Cannot read the {what} {path.name}: {exc.strerror or exc}.") from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def open_checked(data: bytes, what: str) -> Image.Image:
    """A lazily opened image (header read, pixels not decoded), or a plain refusal."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ValidationError(f"{what} is empty or not a file.")
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(f"{what} is {len(data) / 2**20:.0f} MB; the limit is "
                              f"{MAX_FILE_BYTES // 2**20} MB. Use a smaller file.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own, lower bound follows
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise _bomb(what, None) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError(f"{what} is not an image (use a PNG, JPEG or WebP file).") from None
    if image.format not in READABLE_FORMATS:
        raise ValidationError(f"{what} is a {image.format} image; use a PNG, JPEG or WebP file.")
    width, height = image.size
    if width < 1 or height < 1 or too_many_pixels((width, height)):
        raise _bomb(what, (width, height))
    return image


def _bomb(what: str, size: tuple[int, int] | None) -> ValidationError:
    dims = f" ({size[0]:,} x {size[1]:,} pixels)" if size else ""
    return ValidationError(f"{what} is too large to open safely{dims}; the limit is "
                           f"{MAX_PIXELS // 1_000_000} million pixels. Scale it down first.")


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation tag (1: as stored). For a PNG only an eXIf chunk before the pixels counts
    (what Pillow read on open): asking ``getexif()`` would decode the whole image to look after them."""
    if image.format == "PNG" and "exif" not in image.info:
        return 1
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except (ValueError, TypeError, OSError):
        return 1


def _animated(image: Image.Image) -> bool:
    return bool(getattr(image, "is_animated", False))


def _sixteen_bit_png(data: bytes) -> bool:
    """A PNG whose IHDR says 16 bits per channel (Pillow shows 16-bit RGB as plain RGB)."""
    return data[12:16] == b"IHDR" and data[24:25] == b"\x10"


def to_rgb_family(image: Image.Image) -> Image.Image:
    """RGB, or RGBA where the image has transparency: CMYK, 16-bit, palette and grey converted."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16-bit (or float) grey: scale into 8 bits instead of clipping at 255.
        high = 65535.0 if mode != "F" else max(1.0, image.getextrema()[1])
        return image.convert("F").point(lambda v: v * 255.0 / high).convert("L").convert("RGB")
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode in ("LA", "La", "PA", "RGBa"):
        return image.convert("RGBA")
    if mode == "CMYK" and image.info.get("icc_profile"):
        try:  # print profiles differ widely: the file's own profile gives the colours it means
            source = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
            converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the plain conversion below
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, L, 1


def encode(image: Image.Image, prefer_jpeg: bool) -> tuple[bytes, str]:
    """PNG where there is transparency or the source was lossless; JPEG q95 for opaque photos."""
    buffer = io.BytesIO()
    if prefer_jpeg and image.mode == "RGB":
        image.save(buffer, format="JPEG", quality=95)
        return buffer.getvalue(), "image/jpeg"
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue(), "image/png"


def _draft(image: Image.Image, long_edge: int | None) -> Image.Image:
    """Ask libjpeg to decode a large JPEG at 1/2, 1/4 or 1/8 scale (no pixel is decoded yet).

    Pillow picks the strongest reduction that still gives at least the size asked: asking
    for just over half the target puts the long edge between long_edge/2 and long_edge.
    """
    if long_edge and image.format in ("JPEG", "MPO") and max(image.size) > long_edge:
        fit = long_edge / max(image.size) / 2
        image.draft("RGB", (math.floor(image.size[0] * fit) + 1, math.floor(image.size[1] * fit) + 1))
    return image


# Modes Pillow scales well as they are: scaling these before converting keeps the full-size copy
# in the fewest bytes per pixel (a 40-million-pixel grey PNG stays 40 MB instead of becoming 120 MB).
_SCALE_FIRST = {"L", "LA", "RGB", "RGBA"}


def decode_oriented(data: bytes, what: str, long_edge: int | None = None) -> Image.Image:
    """The pixels, EXIF orientation applied, in RGB/RGBA; scaled to ``long_edge`` when given.

    The decode holds its pixel count in the process's :data:`dalle3.files.decode_budget.DECODING`
    until only the scaled image is left.
    """
    image = _draft(open_checked(data, what), long_edge)
    with DECODING.hold(image.size[0] * image.size[1]):
        try:
            image.seek(0)
            image.load()
            if image.mode not in _SCALE_FIRST:
                image = to_rgb_family(image)
            if long_edge and max(image.size) > long_edge:
                image.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
            image = ImageOps.exif_transpose(image) or image
            image = to_rgb_family(image)
        except (OSError, ValueError, SyntaxError):
            raise ValidationError(f"{what} is damaged and cannot be read.") from None
    return image


def decoded_pixels(data: bytes, what: str, long_edge: int = LONG_EDGE) -> int:
    """How many pixels :func:`prepare` would decode for ``data``, from its header: 0 when sent as it is."""
    image = open_checked(data, what)
    if not _needs_decoding(image, data, long_edge):
        return 0
    width, height = _draft(image, long_edge).size
    return width * height


def _needs_decoding(image: Image.Image, data: bytes, long_edge: int) -> bool:
    fmt = image.format
    return not (fmt in _KEEP_MODES and image.mode in _KEEP_MODES[fmt] and _orientation(image) == 1
                and not _animated(image) and not _sixteen_bit_png(data)
                and max(image.size) <= long_edge and len(data) <= KEEP_BYTES)


def prepare(data: bytes, what: str = "The image", long_edge: int = LONG_EDGE) -> Reference:
    """One reference, ready to upload; the original bytes when they need no change."""
    digest = sha256(bytes(data))
    image = open_checked(data, what)
    fmt, size, orientation = image.format, image.size, _orientation(image)
    oriented = size if orientation in (1, 2, 3, 4) else (size[1], size[0])
    if not _needs_decoding(image, data, long_edge):
        return Reference(digest, bytes(data), API_FORMATS[str(fmt)], size, size)
    pixels = decode_oriented(data, what, long_edge)
    out, mime = encode(pixels, prefer_jpeg=fmt in ("JPEG", "MPO", "WEBP"))
    return Reference(digest, out, mime, pixels.size, oriented)


def _prepare_each(files: list[bytes], what: str, long_edge: int) -> tuple[Reference, ...]:
    """In a few threads: Pillow's decode, resize and encode and hashlib release the GIL."""
    jobs = [(f, f"{what} {i}", long_edge) for i, f in enumerate(files, 1)]
    if len(jobs) == 1:
        return (prepare(*jobs[0]),)
    with ThreadPoolExecutor(max_workers=min(PREPARE_THREADS, len(jobs))) as pool:
        return tuple(pool.map(lambda job: prepare(*job), jobs))


def prepare_all(files: list[bytes], what: str = "Reference image") -> tuple[Reference, ...]:
    """Every image prepared; all again at :data:`FALLBACK_EDGE` when the sum passes the budget.

    The second pass starts from the first pass's images (at most :data:`LONG_EDGE`), not the
    originals: a large original is decoded once per call, never twice.
    """
    refs = _prepare_each(files, what, LONG_EDGE)
    if sum(len(r.data) for r in refs) <= REQUEST_BUDGET:
        return refs
    smaller = _prepare_each([r.data for r in refs], what, FALLBACK_EDGE)
    refs = tuple(replace(s, sha256=r.sha256, source_size=r.source_size) for s, r in zip(smaller, refs))
    total = sum(len(r.data) for r in refs)
    if total > REQUEST_BUDGET:
        raise ValidationError(f"These {len(files)} images come to {total / 2**20:.0f} MB even scaled down; "
                              f"the limit is {REQUEST_BUDGET // 2**20} MB. Use fewer images.")
    return refs
