"""The offline simulator: a stand-in picture when there is no key or no network.

It lets the page, the API and the tests run anywhere without spending money.
The picture is a deterministic function of prompt, seed, style, size and the
output settings, so "same inputs, same image" holds here too, and it says
plainly on its face that it is a simulation. It is encoded the way the API
would answer: PNG, JPEG or WebP as asked (compression honoured), with a
transparent background where one was asked for. No network, cost $0.
"""

from __future__ import annotations

import hashlib
import io
import random
import textwrap

from PIL import Image, ImageDraw, ImageFont

from dalle3.models import parse_size
from dalle3.params import GenerationRequest

LABEL = "OFFLINE SIMULATION - no API call, not a real image"
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def _palette(rng: random.Random, vivid: bool) -> list[tuple[int, int, int]]:
    low, high = (0, 255) if vivid else (70, 200)
    return [tuple(rng.randint(low, high) for _ in range(3)) for _ in range(6)]  # type: ignore[misc]


def _encode(image: Image.Image, fmt: str, compression: int | None) -> bytes:
    """Save as the API would send it. OpenAI's default level, 100, is its best image, so the
    level is used as the encoder's quality (an assumption; OpenAI does not define the scale)."""
    buffer = io.BytesIO()
    if fmt == "png":
        image.save(buffer, format="PNG", compress_level=1)
    else:
        quality = max(1, 100 if compression is None else compression)
        image.save(buffer, format=_PIL_FORMATS[fmt], quality=quality, **({"method": 0} if fmt == "webp" else {}))
    return buffer.getvalue()


def render(request: GenerationRequest) -> bytes:
    """An image of the requested size and format; byte-identical for identical inputs."""
    digest = hashlib.sha256(f"{request.prompt}\0{request.seed}\0{request.style}".encode()).digest()
    rng = random.Random(digest)
    width, height = parse_size(request.size) or (1024, 1024)
    colours = _palette(rng, request.style == "vivid")
    # A tiny random grid blown up smoothly: cheap, and different for every seed.
    grid = Image.new("RGB", (6, 6))
    grid.putdata([rng.choice(colours) for _ in range(36)])
    image = grid.resize((width, height), Image.Resampling.BICUBIC)
    fmt = request.output_format or "png"
    if request.options.get("background") == "transparent":
        # The subject is an ellipse; everything around it is see-through, as the API's would be.
        mask = Image.new("L", (width, height), 0)
        ImageDraw.Draw(mask).ellipse((width // 8, height // 8, width * 7 // 8, height * 7 // 8), fill=255)
        image = image.convert("RGBA")
        image.putalpha(mask)
    draw = ImageDraw.Draw(image)
    scale = max(1, min(width, height) // 512)
    font = ImageFont.load_default(size=18 * scale)
    draw.rectangle((0, 0, width, 44 * scale), fill=(20, 20, 20))
    draw.text((12 * scale, 10 * scale), LABEL, fill=(255, 210, 0), font=font)
    caption = textwrap.fill(request.prompt[:400], width=max(20, width // (10 * scale)))
    detail = request.style or request.quality
    if request.output_format:
        detail += f" · {fmt}" + (f" {request.output_compression}%" if request.output_compression is not None else "")
    draw.multiline_text((12 * scale, height - 60 * scale - 22 * scale * caption.count("\n")),
                        f"{caption}\nseed {request.seed} · {detail}",
                        fill=(255, 255, 255), font=font, stroke_width=2, stroke_fill=(0, 0, 0))
    return _encode(image, fmt, request.output_compression)
