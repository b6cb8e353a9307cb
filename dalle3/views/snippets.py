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

from dalle3.http.deployments import is_azure
from dalle3.errors import ValidationError, shown_url
from dalle3.files.containers import EXTENSIONS
from dalle3.views.api_docs import KEY_HEADER, api_arguments
from dalle3.params import GenerationRequest, profile_for, request_body
from dalle3.settings import DEFAULT_BASE_URL

#: The header that carries a caller's own key to the page's ``/generate`` (never an input).
DEFAULT_PAGE_URL = "http://127.0.0.1:7860/"


@dataclass(frozen=True)
class Snippets:
    """The same request three ways; each is complete, runnable text."""

    curl: str
    python: str
    gradio: str


def _body(request: GenerationRequest, previews: int = 0) -> dict[str, Any]:
    """The app's body minus ``safety_identifier``: that names a visitor of this server to OpenAI, and
    whoever runs a snippet does so on their own key, as nobody's visitor. With ``previews`` the
    app streamed (``stream``, ``partial_images``), and so does the snippet."""
    body = request_body(request, profile_for(request.model))
    body.pop("safety_identifier", None)
    if previews:
        body.update(stream=True, partial_images=previews)
    return body


def image_names(body: Mapping[str, Any]) -> list[str]:
    """Where a snippet writes the images: ``image.png`` for one, ``image-1.png`` ... for a batch."""
    suffix = EXTENSIONS.get(body.get("output_format", "png"), ".png")
    count = int(body.get("n", 1))
    return [f"image{suffix}"] if count == 1 else [f"image-{i}{suffix}" for i in range(1, count + 1)]


def _file(body: Mapping[str, Any]) -> str:
    return image_names(body)[0]


def decode_program(body: Mapping[str, Any]) -> str:
    """Python that reads the API's answer on stdin and writes every image (a stream: the final one)."""
    names = image_names(body)
    if body.get("stream"):
        return ("import base64, json, sys\n"
                "for line in sys.stdin:\n"
                "    event = json.loads(line[5:]) if line.startswith(\"data:\") else {}\n"
                "    if event.get(\"type\", \"\").endswith(\"completed\"):\n"
                f"        open(\"{names[0]}\", \"wb\").write(base64.b64decode(event[\"b64_json\"]))\n")
    return ("import base64, json, sys\n"
            f"names = {json.dumps(names)}\n"
            "for name, item in zip(names, json.load(sys.stdin)[\"data\"]):\n"
            "    open(name, \"wb\").write(base64.b64decode(item[\"b64_json\"]))\n")


def curl_snippet(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL, previews: int = 0) -> str:
    """``curl`` posting the exact JSON body; the images are decoded to ``image.png`` (or .jpg, .webp)."""
    fields = _body(request, previews)
    body = json.dumps(fields, ensure_ascii=False)
    return "\n".join([
        f"curl -sS{' -N' if previews else ''} {shlex.quote(_endpoint(base_url) + '/images/generations')} \\",
        ('  -H "api-key: $OPENAI_API_KEY" \\' if is_azure(base_url) else '  -H "Authorization: Bearer $OPENAI_API_KEY" \\'),
        '  -H "Content-Type: application/json" \\',
        f"  -d {shlex.quote(body)} \\",
        f"  | python3 -c {shlex.quote(decode_program(fields))}",
    ])


def save_lines(body: Mapping[str, Any], result: str = "result") -> list[str]:
    """Python lines writing every image of an SDK answer (a stream's final image) to :func:`image_names`."""
    names = image_names(body)
    if body.get("stream"):
        return [f"for event in {result}:  # previews first, then the image",
                '    if event.type == "image_generation.completed":',
                f'        with open("{names[0]}", "wb") as f:',
                "            f.write(base64.b64decode(event.b64_json))"]
    if len(names) == 1:
        return [f'with open("{names[0]}", "wb") as f:', f"    f.write(base64.b64decode({result}.data[0].b64_json))"]
    return [f"for name, image in zip({names!r}, {result}.data):",
            '    with open(name, "wb") as f:', "        f.write(base64.b64decode(image.b64_json))"]


def _endpoint(url: str) -> str:
    """The base URL without userinfo, query or fragment: a snippet is shared, credentials in a URL are not."""
    return shown_url(url).rstrip("/")


def _page(url: str) -> str:
    return shown_url(url) if "://" in url else url  # a Space id ("owner/name") is not a URL


def _call(target: str, arguments: Mapping[str, Any], tail: list[str]) -> list[str]:
    return [f"{target}(", *(f"    {name}={value!r}," for name, value in arguments.items()), *tail, ")"]


def sdk_client(base_url: str) -> list[str]:
    """The imports and the ``client = OpenAI(...)`` line (a base URL only when it is not OpenAI's)."""
    where = "" if _endpoint(base_url) == DEFAULT_BASE_URL else f", base_url={_endpoint(base_url)!r}"
    return ["import base64", "import os", "", "from openai import OpenAI", "",
            f'client = OpenAI(api_key=os.environ["OPENAI_API_KEY"]{where})']


def openai_snippet(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL, previews: int = 0) -> str:
    """Python with the official ``openai`` SDK; every body field a keyword argument."""
    body = _body(request, previews)
    return "\n".join([*sdk_client(base_url), *_call("result = client.images.generate", body, []), *save_lines(body)])


def gradio_snippet(request: GenerationRequest, page_url: str = DEFAULT_PAGE_URL, login: bool = False,
                   previews: int = 0) -> str:
    """``gradio_client`` calling this page's ``/generate`` with the same settings (seed included).

    ``page_url`` is the page's address, or on a Space its id (``owner/name``), which ``Client`` also takes.
    ``/generate`` answers with the finished images only, so streamed previews are named as left out.
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
        *([f"# the page streamed {previews} preview{'s' if previews > 1 else ''} first; /generate answers with the "
           "finished image only, so this call asks for none"] if previews else []),
        *_call("path, status, facts = client.predict", arguments, ['    api_name="/generate",']),
        "print(path, facts)",
    ])


def snippets(request: GenerationRequest, base_url: str = DEFAULT_BASE_URL, page_url: str = DEFAULT_PAGE_URL,
             login: bool = False, previews: int = 0) -> Snippets:
    """All three for ``request`` (for a fresh result: ``result.request``); ``previews``: what the
    app streamed (0: a plain call)."""
    return Snippets(curl_snippet(request, base_url, previews), openai_snippet(request, base_url, previews),
                    gradio_snippet(request, page_url, login, previews))


def request_from_parameters(parameters: Mapping[str, Any] | None) -> GenerationRequest | None:
    """The request a PNG's stored parameters describe (checked again), or None when they are unusable."""
    if not parameters:
        return None
    try:
        return GenerationRequest.from_parameters(parameters)
    except ValidationError:
        return None
