"""The image in an API answer: a URL for whoever can use one, the server path only for ``gradio_client``.

Gradio answers a file output with a ``FileData`` whose ``path`` is the file's place in its
temp folder on the server. A plain HTTP caller (``/gradio_api/call/...``) and an MCP client
can use only the ``url``, so their answer names only the URL (and the name, type and size).
``gradio_client`` is different: it addresses a file it downloads by that ``path`` (its
``_download_file`` builds ``file=<path>``), and hands its caller a local copy instead, so its
answer keeps the ``FileData`` Gradio would send. It says who it is with ``x-gradio-user: api``.

The API events run with ``postprocess=False``, so what is built here is what is sent: a dict
without ``path`` is not a ``FileData`` to Gradio's cache step, which leaves it alone.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import route_utils
from gradio_client.utils import encode_file_path

FILE_META = {"_type": "gradio.FileData"}
API_PREFIX = "/gradio_api"


def from_gradio_client(request: gr.Request | None) -> bool:
    """Whether the call came from ``gradio_client`` (which needs the server path to download the file)."""
    return request is not None and (request.headers.get("x-gradio-user") or "") == "api"


def _root_url(request: gr.Request) -> str:
    raw = request.request
    assert raw is not None  # a request that reached a handler has its HTTP request
    path = raw.url.path
    route = path[path.find(API_PREFIX):] if API_PREFIX in path else path
    return route_utils.get_root_url(request=raw, route_path=route, root_path=raw.scope.get("root_path"))


def image_answer(path: Path, request: gr.Request | None, output: gr.components.Component) -> dict[str, Any]:
    """The ``output`` component's value for the saved image at ``path``, as this caller can use it."""
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    plain = {"orig_name": path.name, "mime_type": mime, "size": path.stat().st_size, "meta": FILE_META}
    if request is None or from_gradio_client(request) or getattr(request, "request", None) is None:
        return {"path": str(path), **plain}  # Gradio copies it into its cache and adds the URL
    cached = output.move_resource_to_block_cache(str(path))
    return {"url": f"{_root_url(request)}{API_PREFIX}/file={encode_file_path(str(cached))}", **plain}
