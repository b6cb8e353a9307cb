"""PNG, JPEG and WebP at the byte level: which format, what size, where to splice.

The API's image must travel unchanged (C2PA provenance, no second of CPU to
re-encode), so metadata is spliced into the container, never into pixels.
Pillow can read PNG text chunks, but it cannot *insert* a segment into a JPEG
or a chunk into a WebP without re-encoding, and its WebP opener hands the file
to libwebp's demuxer; the three walks below are short, bounded and never look
at pixel data, so they are written by hand.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The output formats this app writes, by the API's ``output_format`` name: the one table of them.
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
#: File names an image made here may have (``.jpeg`` too: files renamed by hand are still found).
IMAGE_SUFFIXES = (*EXTENSIONS.values(), ".jpeg")
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
MAX_SEGMENT = 65533  # a JPEG segment's payload: 16-bit length minus its own two bytes
VP8X_XMP = 0x04
VP8X_ALPHA = 0x10


def image_format(data: bytes) -> str | None:
    """``"png"``, ``"jpeg"`` or ``"webp"`` from the magic bytes; None for anything else."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_size(png: bytes) -> tuple[int, int] | None:
    """(width, height) from the IHDR chunk, or None when ``png`` is not a PNG."""
    if len(png) < 33 or not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", png[16:24])


def jpeg_segments(data: bytes):
    """(marker, payload start, payload end) for each segment before the scan (SOS)."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or 0xD0 <= marker <= 0xD9:
            return
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if length < 2 or pos + 2 + length > len(data):
            return
        yield marker, pos + 4, pos + 2 + length
        pos += 2 + length


def jpeg_insert_at(data: bytes) -> int:
    """Where a new APP segment goes: after SOI and any leading APP0 (JFIF) / APP1 (Exif) segments."""
    at = 2
    for marker, _, end in jpeg_segments(data):
        if marker not in (0xE0, 0xE1):
            break
        at = end
    return at


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    if len(payload) > MAX_SEGMENT:
        raise ValueError("JPEG segment too large")
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def webp_chunks(data: bytes):
    """(fourcc, payload start, payload end) for each chunk of a RIFF WebP."""
    pos, end = 12, min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    while pos + 8 <= end:
        kind = data[pos:pos + 4]
        size = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if pos + 8 + size > end:
            return
        yield kind, pos + 8, pos + 8 + size
        pos += 8 + size + (size & 1)


def webp_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def _webp_bitstream_size(kind: bytes, body: bytes) -> tuple[int, int, bool] | None:
    """Canvas (width, height, has alpha) from a simple-format VP8 or VP8L chunk."""
    if kind == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if kind == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        bits = struct.unpack("<I", body[1:5])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    return None


def webp_size(data: bytes) -> tuple[int, int] | None:
    for kind, start, end in webp_chunks(data):
        if kind == b"VP8X" and end - start >= 10:
            body = data[start:end]
            return int.from_bytes(body[4:7], "little") + 1, int.from_bytes(body[7:10], "little") + 1
        found = _webp_bitstream_size(kind, data[start:end])
        if found:
            return found[:2]
    return None


def webp_with_chunk(data: bytes, kind: bytes, payload: bytes, flag: int) -> bytes:
    """``data`` with a chunk appended and ``flag`` set in VP8X (added when the file is simple)."""
    chunks = list(webp_chunks(data))
    if not chunks:
        raise ValueError("not a WebP")
    first_kind, start, end = chunks[0]
    if first_kind == b"VP8X":
        flags = data[start] | flag
        body = data[12:start] + bytes((flags,)) + data[start + 1:]
    else:
        size = _webp_bitstream_size(first_kind, data[start:end])
        if size is None:
            raise ValueError("unknown WebP bitstream")
        width, height, alpha = size
        vp8x = bytes((flag | (VP8X_ALPHA if alpha else 0),)) + b"\0\0\0" + \
            (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        body = webp_chunk(b"VP8X", vp8x) + data[12:]
    body += webp_chunk(kind, payload)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    for marker, start, end in jpeg_segments(data):
        if marker in _SOF and end - start >= 5:
            height, width = struct.unpack(">HH", data[start + 1:start + 5])
            return width, height
    return None


def image_size_or_none(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the header of a PNG, JPEG or WebP; None when unknown (for the checks a
    file from outside needs, and a plain refusal, see :func:`dalle3.files.images.checked_image_size`)."""
    fmt = image_format(data)
    if fmt == "png":
        return png_size(data)
    if fmt == "jpeg":
        return jpeg_size(data)
    if fmt == "webp":
        return webp_size(data)
    return None
