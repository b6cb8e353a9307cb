"""The components of the page and where they sit; no events, no logic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import gradio as gr

from dalle3.views import studio_view
from dalle3.views.glance import options_summary

from dalle3.models import COMPRESSION_DEFAULT, COMPRESSION_RANGE
from dalle3.params import SEED_MAX
from dalle3.views.session import SEED_CONTROL_DEFAULT, SEED_CONTROLS, SessionState
from dalle3.settings import Settings
from dalle3.version import __version__

PLACEHOLDER = "e.g. a watercolor painting of a red fox curled up in fresh snow at dawn, soft light"
EXAMPLE_PROMPTS = (  # a click puts one in the prompt: a first visit need not invent one
    "A watercolor painting of a red fox curled up in fresh snow at dawn, soft light",
    "A cozy reading nook in a treehouse, afternoon sun through the leaves, isometric illustration",
    "A vintage travel poster of a lighthouse on a rocky coast, bold flat colours",
    "A macro photo of a dew-covered spider web at sunrise, shallow depth of field")


# Page-only events: not callable through gradio_client, not an API or MCP tool.
PRIVATE: dict[str, Any] = {"api_visibility": "private"}

@dataclass(frozen=True)
class Controls:
    """Every component an event reads or writes, by name; extras keyed by their API name."""

    session: gr.State
    own_key: gr.State
    successor: gr.State
    model: gr.Dropdown
    model_note: gr.Markdown
    prompt: gr.Textbox
    char_count: gr.Markdown
    seed: gr.Number
    dice: gr.Button
    seed_control: gr.Radio
    quality: gr.Radio
    style: gr.Radio
    size: gr.Dropdown
    extras: dict[str, gr.Dropdown]
    output_format: gr.Radio
    compression: gr.Slider
    previews: gr.Radio
    n: gr.Slider
    cost: gr.Markdown
    size_fix: gr.Button  # "Use 1920x1088, the nearest allowed size" while the size is refused
    generate: gr.Button
    stop: gr.Button
    options: gr.Accordion  # its label is the options' one-line summary
    request_column: gr.Column
    result_column: gr.Column
    actions: gr.Row  # under the result: what to do with it
    api_key: gr.Textbox
    upload: gr.File
    result: gr.Image
    grid: gr.Gallery
    status: gr.Markdown
    switch: gr.Button
    history: gr.Gallery
    code: dict[str, gr.Code]  # the newest result's request as code, by snippet name

    @property
    def model_dependent(self) -> list[gr.components.Component]:
        """What a model's view sets: choices, values, visibility, note, cost."""
        return [self.quality, self.style, self.size, *self.extras.values(), self.output_format, self.compression,
                self.previews, self.model_note, self.cost, self.size_fix]


def header(settings: Settings) -> None:
    """The title and the banner saying where images come from (short: the first screen is the prompt's)."""
    gr.HTML('<a class="skip-link" href="#prompt">Skip to the prompt</a>', elem_id="skip")
    gr.Markdown(f"## dalle3 studio <small>v{__version__} · OpenAI's DALL·E 3 and GPT Image models, by hand</small>",
                elem_id="title")
    gr.Markdown(studio_view.banner_text(settings), elem_id="banner")


def layout(settings: Settings, view: studio_view.ModelView) -> Controls:
    """The Studio's components for a model shown as ``view``; call inside ``gr.Blocks`` (or a tab).

    The main path is one screen: prompt, cost, Generate (and Stop) on the left, the result and its
    status on the right (under them on a phone); the options fold under the button, labelled with
    their summary; the key and the restore drop zone sit below the whole tab.
    """
    with gr.Row(equal_height=False, elem_id="studio_main"):
        with gr.Column(scale=5, min_width=320, elem_id="request_column") as request_column:
            parts = _main(view)
            with gr.Accordion(options_summary(view.profile.id, view.quality, view.size, style=view.style),
                              open=False, elem_id="options") as options:
                parts.update(_request(view))
            gr.Examples([[text] for text in EXAMPLE_PROMPTS], [parts["prompt"]], label="Try a prompt",
                        elem_id="examples", examples_per_page=len(EXAMPLE_PROMPTS), api_visibility="private")
        with gr.Column(scale=6, min_width=320, elem_id="result_column") as result_column:
            parts.update(_results())
    with gr.Row(equal_height=False, elem_id="studio_more"):
        parts.update(_key_and_drop(settings))
    return Controls(session=gr.State(SessionState()), own_key=gr.State(""), successor=gr.State(None),
                    options=options, request_column=request_column, result_column=result_column, **parts)


def _main(view: studio_view.ModelView) -> dict[str, Any]:
    """The prompt, its counter, the cost and the buttons: Tab goes from the prompt straight to Generate."""
    p = view.profile
    parts: dict[str, Any] = dict(
        prompt=gr.Textbox(label="Prompt", lines=3, max_lines=20, placeholder=PLACEHOLDER, elem_id="prompt",
                          info="Ctrl/Cmd+Enter generates"))
    with gr.Row(elem_id="go_row"):
        parts.update(generate=gr.Button("Generate", variant="primary", elem_id="generate", scale=3),
                     stop=gr.Button("Stop", variant="stop", elem_id="stop", visible=False, scale=1, min_width=90))
    with gr.Row(elem_id="count_row"):
        parts.update(cost=gr.Markdown(view.cost, elem_id="cost"),
                     char_count=gr.Markdown(f"0 / {p.prompt_limit}", elem_id="char_count"))
    # the nearest allowed size, offered in one click while the typed one is refused (never applied unasked)
    parts.update(size_fix=gr.Button(visible=False, size="sm", elem_id="size-fix"))
    return parts


