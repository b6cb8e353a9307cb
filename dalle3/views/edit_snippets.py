"""An edit's request as code to paste: ``curl -F``, ``client.images.edit``, ``gradio_client`` on ``/edit``.

Each is built from the fields the app itself sends to ``POST /images/edits``
(:func:`dalle3.params.edit_fields`: no ``moderation``, which the edits endpoint does not
take), with the reference images, the mask or the markup named as the person has them (the
names of the files they gave; a painted mask is ``mask.png``). The files the app uploads are
scaled and converted copies of those, so the same files sent by a snippet may arrive larger:
the endpoint scales them itself. :func:`code_for` picks this module or :mod:`dalle3.views.snippets`
for one image of the history.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from dalle3.views.api_docs import edit_arguments
from dalle3.params import GenerationRequest, edit_fields, for_edit, profile_for
from dalle3.settings import DEFAULT_BASE_URL
from dalle3.views.snippets import (
    DEFAULT_PAGE_URL,
    KEY_HEADER,
    Snippets,
    _call,
    _endpoint,
    _page,
    decode_program,
    request_from_parameters,
    save_lines,
    sdk_client,
    snippets,
)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")
_NUMBERS = ("n", "output_compression")  # multipart carries digits; the SDK and gradio_client take ints


@dataclass(frozen=True)
class EditFiles:
    """The files of an edit as the person has them: references in order, then a mask or a markup."""

    images: tuple[str, ...]
    mask: str | None = None
    markup: str | None = None
    input_fidelity: str | None = None


def file_name(name: str, fallback: str) -> str:
    """A name a snippet can use in the current folder: no folders, no control characters."""
    base = _SAFE_NAME.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return base[:100] or fallback


def edit_files(parameters: Mapping[str, Any], names: Sequence[str] = ()) -> EditFiles | None:
    """The files an edited image's parameters name (None for a generation); ``names`` as given, in order."""
    references = parameters.get("references")
    if not isinstance(references, list) or not references:
        return None
    given = list(names)
    images = tuple(file_name(given[i], f"reference-{i + 1}.png") if i < len(given) else f"reference-{i + 1}.png"
                   for i in range(len(references)))
    extra = given[len(references)] if len(given) > len(references) else None
    fidelity = parameters.get("input_fidelity") if isinstance(parameters.get("input_fidelity"), str) else None
    return EditFiles(images,
                     file_name(extra or "mask.png", "mask.png") if parameters.get("mask") else None,
                     file_name(extra or "markup.png", "markup.png") if parameters.get("markup") else None,
                     fidelity)


def _fields(request: GenerationRequest, files: EditFiles) -> dict[str, str]:
    fields = edit_fields(request, profile_for(request.model), files.input_fidelity)
    fields.pop("safety_identifier", None)  # a visitor of this server; a snippet runs on its runner's key
    return fields


def files_comment(files: EditFiles) -> str:
    """One comment line naming the files the snippet reads from the current folder."""
    named = [f"{name} (reference {i + 1})" for i, name in enumerate(files.images)]
    named += [f"{name} (the {what})" for what, name in (("mask", files.mask), ("markup", files.markup)) if name]
    return "# reads from this folder: " + ", ".join(named)


def _parts(files: EditFiles) -> list[tuple[str, str]]:
    """(part name, file) in the order the app sends them: ``image[]`` each, then ``mask`` or ``markup``."""
    parts = [("image[]", name) for name in files.images]
    parts += [(part, name) for part, name in (("mask", files.mask), ("markup", files.markup)) if name]
    return parts


def curl_edit(request: GenerationRequest, files: EditFiles, base_url: str = DEFAULT_BASE_URL) -> str:
    """``curl -F`` multipart: text with ``--form-string`` (a prompt starting with ``@`` stays text)."""
    fields = _fields(request, files)
    lines = [files_comment(files), f"curl -sS {shlex.quote(_endpoint(base_url) + '/images/edits')} \\",
             '  -H "Authorization: Bearer $OPENAI_API_KEY" \\']
    lines += [f"  --form-string {shlex.quote(f'{name}={value}')} \\" for name, value in fields.items()]
    lines += [f"  -F {shlex.quote(f'{part}=@{name}')} \\" for part, name in _parts(files)]
    return "\n".join([*lines, f"  | python3 -c {shlex.quote(decode_program(fields))}"])


def openai_edit(request: GenerationRequest, files: EditFiles, base_url: str = DEFAULT_BASE_URL) -> str:
    """``client.images.edit(image=[open(...)], mask=open(...), ...)`` with the app's fields."""
    fields: dict[str, Any] = dict(_fields(request, files))
    for name in _NUMBERS:
        if name in fields:
            fields[name] = int(fields[name])
    opened = [f"    image=[{', '.join(f'open({n!r}, {chr(34)}rb{chr(34)})' for n in files.images)}],"]
    opened += [f"    {part}=open({name!r}, \"rb\")," for part, name in (("mask", files.mask), ("markup", files.markup))
               if name]
    return "\n".join([files_comment(files), *sdk_client(base_url),
                      *_call("result = client.images.edit", fields, [])[:-1], *opened, ")",
                      *save_lines(fields)])


def gradio_edit(request: GenerationRequest, files: EditFiles, page_url: str = DEFAULT_PAGE_URL,
                login: bool = False) -> str:
    """``gradio_client`` calling this page's ``/edit`` with the same settings and files."""
    values = for_edit(request).parameters()  # moderation: a generation setting /edit leaves out
    arguments = {name: values[name] for name in edit_arguments() if values.get(name) is not None}
    if files.input_fidelity:
        arguments["input_fidelity"] = files.input_fidelity
    opened = [f"    images=[{', '.join(f'handle_file({n!r})' for n in files.images)}],"]
    opened += [f"    {part}=handle_file({name!r})," for part, name in (("mask", files.mask), ("markup", files.markup))
               if name]
    auth = ', auth=("user", "password")' if login else ""
    return "\n".join([
        files_comment(files), "import os", "", "from gradio_client import Client, handle_file", "",
        "# your own key travels in a header; without one the page uses its own key (if it has one)",
        f'client = Client({_page(page_url)!r}, headers={{"{KEY_HEADER}": os.environ.get("OPENAI_API_KEY", "")}}{auth})',
        *_call("path, status, facts = client.predict", arguments, [*opened, '    api_name="/edit",']),
        "print(path, facts)",
    ])


def edit_snippets(request: GenerationRequest, files: EditFiles, base_url: str = DEFAULT_BASE_URL,
                  page_url: str = DEFAULT_PAGE_URL, login: bool = False) -> Snippets:
    return Snippets(curl_edit(request, files, base_url), openai_edit(request, files, base_url),
                    gradio_edit(request, files, page_url, login))


def code_for(parameters: Mapping[str, Any] | None, *, names: Sequence[str] = (), previews: int = 0,
             base_url: str = DEFAULT_BASE_URL, page_url: str = DEFAULT_PAGE_URL, login: bool = False) -> Snippets | None:
    """The code for one image of the history: an edit's or a generation's (streamed when ``previews``)."""
    request = request_from_parameters(parameters)
    if request is None or parameters is None:
        return None
    files = edit_files(parameters, names)
    if files is not None:
        return edit_snippets(request, files, base_url, page_url, login)
    return snippets(request, base_url, page_url, login, previews)

