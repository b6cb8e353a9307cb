"""The public HTTP/MCP endpoints ``/generate`` and ``/edit``: typed inputs, defaults that follow the model.

Their parameters and their one-line docs come from the model table (``api_docs.api_arguments``,
``api_docs.edit_arguments``), so a new extra setting in the table is a new API parameter with no
edit here. A caller's own key travels in the ``X-OpenAI-Api-Key`` header, never as an input:
Gradio prints the inputs of a malformed call to stderr, and a key must not be among them.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable

import gradio as gr
from gradio.utils import get_upload_folder

from dalle3 import DalleError, Studio, safety
from dalle3.views import api_docs, studio_view, status
from dalle3.models import lifecycle
from dalle3.http.discovery import Discovery
from dalle3.errors import ValidationError
from dalle3.edits.references import from_data_url
from ui.file_answer import image_answer
from dalle3.models import EXTRA_NAMES
from dalle3.views.api_docs import KEY_HEADER
from dalle3.models.edit_rules import MAX_REFERENCES
from dalle3.run import EditSources, Source, run_generation
from ui.sessions import forget_api_only_session

FILE_ARGUMENTS = ("images", "mask", "markup")
RETURNS = ("\nReturns:\n    The image (the first of a batch) with its settings embedded, a Markdown status, and a JSON "
           "object: model, size, quality, style, seed, extras, revised_prompt, cost_usd, cost_exact, request_id, "
           "cached, backend, file, seconds, n, files (every image of the batch){}.\n")


def _inputs(names: list[str]) -> dict[str, gr.components.Component]:
    """Hidden input components, one per argument; raw values reach dalle3's own validation.

    Free text, not dropdowns: a custom ``WxH`` size or an endpoint's model id must pass, and
    an enum would refuse them before dalle3 could explain. Images are files, so
    ``gradio_client.handle_file`` uploads them and MCP clients may send data URLs.
    """
    typed: dict[str, gr.components.Component] = {
        "prompt": gr.Textbox(label="prompt"),  # no value: the one required input
        "seed": gr.Number(0, label="seed", precision=0),
        "images": gr.File(file_count="multiple", label="images"),
        "mask": gr.File(None, label="mask"),
        "markup": gr.File(None, label="markup"),
    }
    return {name: typed.get(name) or gr.Textbox("", label=name) for name in names}


def _source(item: Any, what: str) -> Source:
    """A file Gradio received (in its upload folder), or a data URL's bytes; never a path a caller names."""
    if isinstance(item, str):
        return from_data_url(item, what)
    path = item.get("path") if isinstance(item, dict) else None
    if isinstance(path, str) and path.startswith("data:"):
        return from_data_url(path, what)
    if isinstance(path, str):
        resolved, uploads = Path(path).resolve(), Path(get_upload_folder()).resolve()
        if resolved.is_relative_to(uploads) and resolved.is_file():
            return resolved
    raise ValidationError(f"{what} must be an uploaded file or a data:image/...;base64 URL.")


def edit_sources_from_arguments(given: dict[str, Any]) -> EditSources:
    """The ``/edit`` caller's images, mask and markup; raises ValidationError with a plain message."""
    images = given.get("images") or []
    images = images if isinstance(images, list) else [images]
    if len(images) > MAX_REFERENCES:
        raise ValidationError(f"{len(images)} images given; an edit takes at most {MAX_REFERENCES}.")
    optional = {name: _source(given[name], f"The {name}") if given.get(name) else None for name in ("mask", "markup")}
    return EditSources(tuple(_source(item, f"Image {i + 1}") for i, item in enumerate(images)),
                       optional["mask"], optional["markup"], given.get("input_fidelity") or None)


