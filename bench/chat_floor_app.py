"""The floor of a conversation turn: the least any Gradio front end to ``POST /responses`` must do.

One endpoint posts the turn (a mainline model, the image tool, ``previous_response_id``
when given) with a reused ``requests.Session``, finds the ``image_generation_call``,
base64-decodes its result, writes the file and returns (path, text, response id) —
the same output components as the app's ``/chat``.

Run as the bench runs it: ``OPENAI_BASE_URL=... OPENAI_API_KEY=... FLOOR_OUTPUT_DIR=... python
bench/chat_floor_app.py`` (port from ``GRADIO_SERVER_PORT``).
"""

from __future__ import annotations

import base64
import itertools
import os
import tempfile
from typing import Any
from pathlib import Path

import gradio as gr
import requests


def build(base_url: str, api_key: str, out_dir: Path) -> gr.Blocks:
    session = requests.Session()
    counter = itertools.count()
    out_dir.mkdir(parents=True, exist_ok=True)

    def chat(text: str, previous: str) -> tuple[str | None, str, dict]:
        body: dict[str, Any] = {"model": "gpt-5.4-mini", "input": text, "store": True,
                "tools": [{"type": "image_generation", "model": "gpt-image-2", "quality": "low"}]}
        if previous:
            body["previous_response_id"] = previous
        response = session.post(f"{base_url}/responses", json=body, timeout=(10, 600),
                                headers={"Authorization": f"Bearer {api_key}"})
        response.raise_for_status()
        payload = response.json()
        path = None
        for item in payload["output"]:
            if item["type"] == "image_generation_call" and item.get("result"):
                path = out_dir / f"floor-{os.getpid()}-{next(counter)}.png"
                path.write_bytes(base64.b64decode(item["result"]))
        texts = [p["text"] for item in payload["output"] if item["type"] == "message" for p in item["content"]]
        return (str(path) if path else None), "\n".join(texts), {"response_id": payload["id"]}

    with gr.Blocks(title="chat floor") as demo:
        text = gr.Textbox(label="text")
        previous = gr.Textbox("", label="previous")
        outputs = [gr.Image(type="filepath", format="png", label="image"), gr.Markdown(label="answer"),
                   gr.JSON(label="facts")]
        gr.Button().click(chat, [text, previous], outputs, api_name="chat")
    return demo


if __name__ == "__main__":
    out = Path(os.environ.get("FLOOR_OUTPUT_DIR") or tempfile.mkdtemp(prefix="chat-floor-"))
    build(os.environ["OPENAI_BASE_URL"], os.environ["OPENAI_API_KEY"], out).launch(allowed_paths=[str(out)])
