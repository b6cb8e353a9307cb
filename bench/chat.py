"""``python -m bench.chat [--quick]``: a conversation turn against its floors.

Rows (ours vs a floor sampled alternately in the same run, min / median / max;
the fake answers after a fixed 2 s with a realistic 1024x1024 PNG):

* C1 a turn end to end: the real ``python app.py``'s ``/chat`` (a new
  conversation each time: the turn checked, the spend cap held, the image saved
  with its parameters, the conversation written) vs ``bench/chat_floor_app.py``,
  a minimal Gradio app making one ``POST /responses`` and writing the image;
  target ≤ 1.02.
* C2 the first preview handed on after the API's first partial-image event:
  :class:`dalle3.chat.client.ResponsesClient` with previews, from the call to
  ``on_partial`` (decoded, checked) vs a bare ``requests`` read of the same stream
  until its first partial-image event is whole and decoded; target +100 ms
  (held as a ratio: 1 + 0.1 s ÷ the floor's median). The page adds its own
  hand-off to the browser on top (the studio's previews measure that part).
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import time
from typing import Any
from pathlib import Path

import requests
from gradio_client import Client

from bench.common import KEY, ROOT, log, prompt, timed
from bench.images import realistic_png
from bench.procs import floor_env, subprocess_app
from bench.rows import alternate
from bench.stats import Row, Side
from dalle3 import Settings
from dalle3.chat.client import ResponsesClient
from dalle3.chat.request import ToolSettings, check_turn
from tests.fake_openai import FakeOpenAI

DELAY_S = 2.0
TOOL = ToolSettings(image_model="gpt-image-2", quality="low", size="1024x1024", partial_images=2)


def row_turn(fake: FakeOpenAI, out: Path, runs: int) -> Row:
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": fake.base_url, "DALLE3_OUTPUT_DIR": str(out / "ours"),
           "DALLE3_CHAT_MODEL": "gpt-5.4-mini"}
    with subprocess_app(ROOT / "app.py", env) as (_, url, _), \
            subprocess_app(ROOT / "bench" / "chat_floor_app.py", floor_env(fake, out / "floor", 4)) as (_, f_url, _):
        ours, floor = Client(url, verbose=False), Client(f_url, verbose=False)
        try:
            def call_ours() -> object:
                return ours.predict(text=prompt(), image_model="gpt-image-2", quality="low", api_name="/chat")

            def call_floor() -> object:
                return floor.predict(text=prompt(), previous="", api_name="/chat")

            call_ours(), call_floor()  # warm-up
            a, b = alternate(lambda: timed(call_ours), lambda: timed(call_floor), runs, "one turn (s)")
        finally:
            ours.close()
            floor.close()
    return Row(f"C1. One conversation turn end to end (1024², {runs} each)", "s", a, b, "Gradio floor app", 1.02)


def first_preview(client: ResponsesClient) -> float:
    turn = check_turn(chat_model="gpt-5.4-mini", text=prompt(), settings=TOOL)
    started = time.perf_counter()
    seen: list[float] = []
    client.send(turn, KEY, lambda p: seen.append(time.perf_counter() - started) if not seen else None)
    return seen[0]


def floor_first_partial(base_url: str, session: requests.Session) -> float:
    """Post the same turn streamed; read raw bytes until the first partial-image event is whole; decode it."""
    body: dict[str, Any] = {"model": "gpt-5.4-mini", "input": prompt(), "stream": True,
            "tools": [{"type": "image_generation", "model": "gpt-image-2", "quality": "low", "partial_images": 2}]}
    started = time.perf_counter()
    with session.post(f"{base_url}/responses", json=body, stream=True, timeout=(10, 120),
                      headers={"Authorization": f"Bearer {KEY}"}) as response:
        buffer = bytearray()
        while True:
            buffer += response.raw.read1(1 << 20, decode_content=True)
            events = bytes(buffer).split(b"\n\n")
            partial = next((e for e in events[:-1] if b"partial_image\n" in e), None)
            if partial is not None:
                data = json.loads(partial.split(b"data: ", 1)[1])
                base64.b64decode(data["partial_image_b64"])
                return time.perf_counter() - started


def row_preview(fake: FakeOpenAI, runs: int) -> Row:
    fake.default_delay_s = 3.0  # three events (2 previews, the final): the first partial after 1 s
    client = ResponsesClient(Settings(api_key=KEY, base_url=fake.base_url))
    session = requests.Session()
    first_preview(client), floor_first_partial(fake.base_url, session)  # warm-up
    a, b = alternate(lambda: first_preview(client), lambda: floor_first_partial(fake.base_url, session), runs,
                     "first preview (s)")
    fake.default_delay_s = DELAY_S
    return Row(f"C2. First preview after the first partial-image event (client, {runs} each; target +100 ms)",
               "s", a, b, "bare requests", 1 + 0.1 / Side(b.samples).median)


def rows(quick: bool = False) -> list[Row]:
    runs = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="dalle3-bench-chat-") as tmp, FakeOpenAI() as fake:
        fake.default_image = realistic_png(1024, 1024)
        fake.default_delay_s = DELAY_S
        found = [row_turn(fake, Path(tmp), runs)]
        log(f"C1: ratio {found[-1].ratio:.3f}, {found[-1].verdict}")
        found.append(row_preview(fake, runs))
        log(f"C2: ratio {found[-1].ratio:.3f}, {found[-1].verdict}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chat", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs a side instead of 7")
    args = parser.parse_args(argv)
    for row in rows(args.quick):
        print(f"| {row.name} | {row.ours.min:.3f} / {row.ours.median:.3f} / {row.ours.max:.3f} | "
              f"{row.floor.min:.3f} / {row.floor.median:.3f} / {row.floor.max:.3f} ({row.baseline}) | "
              f"{row.ratio:.3f} | {row.noise:.3f} | ≤ {row.target:.3f} | {row.verdict} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
