"""Bench rows for batches and edits: ``python -m bench.edits [--quick]``.

Each row is ours against a floor measured interleaved in the same run, against
the loopback fake with a fixed delay (2 s), in-process (the page's ``/edit``
and ``n`` are wired by the ui package; these rows time the package path):

* n=8 at 1024x1024: ``Studio.generate`` (validation, call, 8 decodes, 8 metadata
  inserts, 8 atomic saves) vs a floor that posts the same body with one
  ``requests.Session``, decodes and writes the 8 files. Target <= 1.02.
* an edit with 4 references of ~3 MB (API-like PNGs, as "use as reference"
  sends them): reading, checking, hashing and preparing them, then the
  multipart call and the save, vs a floor posting the same files unprepared.
  Target <= 1.05. Info: the same with 4 camera JPEGs (4000x3000, ~3 MB), which
  we scale down to 2048 before sending.
* RSS of a process making 50 calls of n=4 ÷ after 5 (fake delay 0). Target <= 1.1.
"""

from __future__ import annotations

import argparse
import base64
import io
import itertools
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import requests
from PIL import Image

from bench.images import realistic_png
from dalle3 import Settings, Studio, validate
from dalle3.edits.inputs import prepare_edit
from dalle3.params import profile_for
from tests.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-bench-edits-0000000000000000"
DELAY_S = 2.0
_nonce = itertools.count()


def _prompt() -> str:
    return f"a lighthouse, bench {uuid.uuid4().hex[:8]} {next(_nonce)}"


