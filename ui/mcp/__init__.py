"""What an MCP client receives from the ``generate`` and ``edit`` tools: every image, and the facts as JSON.

Gradio 6.31's MCP server turns a tool result with several outputs into one text item holding
the Python repr of a list (server paths inside) and no image (checked with the official
``mcp`` client). Gradio offers no hook for a tool's result, so after launch this module
replaces the server's ``postprocess_output_data`` on that one instance with a renderer for
our outputs: each image's own bytes as image content — every image of a batch, read from the
outputs folder by the names the facts list (``files``), never from a path a caller gave — and
the facts as JSON text. The schemas, descriptions, structured facts and our own tools are
:mod:`ui.mcp.tools`'s.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import weakref
from pathlib import Path
from typing import Any

import gradio as gr

from dalle3.models.edit_rules import MAX_REFERENCES
from dalle3 import Studio
from ui.mcp.tools import install

_STUDIOS: "weakref.WeakKeyDictionary[gr.Blocks, Studio]" = weakref.WeakKeyDictionary()
_SAVED_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}/[A-Za-z0-9_.-]{1,200}\.(png|jpg|jpeg|webp)$")


def remember_studio(demo: gr.Blocks, studio: Studio) -> None:
    """``demo``'s studio: where it saves images (a batch's other images are returned from there), its
    settings, listing and library (the ``models`` and ``library`` tools)."""
    _STUDIOS[demo] = studio


def _flatten(data: Any) -> list[Any]:
    items: list[Any] = []
    for item in data if isinstance(data, (list, tuple)) else [data]:
        items.extend(_flatten(item) if isinstance(item, (list, tuple)) else [item])
    return items


def _batch_files(facts: dict[str, Any], folder: Path | None) -> list[Path]:
    """The saved images a result's facts name, when each is a plain saved name inside ``folder``."""
    names = facts.get("files")
    if folder is None or not isinstance(names, list) or not names:
        return []
    root = folder.resolve()
    paths = [(root / n).resolve() for n in names if isinstance(n, str) and _SAVED_NAME.match(n)]
    if len(paths) != len(names) or not all(p.is_relative_to(root) and p.is_file() for p in paths):
        return []
    return paths




def _file_lists(get_input_schema: Any) -> Any:
    """Gradio 6.31's schema for a *list* of files, fixed: an array of URL strings, each one converted.

    Gradio simplifies a lone file to a URL string, but for ``File(file_count="multiple")`` it
    leaves ``items: {"$ref": "#/$defs/FileData"}`` pointing at nothing (the official ``mcp``
    client then refuses every call: ``PointerToNowhere``) and records the list's position as
    ``[name, "items"]``, which never matches an argument. Checked in gradio/mcp.py.
    """

    def fixed(tool_name: str, parameters: dict[str, str] | None = None) -> tuple[dict[str, Any], list]:
        schema, positions = get_input_schema(tool_name, parameters)
        for name, prop in schema.get("properties", {}).items():
            if isinstance(prop, dict) and prop.get("type") == "array" and "$ref" in (prop.get("items") or {}):
                schema["properties"][name] = {
                    "type": "array", "description": prop.get("description", ""),
                    "items": {"type": "string", "format": "a data:image/...;base64 URL "
                                                          "(http(s) URLs are refused: this server downloads nothing)"}}
                positions = [p for p in positions if not p or p[0] != name]
                positions += [[name, i] for i in range(MAX_REFERENCES)]
        return schema, positions

    return fixed


def adapt_mcp(demo: gr.Blocks) -> None:
    """Render tool results as images + JSON on ``demo``'s MCP server, and give its tools typed schemas,
    structured facts and the ``models``/``library`` tools (:mod:`ui.mcp.tools`); no-op without ``--mcp``."""
    server = getattr(demo, "mcp_server_obj", None)
    if server is None:
        return
    server.get_input_schema = _file_lists(server.get_input_schema)
    studio = _STUDIOS.get(demo)
    if studio is not None:
        install(server, studio)
    types = server.types
    folder = studio.output_dir if studio is not None else None

    def image(path: Path) -> Any:
        mime = mimetypes.guess_type(path.name)[0] or "image/png"
        return types.ImageContent(type="image", data=base64.b64encode(path.read_bytes()).decode("ascii"),
                                  mimeType=mime)

    def render(data: Any, root_url: str) -> list[Any]:
        items = _flatten(data)
        facts = next((i for i in items if isinstance(i, dict) and "files" in i), {})
        batch = _batch_files(facts, folder)
        content: list[Any] = [image(p) for p in batch]
        for item in items:
            if isinstance(item, dict) and (item.get("meta") or {}).get("_type") == "gradio.FileData":
                path = item.get("path")  # an answer for MCP names only a URL (ui.file_answer): no path
                if not batch and isinstance(path, str) and Path(path).is_file():
                    content.append(image(Path(path)))
                # the image is there, from the outputs folder; a file object is never sent as text
            elif isinstance(item, dict):
                content.append(types.TextContent(type="text", text=json.dumps(item, ensure_ascii=False)))
            # the Markdown status is for the page; the JSON carries the same facts
        return content

    server.postprocess_output_data = render
