"""Parameters written into the image file, and read back from any file a user drops in.

The API's image carries C2PA provenance that re-encoding would drop, and
re-encoding a 3 MB image costs a second of CPU. So pixels are never decoded:
the parameters (JSON) are spliced into the API's own bytes —

* PNG: an ``iTXt`` chunk ``parameters`` right after ``IHDR`` (what A1111-style
  tools read), plus ``tEXt`` ``Software``;
* JPEG: an XMP packet in an ``APP1`` segment after SOI and any APP0/APP1
  (Exif) segments — XMP rather than a ``COM`` segment because it is the
  standard place editors and exiftool look and keep, and WebP uses the same
  packet. One segment holds 64 KB: larger parameters are zlib-compressed, and
  beyond that written as Adobe's Extended XMP (the packet split over several
  APP1 segments, named by its MD5 in the main packet), so nothing is dropped;
* WebP: the same XMP packet in an ``XMP `` chunk, with a ``VP8X`` header added
  (and the RIFF size fixed) when the file was in the simple format.

Reading never parses XML: it finds our one element with a fixed pattern and
undoes the three escapes we wrote, so no entity expansion can happen. Every
read is bounded (file size, text size) and a broken or hostile file answers
None, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
import struct
import warnings
import zlib
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, unescape

from PIL import Image, UnidentifiedImageError

from dalle3.files.containers import (MAX_SEGMENT, VP8X_XMP, image_format, image_size_or_none, jpeg_insert_at, jpeg_segment,
                               jpeg_segments, png_chunk, png_size, webp_chunks, webp_with_chunk)
from dalle3.files.images import MAX_FILE_BYTES, too_many_pixels

__all__ = ["embed", "image_format", "image_size_or_none", "png_size", "read_parameters"]

KEYWORD = "parameters"
SOFTWARE = "dalle3-studio"
XMP_JPEG_HEADER = b"http://ns.adobe.com/xap/1.0/\0"
XMP_EXTENSION_HEADER = b"http://ns.adobe.com/xmp/extension/\0"
_EXTENSION_CHUNK = MAX_SEGMENT - len(XMP_EXTENSION_HEADER) - 32 - 8  # GUID, full length, offset
NAMESPACE = "https://github.com/dalle3-studio/ns/1.0/"
MAX_PARAMETERS_CHARS = 512 * 1024  # a 32000-character prompt twice over, with room
_ELEMENT = re.compile(rb"<dalle3:(parameters|parametersZ)>([^<]{1,%d})</dalle3:\1>" % MAX_PARAMETERS_CHARS)


def _json(parameters: dict[str, Any]) -> str:
    return json.dumps(parameters, ensure_ascii=False, separators=(",", ":"))


def xmp_packet(parameters: dict[str, Any], compressed: bool = False, extended: str | None = None) -> bytes:
    """An XMP packet with the parameters as JSON text (zlib+base64 when ``compressed``).

    With ``extended`` (an MD5 hex GUID) the packet holds no parameters, only the
    pointer to the Extended XMP packet that does.
    """
    text = _json(parameters)
    if extended:
        name, value = "extended", ""
    elif compressed:
        name, value = "parametersZ", base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
    else:
        name, value = "parameters", escape(text)
    body = (f'<xmpNote:HasExtendedXMP xmlns:xmpNote="http://ns.adobe.com/xmp/note/">{extended}'
            "</xmpNote:HasExtendedXMP>" if extended else f"<dalle3:{name}>{value}</dalle3:{name}>")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dalle3="{NAMESPACE}">'
        f"<xmp:CreatorTool>{SOFTWARE}</xmp:CreatorTool>{body}"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode("utf-8")


def _jpeg_segments(parameters: dict[str, Any]) -> bytes:
    """APP1 segment(s): one plain or compressed packet, else a pointer plus Extended XMP chunks."""
    for compressed in (False, True):
        payload = XMP_JPEG_HEADER + xmp_packet(parameters, compressed)
        if len(payload) <= MAX_SEGMENT:
            return jpeg_segment(0xE1, payload)
    full = xmp_packet(parameters)
    guid = hashlib.md5(full).hexdigest().upper()  # the GUID Adobe's spec asks for, not a security use
    segments = [jpeg_segment(0xE1, XMP_JPEG_HEADER + xmp_packet(parameters, extended=guid))]
    for offset in range(0, len(full), _EXTENSION_CHUNK):
        head = XMP_EXTENSION_HEADER + guid.encode("ascii") + struct.pack(">II", len(full), offset)
        segments.append(jpeg_segment(0xE1, head + full[offset:offset + _EXTENSION_CHUNK]))
    return b"".join(segments)


def _jpeg_extended(data: bytes) -> bytes | None:
    """The Extended XMP packet reassembled from its APP1 chunks (bounded), or None."""
    parts: dict[int, bytes] = {}
    total = 0
    for marker, start, end in jpeg_segments(data):
        segment = data[start:end]
        if marker != 0xE1 or not segment.startswith(XMP_EXTENSION_HEADER):
            continue
        head = len(XMP_EXTENSION_HEADER) + 32
        total, offset = struct.unpack(">II", segment[head:head + 8])
        parts[offset] = segment[head + 8:]
    if not parts or total > 4 * MAX_PARAMETERS_CHARS:
        return None
    joined = b"".join(parts[k] for k in sorted(parts))
    return joined if len(joined) == total else None


def embed(image: bytes, parameters: dict[str, Any]) -> bytes:
    """``image`` (PNG, JPEG or WebP) with ``parameters`` spliced in; the pixels are untouched."""
    fmt = image_format(image)
    if fmt == "png" and png_size(image) is not None:
        ihdr_end = 8 + 12 + int.from_bytes(image[8:12], "big")
        itxt = KEYWORD.encode("latin-1") + b"\0\0\0\0\0" + _json(parameters).encode("utf-8")
        software = png_chunk(b"tEXt", b"Software\0" + SOFTWARE.encode("latin-1"))
        return image[:ihdr_end] + png_chunk(b"iTXt", itxt) + software + image[ihdr_end:]
    if fmt == "jpeg":
        at = jpeg_insert_at(image)
        return image[:at] + _jpeg_segments(parameters) + image[at:]
    if fmt == "webp":
        return webp_with_chunk(image, b"XMP ", xmp_packet(parameters), VP8X_XMP)
    raise ValueError("not a PNG, JPEG or WebP image")


def _from_text(raw: str | bytes | None) -> dict[str, Any] | None:
    if not raw or len(raw) > MAX_PARAMETERS_CHARS:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: deeply nested JSON
        return None
    return data if isinstance(data, dict) and isinstance(data.get("prompt"), str) else None


def _from_xmp(packet: bytes) -> dict[str, Any] | None:
    match = _ELEMENT.search(packet)
    if match is None:
        return None
    name, value = match.group(1), match.group(2)
    try:
        if name == b"parametersZ":
            inflater = zlib.decompressobj()
            text = inflater.decompress(base64.b64decode(value, validate=True), MAX_PARAMETERS_CHARS + 1)
            return _from_text(text if not inflater.unconsumed_tail else None)
        return _from_text(unescape(value.decode("utf-8")))
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError):
        return None


def _from_png(data: bytes) -> dict[str, Any] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # images.MAX_PIXELS is lower
            with Image.open(io.BytesIO(data)) as image:  # parses chunks up to IDAT; no pixels
                raw = image.info.get(KEYWORD) if image.format == "PNG" else None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return _from_text(str(raw)) if raw else None


def read_parameters(source: str | Path | bytes) -> dict[str, Any] | None:
    """The parameters stored by :func:`embed` (or a compatible PNG tool), else None.

    Any other file — a photo, a PNG from elsewhere, a truncated or oversized
    file — answers None rather than raising.
    """
    if isinstance(source, bytes):
        data = source
    else:
        try:
            path = Path(source)
            if path.stat().st_size > MAX_FILE_BYTES:
                return None
            data = path.read_bytes()
        except OSError:
            return None
    if len(data) > MAX_FILE_BYTES:
        return None
    size = image_size_or_none(data)
    if size is None or too_many_pixels(size):  # a pixel bomb is no image of ours, decoded or not
        return None
    fmt = image_format(data)
    if fmt == "png":
        return _from_png(data)
    if fmt == "jpeg":
        for marker, start, end in jpeg_segments(data):
            if marker == 0xE1 and data[start:end].startswith(XMP_JPEG_HEADER):
                if found := _from_xmp(data[start + len(XMP_JPEG_HEADER):end]):
                    return found
        extended = _jpeg_extended(data)
        return _from_xmp(extended) if extended else None
    if fmt == "webp":
        for kind, start, end in webp_chunks(data):
            if kind == b"XMP " and (found := _from_xmp(data[start:end])):
                return found
    return None


def file_size_text(nbytes: int) -> str:
    """``"812 KB"``, ``"2.4 MB"``: a file size for people."""
    if nbytes < 1000 * 1000:
        return f"{max(1, round(nbytes / 1000))} KB"
    return f"{nbytes / 1e6:.1f} MB"


