"""What an MCP client receives from the ``generate`` tool: the image and the facts as JSON.

Gradio 6.31's MCP server turns a tool result with several outputs into one text item holding
the Python repr of a list (server paths inside) and no image (checked with the official
``mcp`` client). Gradio offers no hook for a tool's result, so after launch this module
replaces the server's ``postprocess_output_data`` on that one instance with a renderer for
our outputs: the image's own bytes as image content, and the facts as JSON text.
"""

from __future__ import annotations

import base64
import json
import mimetypes
from pathlib import Path
from typing import Any

import gradio as gr


def _flatten(data: Any) -> list[Any]:
    items: list[Any] = []
    for item in data if isinstance(data, (list, tuple)) else [data]:
        items.extend(_flatten(item) if isinstance(item, (list, tuple)) else [item])
    return items


def adapt_mcp(demo: gr.Blocks) -> None:
    """Render tool results as image + JSON on ``demo``'s MCP server (no-op without ``--mcp``)."""
    server = getattr(demo, "mcp_server_obj", None)
    if server is None:
        return
    types = server.types

    def render(data: Any, root_url: str) -> list[Any]:
        content: list[Any] = []
        for item in _flatten(data):
            if isinstance(item, dict) and isinstance(item.get("path"), str) and Path(item["path"]).is_file():
                mime = mimetypes.guess_type(item["path"])[0] or "image/png"
                encoded = base64.b64encode(Path(item["path"]).read_bytes()).decode("ascii")
                content.append(types.ImageContent(type="image", data=encoded, mimeType=mime))
            elif isinstance(item, dict):
                content.append(types.TextContent(type="text", text=json.dumps(item, ensure_ascii=False)))
            # the Markdown status is for the page; the JSON carries the same facts
        return content

    server.postprocess_output_data = render
