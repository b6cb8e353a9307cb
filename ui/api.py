"""The public HTTP/MCP endpoint ``/generate``: typed inputs, defaults that follow the model.

Its parameters and their one-line docs come from the model table (``api_docs.api_arguments``),
so a new extra setting in the table is a new API parameter with no edit here. A caller's own
key travels in the ``X-OpenAI-Api-Key`` header, never as an input: Gradio prints the inputs
of a malformed call to stderr, and a key must not be among them.
"""

from __future__ import annotations

import inspect
from typing import Any

import gradio as gr

from dalle3 import DalleError, Studio, api_docs, page, safety, status
from dalle3.discovery import Discovery
from ui.run import run_generation
from ui.sessions import forget_api_only_session

KEY_HEADER = "x-openai-api-key"


def _inputs(names: list[str]) -> dict[str, gr.components.Component]:
    """Hidden input components, one per argument; raw values reach dalle3's own validation.

    Free text, not dropdowns: a custom ``WxH`` size or an endpoint's model id must pass, and
    an enum would refuse them before dalle3 could explain.
    """
    typed: dict[str, gr.components.Component] = {
        "prompt": gr.Textbox(label="prompt"),  # no value: the one required input
        "seed": gr.Number(0, label="seed", precision=0),
    }
    return {name: typed.get(name) or gr.Textbox("", label=name) for name in names}


def wire_api(studio: Studio, discovery: Discovery, host: str, demo: gr.Blocks) -> None:
    """``/generate``: (image, status Markdown, facts JSON); errors as ``gr.Error`` with the plain message.

    An API-only caller's Gradio session is forgotten after each call (:mod:`ui.sessions`).
    """
    settings = studio.settings
    arguments = api_docs.api_arguments()

    def generate(*values: Any) -> tuple[str, str, dict[str, Any]]:
        *_, request = values
        try:
            return answer(*values)
        finally:
            forget_api_only_session(demo, request)

    def answer(*values: Any) -> tuple[str, str, dict[str, Any]]:
        *raw, request = values
        given = dict(zip(arguments, raw))
        key = (request.headers.get(KEY_HEADER) or "").strip() if request is not None else ""
        if not given.get("model"):  # the page's model: the configured one, or its successor
            listing = discovery.peek(key or settings.api_key or "") if not settings.simulated or key else None
            given["model"] = page.start_model(settings.default_model,
                                              listing.offered if listing else None)[0]
        extras = {name: given.get(name) for name in page.EXTRA_NAMES}
        identifier = safety.identifier_for(settings, host, request.session_hash if request is not None else None)
        outcome = run_generation(studio, given, extras, key or None, identifier)
        if isinstance(outcome, DalleError):
            raise gr.Error(outcome.user_message, title=outcome.title, print_exception=False)
        return str(outcome.path), status.success(outcome, bool(settings.output_dir)), status.facts(outcome)

    params = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)
              for name in arguments]
    params.append(inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request))
    generate.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    generate.__annotations__ = {**{n: str for n in arguments}, "request": gr.Request}
    generate.__doc__ = (
        "Generate one image with OpenAI's DALL·E 3 or a GPT Image model; returns it with a status text and "
        "the facts as JSON.\n\nArgs:\n" + "".join(f"    {n}: {doc}\n" for n, doc in arguments.items())
        + "\nReturns:\n    The image with its settings embedded, a Markdown status, and a JSON object: model, "
          "size, quality, style, seed, extras, revised_prompt, cost_usd, cost_exact, request_id, cached, "
          "backend, file, seconds.\n")

    with gr.Column(visible=False):
        inputs = _inputs(list(arguments))
        image = gr.Image(type="filepath", format="png", label="image")
        text = gr.Markdown(label="status")
        facts = gr.JSON(label="facts")
        trigger = gr.Button(visible=False)
    # preprocess=False: the raw values reach dalle3, which refuses a bool, NaN or 5.5 seed with a sentence
    trigger.click(generate, [inputs[n] for n in arguments], [image, text, facts], api_name="generate",
                  preprocess=False, concurrency_id="generate", concurrency_limit=settings.concurrency)
