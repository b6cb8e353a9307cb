"""A realistic stand-in for a DALL·E 3 PNG: 1024x1792, ~2.3 MB, not flat colour.

Real API PNGs are 1.5–3 MB. Pure noise at Pillow's ``compress_level=1`` gives
~5.5 MB, a gradient alone compresses to almost nothing; a gradient plus 2 bits
of seeded noise per channel lands in the middle of the real range.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageChops


def realistic_png(width: int = 1024, height: int = 1792, noise_bits: int = 2, seed: int = 6) -> bytes:
    rnd = random.Random(seed)
    noise = Image.frombytes("RGB", (width, height), rnd.randbytes(width * height * 3))
    mask = (1 << noise_bits) - 1
    noise = noise.point([v & mask for v in range(256)] * 3)
    ramp = Image.linear_gradient("L")
    base = Image.merge("RGB", [ramp.resize((width, height)), ramp.rotate(90).resize((width, height)),
                               Image.new("L", (width, height), 120)])
    out = io.BytesIO()
    ImageChops.add(base, noise).save(out, format="PNG", compress_level=1)
    return out.getvalue()