def _endpoint(arguments: dict[str, str], answer: Callable[..., Any], summary: str, returns: str) -> Callable:
    """``answer`` with a signature and docstring naming every argument (the API page and MCP read them)."""

    def endpoint(*values: Any) -> Any:
        return answer(*values)

    # a default of None makes a file input optional for gradio_client (Gradio reads the signature);
    # the arguments after it then need a default too
    optional = list(arguments).index("mask") if "mask" in arguments else len(arguments)
    params = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str,
                                **({"default": None if name in FILE_ARGUMENTS else ""} if i >= optional else {}))
              for i, name in enumerate(arguments)]
    params.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request,
                                    **({"default": None} if optional < len(arguments) else {})))
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__annotations__ = {**{n: str for n in arguments}, "request": gr.Request}
    endpoint.__doc__ = (summary + "\n\nArgs:\n" + "".join(f"    {n}: {doc}\n" for n, doc in arguments.items())
                        + returns)
    return endpoint


def wire_api(studio: Studio, discovery: Discovery, host: str, demo: gr.Blocks) -> None:
    """``/generate`` and ``/edit``: (image, status Markdown, facts JSON); errors as ``gr.Error``.

    An API-only caller's Gradio session is forgotten after each call (:mod:`ui.sessions`).
    """
    settings = studio.settings

    def answer(arguments: dict[str, str], *values: Any) -> tuple[dict[str, Any], str, dict[str, Any]]:
        *raw, request = values
        try:
            given = dict(zip(arguments, raw))
            key = (request.headers.get(KEY_HEADER) or "").strip() if request is not None else ""
            if not given.get("model"):  # the page's model: the configured one, or its successor
                listing = discovery.peek(key or settings.api_key or "") if not settings.simulated or key else None
                given["model"] = studio_view.start_model(settings.default_model, listing.offered if listing else None,
                                                  by_calendar=lifecycle.calendar_decides(settings))[0]
            if given.get("n") in (None, ""):
                given["n"] = 1
            extras = {name: given.get(name) for name in EXTRA_NAMES}
            identifier = safety.identifier_for(settings, host, request.session_hash if request is not None else None)
            edit = edit_sources_from_arguments(given) if "images" in arguments else None
            if edit is not None and not edit.images:
                raise ValidationError("Add an image to edit: /edit needs 1 to 16 images.")
            outcome = run_generation(studio, given, extras, key or None, identifier, edit)
            if isinstance(outcome, DalleError):
                raise outcome
            output = image_outputs["edit" if "images" in arguments else "generate"]
            return (image_answer(outcome.path, request, output), status.success(outcome, bool(settings.output_dir)),
                    status.facts(outcome))
        except DalleError as exc:
            raise gr.Error(exc.user_message, title=exc.title, print_exception=False) from None
        finally:
            forget_api_only_session(demo, request)

    generate_args, edit_args = api_docs.api_arguments(), api_docs.edit_arguments()
    generate = _endpoint(generate_args, lambda *v: answer(generate_args, *v),
                         "Generate one image with OpenAI's DALL·E 3 or a GPT Image model (or n at once); returns it "
                         "with a status text and the facts as JSON.", RETURNS.format(""))
    generate.__name__ = "generate"
    edit = _endpoint(edit_args, lambda *v: answer(edit_args, *v),
                     "Edit or vary reference images with a GPT Image model (optionally with a mask or markup on "
                     "the first); returns the result with a status text and the facts as JSON.",
                     RETURNS.format(", references (content hashes), mask, markup, input_fidelity"))
    edit.__name__ = "edit"

    image_outputs: dict[str, gr.components.Component] = {}
    for name, fn, arguments in (("generate", generate, generate_args), ("edit", edit, edit_args)):
        with gr.Column(visible=False):
            inputs = _inputs(list(arguments))
            outputs = [gr.Image(type="filepath", format="png", label="image"), gr.Markdown(label="status"),
                       gr.JSON(label="facts")]
            trigger = gr.Button(visible=False)
        image_outputs[name] = outputs[0]
        # preprocess=False: the raw values reach dalle3, which refuses a bool, NaN or 5.5 seed with a sentence;
        # postprocess=False: the image is answered as ui.file_answer builds it (a URL, no server path)
        trigger.click(fn, [inputs[n] for n in arguments], outputs, api_name=name, preprocess=False,
                      postprocess=False, concurrency_id="generate", concurrency_limit=settings.concurrency)