def _interleaved(ours: Callable[[], object], floor: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Alternate the order every run so drift and other load hit both alike."""
    a: list[float] = []
    b: list[float] = []
    for i in range(runs):
        for fn, out in ((ours, a), (floor, b)) if i % 2 == 0 else ((floor, b), (ours, a)):
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
    return a, b


def spread(values: list[float], unit: str = "s") -> str:
    """``median (min–max)``: a row passes only when the spread says it is not noise."""
    return f"{statistics.median(values):.3f} {unit} ({min(values):.3f}–{max(values):.3f})"


def camera_jpeg(seed: int) -> bytes:
    """A 4000x3000 JPEG of ~3 MB: smooth colour plus mild noise, as a phone photo compresses."""
    rnd = random.Random(seed)
    small = Image.frombytes("RGB", (40, 30), rnd.randbytes(40 * 30 * 3)).resize((4000, 3000), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((4000, 3000), 24).convert("RGB")
    out = io.BytesIO()
    Image.blend(small, noise, 0.12).save(out, format="JPEG", quality=92)
    return out.getvalue()


def _floor_batch(session: requests.Session, fake: FakeOpenAI, out: Path, n: int) -> Callable[[], None]:
    def run() -> None:
        body: dict[str, Any] = {"model": "gpt-image-2", "prompt": _prompt(), "n": n, "size": "1024x1024",
                                "quality": "medium", "background": "auto", "moderation": "auto", "output_format": "png"}
        response = session.post(f"{fake.base_url}/images/generations", json=body,
                                headers={"Authorization": f"Bearer {KEY}"}, timeout=(10, 120))
        response.raise_for_status()
        for item in response.json()["data"]:
            (out / f"floor-{uuid.uuid4().hex}.png").write_bytes(base64.b64decode(item["b64_json"]))
    return run


def _floor_edit(session: requests.Session, fake: FakeOpenAI, out: Path, files: list[bytes]) -> Callable[[], None]:
    def run() -> None:
        parts = [("image[]", (f"{i}.bin", data, "image/png" if data[:4] == b"\x89PNG" else "image/jpeg"))
                 for i, data in enumerate(files)]
        fields = {"model": "gpt-image-2", "prompt": _prompt(), "n": "1", "size": "1024x1024", "quality": "medium"}
        response = session.post(f"{fake.base_url}/images/edits", data=fields, files=parts,
                                headers={"Authorization": f"Bearer {KEY}"}, timeout=(10, 120))
        response.raise_for_status()
        for item in response.json()["data"]:
            (out / f"floor-{uuid.uuid4().hex}.png").write_bytes(base64.b64decode(item["b64_json"]))
    return run


def _ours_edit(studio: Studio, files: list[Path]) -> Callable[[], None]:
    def run() -> None:
        inputs = prepare_edit(profile_for("gpt-image-2"), [p.read_bytes() for p in files])
        studio.edit(validate(_prompt(), model="gpt-image-2"), inputs)
    return run


_RSS_CHILD = """
import sys, uuid
from pathlib import Path
from dalle3 import Settings, Studio, validate
def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
studio = Studio(Settings(api_key=sys.argv[2], base_url=sys.argv[1], output_dir=Path(sys.argv[3]), max_retries=0))
for i in range(1, 51):
    studio.generate(validate(f"rss {uuid.uuid4().hex} {i}", model="gpt-image-2", n=4))
    if i in (5, 50):
        print(rss(), flush=True)
"""


def measure_rss(fake: FakeOpenAI) -> tuple[float, float]:
    fake.default_delay_s = 0.0
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-rss-") as out:
        done = subprocess.run([sys.executable, "-c", _RSS_CHILD, fake.base_url, KEY, out], cwd=ROOT,
                              capture_output=True, text=True, timeout=600, env={"PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    early, late = (float(v) for v in done.stdout.split())
    return early, late


def rows(quick: bool = False) -> list[tuple[str, str, str, float, str]]:
    """(measure, ours, baseline, ratio, target) for each row; medians over interleaved runs."""
    runs = 3 if quick else 7
    median = statistics.median
    results = []
    with FakeOpenAI() as fake, tempfile.TemporaryDirectory(prefix="dalle3-bench-edits-") as tmp:
        root = Path(tmp)
        (root / "floor").mkdir()
        fake.default_image = realistic_png(1024, 1024)
        fake.default_delay_s = DELAY_S
        studio = Studio(Settings(api_key=KEY, base_url=fake.base_url, output_dir=root / "ours", max_retries=0))
        session = requests.Session()

        ours, floor = _interleaved(lambda: studio.generate(validate(_prompt(), model="gpt-image-2", n=8)),
                                   _floor_batch(session, fake, root / "floor", 8), runs)
        results.append(("n=8 at 1024x1024, end to end", spread(ours), spread(floor),
                        median(ours) / median(floor), "≤ 1.02"))

        for label, make, target in (("4 references of ~3 MB (API PNGs), preparation included",
                                     lambda i: realistic_png(1024, 1536, noise_bits=3, seed=i), "≤ 1.05"),
                                    ("… 4 camera JPEGs 4000x3000 ~3 MB, scaled to 2048 (info)", camera_jpeg, "—")):
            paths = []
            for i in range(4):
                paths.append(root / f"ref-{label[:3]}-{i}")
                paths[-1].write_bytes(make(i))
            sizes = ", ".join(f"{p.stat().st_size / 2**20:.1f}" for p in paths)
            ours, floor = _interleaved(_ours_edit(studio, paths),
                                       _floor_edit(session, fake, root / "floor", [p.read_bytes() for p in paths]),
                                       runs)
            results.append((f"edit, {label} [{sizes} MB]", spread(ours), spread(floor),
                            median(ours) / median(floor), target))

        early, late = measure_rss(fake)
        results.append(("RSS after 50 calls of n=4 ÷ after 5 (fake delay 0)", f"{late:.1f} MiB", f"{early:.1f} MiB",
                        late / early, "≤ 1.1"))
    return results


def table(results: list[tuple[str, str, str, float, str]]) -> str:
    lines = ["| measure | ours median (min–max) | baseline (floor) | ratio of medians | target |",
             "|---|---|---|---|---|"]
    lines += [f"| {m} | {o} | {b} | {r:.3f} | {t} |" for m, o, b, r, t in results]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edits", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs per row instead of 7")
    args = parser.parse_args(argv)
    print(table(rows(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