def _request(view: studio_view.ModelView) -> dict[str, Any]:
    """Everything else that decides the image, folded under the button."""
    p, out = view.profile, view.output
    parts: dict[str, Any] = dict(
        model=gr.Dropdown(studio_view.model_choices(), value=p.id, label="Model", elem_id="model"),
        model_note=gr.Markdown(view.note, elem_id="model_note"))
    with gr.Row():
        # No minimum/maximum/precision: dalle3 checks range and whole numbers and says so.
        parts.update(
            seed=gr.Number(0, label="Seed", info=f"0 to {SEED_MAX}; not sent to OpenAI (recorded, keys the cache)",
                           elem_id="seed", scale=3),
            dice=gr.Button("Random seed", elem_id="dice", scale=0, min_width=120),
            seed_control=gr.Radio(list(SEED_CONTROLS), value=SEED_CONTROL_DEFAULT, elem_id="seed_control",
                                  label="Control after generate", scale=5))
    parts.update(
        quality=gr.Radio(list(p.qualities), value=view.quality, label="Quality", info=view.quality_info,
                         elem_id="quality"),
        style=gr.Radio(list(studio_view.STYLE_HINTS), value=view.style, label="Style", info=studio_view.style_info(),
                       elem_id="style", visible=view.style_visible),
        size=gr.Dropdown(list(p.sizes), value=view.size, label="Size", allow_custom_value=True, elem_id="size"),
        extras={name: gr.Dropdown(list(extra.choices), value=extra.value, label=name.capitalize(),
                                  info=studio_view.EXTRA_HINTS.get(name), visible=extra.visible, elem_id=name)
                for name, extra in view.extras.items()})
    with gr.Row():
        parts.update(
            output_format=gr.Radio(list(out.formats) or ["png"], value=out.output_format or "png",
                                   label="Output format", visible=out.visible, elem_id="output_format",
                                   info="png keeps every detail; webp and jpeg are smaller"),
            compression=gr.Slider(*COMPRESSION_RANGE, step=1, value=out.compression or COMPRESSION_DEFAULT,
                                  label="Compression", visible=out.compression_visible,
                                  elem_id="output_compression", info="100: best quality, largest file"))
    parts.update(
        previews=gr.Radio(list(studio_view.PREVIEW_CHOICES), value=studio_view.PREVIEW_DEFAULT, label="Previews",
                          info=studio_view.PREVIEWS_INFO, visible=view.previews_visible, elem_id="previews"),
        n=gr.Slider(1, max(2, p.max_images), step=1, value=1, label="Images per click", elem_id="n",
                    visible=p.max_images > 1, info="several at once never show previews"))
    return parts


def _key_and_drop(settings: Settings) -> dict[str, Any]:
    """Out of the main path: the visitor's own key (open when the server has none) and the restore drop zone."""
    with gr.Accordion("Your OpenAI API key", open=not settings.api_key, elem_id="key_part"):
        api_key = gr.Textbox(
            label="Your OpenAI API key (this browser session only)", type="password",
            placeholder="sk-...", elem_id="api_key",
            html_attributes=gr.InputHTMLAttributes(  # no password manager, no spellcheck service
                autocomplete="off", spellcheck=False, autocorrect="off", autocapitalize="off"),
            info="Used for your requests only; never saved, logged or shared. "
                 + ("Server key configured." if settings.api_key else ""))
    # A file, not gr.Image: Gradio would decode (and convert) every pixel before we read
    # the settings, so a small PNG of 13000x13000 would cost a gigabyte.
    with gr.Accordion("Restore settings from an image made here", open=False, elem_id="restore_part"):
        upload = gr.File(label="Drop an image made here to restore its settings", type="filepath",
                         height=150, elem_id="upload")
    return dict(api_key=api_key, upload=upload)


RESULT_HEIGHT = 460  # with the title, the banner and the status, one 800-pixel-high screen


def _results() -> dict[str, Any]:
    parts: dict[str, Any] = dict(
        result=gr.Image(label="Result", show_label=False, type="filepath", format="png", interactive=False,
                        height=RESULT_HEIGHT, buttons=["download", "fullscreen"], elem_id="result"),
        grid=gr.Gallery(label="This click", show_label=False, columns=2, rows=2, height=RESULT_HEIGHT,
                        object_fit="contain", visible=False, format="png", elem_id="grid"),
        status=gr.Markdown("Ready.", elem_id="status"),
        switch=gr.Button(visible=False, elem_id="switch_model", variant="secondary"))
    with gr.Row(elem_id="result_actions") as actions:
        pass  # the edit part puts its buttons here
    parts.update(actions=actions,
                 history=gr.Gallery(label="This session", columns=4, height=260, allow_preview=False,
                                    fit_columns=False, elem_id="history"),
                 code=code_boxes("code"))
    return parts


CodeLanguage = Literal["shell", "python"]
CODE_BOXES: tuple[tuple[str, CodeLanguage, str], ...] = (
    ("curl", "shell", "curl"), ("python", "python", "Python (openai SDK)"),
    ("gradio", "python", "Python (gradio_client, this page)"))


def code_boxes(prefix: str) -> dict[str, gr.Code]:
    """Three read-only code boxes (curl, openai SDK, gradio_client) in a closed accordion."""
    with gr.Accordion("The request as code", open=False):
        return {name: gr.Code(language=language, label=label, interactive=False, wrap_lines=True,
                              elem_id=f"{prefix}_{name}")
                for name, language, label in CODE_BOXES}
