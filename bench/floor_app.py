"""The floor: the least any Gradio front end to the Images API must do.

One endpoint posts to the API with ``requests`` (one reused Session, like the
app: the strictest floor), base64-decodes, writes the bytes to a file and
returns the path through ``gr.Image(type="filepath", format="png")`` — the same
output component and hand-off as the app. A second endpoint, ``/noop``, returns
an existing file without calling anything: the floor for a cache hit.

Run as the bench runs it: ``OPENAI_BASE_URL=... OPENAI_API_KEY=... FLOOR_OUTPUT_DIR=...
FLOOR_CONCURRENCY=4 python bench/floor_app.py`` (port from ``GRADIO_SERVER_PORT``).
"""

from __future__ import annotations

import base64
import itertools
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr
import requests


def build(base_url: str, api_key: str, out_dir: Path, concurrency: int = 4) -> gr.Blocks:
    session = requests.Session()
    counter = itertools.count()
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: list[float] = []  # seconds inside generate(), for the bench's hand-off split

    def generate(prompt: str, size: str = "1024x1792") -> str:
        started = time.perf_counter()
        body: dict[str, Any] = {"model": "dall-e-3", "prompt": prompt, "n": 1, "size": size, "quality": "standard",
                "style": "natural", "response_format": "b64_json"}
        response = session.post(f"{base_url}/images/generations", json=body,
                                headers={"Authorization": f"Bearer {api_key}"}, timeout=(10, 120))
        response.raise_for_status()
        png = base64.b64decode(response.json()["data"][0]["b64_json"])
        path = out_dir / f"floor-{os.getpid()}-{next(counter)}.png"
        path.write_bytes(png)
        timings.append(time.perf_counter() - started)
        return str(path)

    def noop(path: str) -> str:
        return path

    with gr.Blocks(title="floor") as demo:
        prompt = gr.Textbox(label="prompt")
        size = gr.Textbox("1024x1792", label="size")
        path_in = gr.Textbox(label="path")
        image = gr.Image(type="filepath", format="png", label="image", elem_id="image")
        go = gr.Button(elem_id="go")  # ids for the browser rows (bench/browser.py)
        again = gr.Button()
        go.click(generate, [prompt, size], image, api_name="generate", concurrency_limit=concurrency)
        again.click(noop, path_in, image, api_name="noop", concurrency_limit=concurrency)
    demo.queue(default_concurrency_limit=concurrency)
    demo.floor_timings = timings
    return demo


if __name__ == "__main__":
    out = Path(os.environ.get("FLOOR_OUTPUT_DIR") or tempfile.mkdtemp(prefix="floor-"))
    concurrency = int(os.environ.get("FLOOR_CONCURRENCY", "4"))
    build(os.environ["OPENAI_BASE_URL"], os.environ["OPENAI_API_KEY"], out, concurrency).launch(
        allowed_paths=[str(out)])
