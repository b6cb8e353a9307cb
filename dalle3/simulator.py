"""The offline simulator: a stand-in picture when there is no key or no network.

It lets the page, the API and the tests run anywhere without spending money.
The picture is a deterministic function of prompt, seed, style, size and the
output settings (and, in a batch, the image's index), so "same inputs, same
image" holds here too, and it says plainly on its face that it is a
simulation. It is encoded the way the API would answer: PNG, JPEG or WebP as
asked (compression honoured), with a transparent background where one was
asked for. An edit visibly uses its inputs: the first reference fills the
picture, the pattern shows through only where the mask lets the image change
(everywhere, faintly, without a mask), the markup is drawn on top and the
other references sit in a strip. No network, cost $0.
"""

from __future__ import annotations

import hashlib
import io
import random
import textwrap

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps

from dalle3.edits.inputs import EditInputs
from dalle3.files.containers import PIL_FORMATS
from dalle3.models import parse_size
from dalle3.params import GenerationRequest

LABEL = "OFFLINE SIMULATION - no API call, not a real image"


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
        image.save(buffer, format=PIL_FORMATS[fmt], quality=quality, **({"method": 0} if fmt == "webp" else {}))
    return buffer.getvalue()


def render_batch(request: GenerationRequest, inputs: EditInputs | None = None) -> tuple[bytes, ...]:
    """``request.n`` images, each different, each byte-identical for identical inputs."""
    return tuple(render(request, index, inputs) for index in range(request.n))


def _pattern(request: GenerationRequest, index: int, width: int, height: int) -> Image.Image:
    salt = f"\0{index}" if index else ""  # index 0 keeps the single image it always drew
    digest = hashlib.sha256(f"{request.prompt}\0{request.seed}\0{request.style}{salt}".encode()).digest()
    rng = random.Random(digest)
    colours = _palette(rng, request.style == "vivid")
    # A tiny random grid blown up smoothly: cheap, and different for every seed.
    grid = Image.new("RGB", (6, 6))
    grid.putdata([rng.choice(colours) for _ in range(36)])
    return grid.resize((width, height), Image.Resampling.BICUBIC)


def _open(data: bytes, size: tuple[int, int], mode: str) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return ImageOps.fit(image.convert(mode), size, Image.Resampling.BILINEAR)


def _edited(pattern: Image.Image, inputs: EditInputs) -> Image.Image:
    """The first reference, changed (to the pattern) only where the mask is clear."""
    size = pattern.size
    first = _open(inputs.images[0].data, size, "RGB")
    if inputs.mask is not None:
        editable = ImageChops.invert(_open(inputs.mask.data, size, "RGBA").getchannel("A"))
        image = Image.composite(pattern, first, editable)
        edge = editable.filter(ImageFilter.FIND_EDGES).filter(ImageFilter.MaxFilter(5))
        image.paste((255, 210, 0), (0, 0), edge)  # the mask's outline, so the changed area is plain to see
    else:
        image = Image.blend(first, pattern, 0.35)
    if inputs.markup is not None:
        markup = _open(inputs.markup.data, size, "RGBA")
        image.paste(markup, (0, 0), markup)
    thumb = max(32, min(size) // 8)
    for slot, ref in enumerate(inputs.images[1:9]):
        image.paste(_open(ref.data, (thumb, thumb), "RGB"), (8 + slot * (thumb + 8), size[1] // 2 - thumb // 2))
    return image


def render(request: GenerationRequest, index: int = 0, inputs: EditInputs | None = None) -> bytes:
    """An image of the requested size and format; byte-identical for identical inputs."""
    width, height = parse_size(request.size) or (1024, 1024)
    image = _pattern(request, index, width, height)
    if inputs is not None:
        image = _edited(image, inputs)
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
    caption += f"\nseed {request.seed} · {detail}"
    caption += f" · {index + 1} of {request.n}" if request.n > 1 else ""
    if inputs is not None:  # a band hides the first reference's own caption
        caption += f"\n{inputs.describe()}"
        top = height - 38 * scale - 22 * scale * caption.count("\n") - 8 * scale
        draw.rectangle((0, top, width, height), fill=(20, 20, 20))
    draw.multiline_text((12 * scale, height - 38 * scale - 22 * scale * caption.count("\n")), caption,
                        fill=(255, 255, 255), font=font, stroke_width=2, stroke_fill=(0, 0, 0))
    return _encode(image, fmt, request.output_compression)
