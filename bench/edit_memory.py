"""Peak memory of edits in the real ``python app.py``: ``python -m bench.edit_memory [--quick]``.

Each sample is one plain HTTP ``/gradio_api/call/edit`` (data URLs, as a script or an MCP
client sends them) against the loopback fake, on the server key with no cap. Before it the
app process's peak RSS is reset (``/proc/<pid>/clear_refs``); after it, the peak (VmHWM)
minus the RSS before is what that edit cost at its worst moment. Ours and the floor are
sampled alternately in the same process:

* E1. 16 references, each a 12-megapixel camera JPEG (~2.4 MB), vs 16 JPEGs of the same
  bytes that need no decoding (2048 x 1536, sent as they are). Most of what an edit holds is
  its bytes (the request body, the files, the multipart upload); the references' decoding,
  a few at a time at the scale libjpeg can decode them to, must add little. Target <= 1.5.
* E2. Two PNGs of 39.7 million pixels each (~120 KB, the largest an image may be; two is
  the most one edit may open), vs one. Each holds the whole process's decode budget, so
  they are decoded one after the other: two must cost about what one does. Target <= 1.3.
"""

from __future__ import annotations

import argparse
import base64
import io
import itertools
import random
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any, Callable

import requests
from PIL import Image

from bench.common import KEY, ROOT, log
from bench.edits import camera_jpeg
from bench.procs import subprocess_app
from bench.rows import alternate
from bench.stats import Row
from dalle3.views import api_docs
from dalle3.files.containers import png_chunk
from tests.fake_openai import FakeOpenAI, render_image

_seed = itertools.count()


def flat_png(width: int, height: int) -> bytes:
    """A real RGB PNG built row by row (its pixels are never held): a decompression bomb of ~120 KB."""
    head = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big")
                                             + b"\x08\x02\0\0\0")
    squeeze = zlib.compressobj(9)
    row = bytes(3 * width + 1)
    body = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    return head + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b"")


def kept_jpeg(seed: int) -> bytes:
    """A 2048 x 1536 JPEG of ~2.4 MB: as large in bytes as :func:`camera_jpeg`, but sent as it is."""
    rnd = random.Random(seed)
    small = Image.frombytes("RGB", (40, 30), rnd.randbytes(40 * 30 * 3)).resize((2048, 1536),
                                                                               Image.Resampling.BICUBIC)
    out = io.BytesIO()
    Image.blend(small, Image.effect_noise((2048, 1536), 24).convert("RGB"), 0.2).save(out, format="JPEG",
                                                                                      quality=100)
    return out.getvalue()


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {name}")


def edit_peak(pid: int, url: str, images: list[str]) -> Callable[[], float]:
    """One ``/call/edit`` with ``images``; the MiB its worst moment added to the process."""
    names = list(api_docs.edit_arguments())

    def once() -> float:
        given = {"prompt": "make it green", "seed": next(_seed), "model": "gpt-image-2", "images": images}
        data: list[Any] = [given.get(n, None if n in ("mask", "markup") else "") for n in names]
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        before = _field(pid, "VmRSS")
        started = requests.post(f"{url}gradio_api/call/edit", json={"data": data}, timeout=120)
        started.raise_for_status()
        answer = requests.get(f"{url}gradio_api/call/edit/{started.json()['event_id']}", timeout=600).text
        if "event: complete" not in answer:
            raise RuntimeError(f"the edit failed: {answer[-500:]}")
        return (_field(pid, "VmHWM") - before) / 2**20

    return once


def rows(quick: bool = False) -> list[Row]:
    runs = 2 if quick else 4
    photos = [data_url(camera_jpeg(i), "image/jpeg") for i in range(16)]
    kept = [data_url(kept_jpeg(i), "image/jpeg") for i in range(16)]
    bomb = data_url(flat_png(6300, 6300), "image/png")
    with FakeOpenAI() as fake, tempfile.TemporaryDirectory(prefix="dalle3-bench-edit-memory-") as tmp:
        fake.default_image = render_image(1024, 1024)
        env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": fake.base_url, "DALLE3_OUTPUT_DIR": str(Path(tmp) / "out")}
        with subprocess_app(ROOT / "app.py", env) as (proc, url, _):
            edit_peak(proc.pid, url, photos[:1])()  # warm-up: the first edit imports what edits need
            a, b = alternate(edit_peak(proc.pid, url, photos), edit_peak(proc.pid, url, kept), runs,
                             "16 camera JPEGs vs 16 kept JPEGs (peak MiB)")
            photos_row = Row("E1. Peak RSS added by an edit of 16 references (12 MP camera JPEGs, ~2.4 MB each), "
                             "python app.py over HTTP", "MiB", a, b,
                             "16 JPEGs of the same bytes sent undecoded (2048 px)", 1.5)
            a, b = alternate(edit_peak(proc.pid, url, [bomb, bomb]), edit_peak(proc.pid, url, [bomb]), runs,
                             "2 vs 1 bombs of 39.7 MP (peak MiB)")
            bombs_row = Row("E2. Peak RSS added by an edit of 2 PNGs of 39.7 million pixels (~120 KB each; the "
                            "most one edit may open)", "MiB", a, b, "the same edit with 1 of them", 1.3)
    return [photos_row, bombs_row]


def table(edit_rows: list[Row]) -> list[str]:
    lines = [("| measure | ours min / median / max | baseline min / median / max | ratio of medians | noise ± "
              "| target | verdict |"), "|---|---|---|---|---|---|---|"]
    for row in edit_rows:
        ours, floor = (f"{s.min:.0f} / {s.median:.0f} / {s.max:.0f} {row.unit}" for s in (row.ours, row.floor))
        lines.append(f"| {row.name} | {ours} | {floor} ({row.baseline}) | {row.ratio:.2f} "
                     f"| {row.noise:.3f} | ≤ {row.target:g} | {row.verdict} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edit_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 samples a side instead of 4")
    args = parser.parse_args(argv)
    log("edit memory: starting python app.py")
    print("\n".join(table(rows(args.quick))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
