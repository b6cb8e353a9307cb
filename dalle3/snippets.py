"""The request behind an image as code to paste: ``curl``, the official ``openai`` SDK, ``gradio_client``.

Each snippet is built from the body the app itself sends
(:func:`dalle3.params.request_body`), so run against the same endpoint it
makes the same request. The key is never in a snippet: the shell reads
``$OPENAI_API_KEY``, Python ``os.environ["OPENAI_API_KEY"]``. Text is quoted
by each language's own rules (``shlex.quote`` for the shell, ``repr`` for
Python) rather than by hand, so any prompt — quotes, newlines, NUL, emoji —
comes out as typed.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any, Mapping

from dalle3.deployments import is_azure
from dalle3.errors import ValidationError, shown_url
from dalle3.api_docs import api_arguments
from dalle3.page import EXTRA_NAMES
from dalle3.params import GenerationRequest, profile_for, request_body, validate
from dalle3.settings import DEFAULT_BASE_URL

#: The header that carries a caller's own key to the page's ``/generate`` (never an input).
KEY_HEADER = "X-OpenAI-Api-Key"
DEFAULT_PAGE_URL = "http://127.0.0.1:7860/"
_EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}


@dataclass(frozen=True)
class Snippets:
    """The same request three ways; each is complete, runnable text."""

    curl: str
    python: str
    gradio: str


def _body(request: GenerationRequest) -> dict[str, Any]:
    """The app's body minus ``safety_identifier``: that names a visitor of this server to OpenAI, and
    whoever runs a snippet does so on their own key, as nobody's visitor."""
    body = request_body(request, profile_for(request.model))
    body.pop("safety_identifier", None)
    return body


def _file(body: Mapping[str, Any]) -> str:
    return "image." + _EXTENSIONS.get(body.get("output_format", "png"), "png")


def curl_snippet(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL) -> str:
    """``curl`` posting the exact JSON body; the image is decoded to ``image.png`` (or .jpg, .webp)."""
    fields = _body(request)
    body = json.dumps(fields, ensure_ascii=False)
    decode = ('import base64, json, sys; '
              f'open("{_file(fields)}", "wb").write(base64.b64decode(json.load(sys.stdin)["data"][0]["b64_json"]))')
    return "\n".join([
        f"curl -sS {shlex.quote(_endpoint(base_url) + '/images/generations')} \\",
        ('  -H "api-key: $OPENAI_API_KEY" \\' if is_azure(base_url) else '  -H "Authorization: Bearer $OPENAI_API_KEY" \\'),
        '  -H "Content-Type: application/json" \\',
        f"  -d {shlex.quote(body)} \\",
        f"  | python3 -c {shlex.quote(decode)}",
    ])


def _endpoint(url: str) -> str:
    """The base URL without userinfo, query or fragment: a snippet is shared, credentials in a URL are not."""
    return shown_url(url).rstrip("/")


def _page(url: str) -> str:
    return shown_url(url) if "://" in url else url  # a Space id ("owner/name") is not a URL


def _call(target: str, arguments: Mapping[str, Any], tail: list[str]) -> list[str]:
    return [f"{target}(", *(f"    {name}={value!r}," for name, value in arguments.items()), *tail, ")"]


def openai_snippet(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL) -> str:
    """Python with the official ``openai`` SDK; every body field a keyword argument."""
    body = _body(request)
    where = "" if _endpoint(base_url) == DEFAULT_BASE_URL else f", base_url={_endpoint(base_url)!r}"
    return "\n".join([
        "import base64",
        "import os",
        "",
        "from openai import OpenAI",
        "",
        f'client = OpenAI(api_key=os.environ["OPENAI_API_KEY"]{where})',
        *_call("result = client.images.generate", body, []),
        f'with open("{_file(body)}", "wb") as f:',
        "    f.write(base64.b64decode(result.data[0].b64_json))",
    ])


def gradio_snippet(request: GenerationRequest, page_url: str = DEFAULT_PAGE_URL, login: bool = False) -> str:
    """``gradio_client`` calling this page's ``/generate`` with the same settings (seed included).

    ``page_url`` is the page's address, or on a Space its id (``owner/name``), which ``Client`` also takes.
    """
    values = request.parameters()
    arguments = {name: values[name] for name in api_arguments() if values.get(name) is not None}
    missing = [name for name in ("output_format", "output_compression") if values.get(name) is not None
               and name not in arguments]
    auth = ', auth=("user", "password")' if login else ""
    return "\n".join([
        "import os",
        "",
        "from gradio_client import Client",
        "",
        "# your own key travels in a header; without one the page uses its own key (if it has one)",
        f'client = Client({_page(page_url)!r}, headers={{"{KEY_HEADER}": os.environ.get("OPENAI_API_KEY", "")}}{auth})',
        *([f"# not parameters of this page's /generate, so it uses their defaults: {', '.join(missing)}"]
          if missing else []),
        *_call("path, status, facts = client.predict", arguments, ['    api_name="/generate",']),
        "print(path, facts)",
    ])


def snippets(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL, page_url: str = DEFAULT_PAGE_URL,
             login: bool = False) -> Snippets:
    """All three for ``request`` (for a fresh result: ``result.request``)."""
    return Snippets(curl_snippet(request, base_url), openai_snippet(request, base_url),
                    gradio_snippet(request, page_url, login))


def request_from_parameters(parameters: Mapping[str, Any] | None) -> GenerationRequest | None:
    """The request a PNG's stored parameters describe (checked again), or None when they are unusable."""
    if not parameters:
        return None
    extras = {n: parameters[n] for n in EXTRA_NAMES if isinstance(parameters.get(n), str)}
    try:
        return validate(parameters.get("prompt"), parameters.get("seed", 0), parameters.get("quality"),
                        parameters.get("style"), parameters.get("size"), parameters.get("model"), extras,
                        parameters.get("output_format"), parameters.get("output_compression"))
    except ValidationError:
        return None
