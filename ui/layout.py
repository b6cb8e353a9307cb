"""The components of the page and where they sit; no events, no logic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import gradio as gr

from dalle3.views import studio_view

from dalle3.models import COMPRESSION_DEFAULT, COMPRESSION_RANGE
from dalle3.params import SEED_MAX
from dalle3.views.session import SEED_CONTROL_DEFAULT, SEED_CONTROLS, SessionState
from dalle3.settings import Settings
from dalle3.version import __version__

PLACEHOLDER = "A watercolor painting of a red fox curled up in fresh snow at dawn, soft light"


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
    """The title and the banner saying where images come from."""
    gr.Markdown(f"# dalle3 studio\nDrive OpenAI's DALL·E 3 — and today's GPT Image models — by hand. "
                f"<small>v{__version__}</small>")
    gr.Markdown(studio_view.banner_text(settings), elem_id="banner")


def layout(settings: Settings, view: studio_view.ModelView) -> Controls:
    """The Studio's components for a model shown as ``view``; call inside ``gr.Blocks`` (or a tab)."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            parts = {**_request(view), **_key_and_drop(settings)}
        with gr.Column(scale=6):
            parts.update(_results())
    return Controls(session=gr.State(SessionState()), own_key=gr.State(""), successor=gr.State(None), **parts)


def _request(view: studio_view.ModelView) -> dict[str, Any]:
    """Everything that decides the image, then its cost and the button."""
    p, out = view.profile, view.output
    parts: dict[str, Any] = dict(
        model=gr.Dropdown(studio_view.model_choices(), value=p.id, label="Model", elem_id="model"),
        model_note=gr.Markdown(view.note, elem_id="model_note"),
        prompt=gr.Textbox(label="Prompt", lines=5, max_lines=20, placeholder=PLACEHOLDER, elem_id="prompt",
                          info="Ctrl/Cmd+Enter generates"),
        char_count=gr.Markdown(f"0 / {p.prompt_limit}", elem_id="char_count"))
    with gr.Row():
        # No minimum/maximum/precision: dalle3 checks range and whole numbers and says so.
        parts.update(
            seed=gr.Number(0, label="Seed", info=f"0 to {SEED_MAX}", elem_id="seed", scale=3),
            dice=gr.Button("🎲 Random", elem_id="dice", scale=0, min_width=110),
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
                    visible=p.max_images > 1, info="several at once never show previews"),
        cost=gr.Markdown(view.cost, elem_id="cost"),
        size_fix=gr.Button(visible=False, size="sm", elem_id="size-fix"),
        generate=gr.Button("Generate", variant="primary", elem_id="generate"))
    return parts


def _key_and_drop(settings: Settings) -> dict[str, Any]:
    with gr.Accordion("Your OpenAI API key", open=not settings.api_key):
        api_key = gr.Textbox(
            label="Your OpenAI API key (this browser session only)", type="password",
            placeholder="sk-...", elem_id="api_key",
            html_attributes=gr.InputHTMLAttributes(  # no password manager, no spellcheck service
                autocomplete="off", spellcheck=False, autocorrect="off", autocapitalize="off"),
            info="Used for your requests only; never saved, logged or shared. "
                 + ("Server key configured." if settings.api_key else ""))
    # A file, not gr.Image: Gradio would decode (and convert) every pixel before we read
    # the settings, so a small PNG of 13000x13000 would cost a gigabyte.
    upload = gr.File(label="Drop an image made here to restore its settings", type="filepath",
                     height=150, elem_id="upload")
    return dict(api_key=api_key, upload=upload)


def _results() -> dict[str, Any]:
    return dict(
        result=gr.Image(label="Result", type="filepath", format="png", interactive=False,
                        buttons=["download", "fullscreen"], elem_id="result"),
        grid=gr.Gallery(label="This click", columns=2, height="auto", visible=False, format="png",
                        elem_id="grid"),
        status=gr.Markdown("Ready.", elem_id="status"),
        switch=gr.Button(visible=False, elem_id="switch_model", variant="secondary"),
        history=gr.Gallery(label="This session", columns=4, height=260, allow_preview=False,
                           fit_columns=False, elem_id="history"),
        code=code_boxes("code"))


CodeLanguage = Literal["shell", "python"]
CODE_BOXES: tuple[tuple[str, CodeLanguage, str], ...] = (
    ("curl", "shell", "curl"), ("python", "python", "Python (openai SDK)"),
    ("gradio", "python", "Python (gradio_client, this page)"))


def code_boxes(prefix: str) -> dict[str, gr.Code]:
    """Three read-only code boxes (curl, openai SDK, gradio_client) in a closed accordion."""
    with gr.Accordion("The request as code", open=False):
        return {name: gr.Code(language=language, label=label, interactive=False, elem_id=f"{prefix}_{name}")
                for name, language, label in CODE_BOXES}
