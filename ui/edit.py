"""The "Edit an image" part of the page: references, a painted mask or markup, and what they change.

Its components sit in an accordion under the request (closed until used); "Use as reference"
buttons sit under the result and the history. When references are present the Generate button
edits them (:func:`edit_sources` is what ``wire_generate`` reads). What a model allows (edits
at all, ``n``, markup, input fidelity) comes from the model table through ``edit_rules``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import gradio as gr
from gradio.blocks import Block
from PIL import Image

from dalle3 import DalleError, Studio
from dalle3.views import studio_view, status
from dalle3.models.edit_rules import rules_for
from dalle3.edits.inputs import mask_from_painting, markup_from_layer
from dalle3.files.images import image_size
from dalle3.library import library_access
from dalle3.files.metadata import read_parameters
from dalle3.models.edit_rules import MAX_REFERENCES
from dalle3.models import resolve
from dalle3.edits.references import LONG_EDGE
from dalle3.views.session import SessionState
from ui.layout import PRIVATE, Controls
from ui.run import EditSources

MASK, MARKUP = "mask", "markup"
PAINT_COLORS: list[str | tuple[str, float]] = ["#ffffff", "#ff3b30", "#007aff", "#ffcc00"]


@dataclass(frozen=True)
class EditControls:
    """The edit part's components; ``picked`` is the history image selected last (its index)."""

    note: gr.Markdown
    accordion: gr.Accordion
    references: gr.File
    editor: gr.ImageEditor
    mode: gr.Radio
    mask_upload: gr.File
    markup_upload: gr.File
    fidelity: gr.Dropdown
    clear: gr.Button
    edit_status: gr.Markdown
    use_result: gr.Button
    use_history: gr.Button
    picked: gr.State
    grid_pick: gr.State  # the image of a batch selected last (its index)
    first: gr.State  # the reference the editor shows: a new second reference keeps the painting

    @property
    def inputs(self) -> set[gr.components.Component]:
        """What the Generate button reads from this part."""
        return {self.references, self.editor, self.mode, self.mask_upload, self.markup_upload, self.fidelity}


def _rules(model_id: Any):
    profile = resolve(model_id) if isinstance(model_id, str) else None
    return profile, rules_for(profile) if profile else None


def _model_note(model_id: Any) -> str:
    profile, rules = _rules(model_id)
    if rules is None or rules.edits:
        return ""
    return f"{status.inert(profile.id)} cannot edit images or make several at once: choose a GPT Image model to edit."


def _parent(component: gr.components.Component) -> gr.blocks.BlockContext:
    """The layout block ``component`` was placed in (every component on a page has one)."""
    assert component.parent is not None
    return component.parent


def layout_edit(c: Controls, view: studio_view.ModelView) -> EditControls:
    """The edit accordion at the end of the request column, its buttons under the results."""
    p = view.profile
    rules = rules_for(p)
    with _parent(c.generate):  # the request column, after the key and the drop box
        note = gr.Markdown(_model_note(p.id), visible=not rules.edits, elem_id="edit_note")
        with gr.Accordion("Edit an image", open=False, visible=rules.edits, elem_id="edit") as accordion:
            references = gr.File(file_count="multiple", type="filepath", file_types=["image"], height=140,
                                 label=f"Reference images (up to {MAX_REFERENCES}): drop, paste or upload",
                                 elem_id="references")
            editor = gr.ImageEditor(type="pil", format="png", sources=(), transforms=(), layers=False,
                                    brush=gr.Brush(colors=PAINT_COLORS, default_color="#ffffff"),
                                    label="The first reference: paint the area to change (or draw markup)",
                                    elem_id="editor")
            mode = gr.Radio([MASK, MARKUP], value=MASK, label="The painting is", visible=rules.markup,
                            info="mask: painted area may change · markup: strokes that show the model what to do",
                            elem_id="edit_mode")
            with gr.Row():
                mask_upload = gr.File(type="filepath", label="Or upload a mask", height=100, elem_id="mask_upload")
                markup_upload = gr.File(type="filepath", label="Or upload a markup", height=100,
                                        visible=rules.markup, elem_id="markup_upload")
            fidelity = gr.Dropdown(["", *rules.input_fidelity], value="", label="Input fidelity",
                                   visible=bool(rules.input_fidelity), elem_id="input_fidelity",
                                   info="high keeps faces and details closer to the references; costs more")
            clear = gr.Button("Clear references", size="sm", elem_id="clear_references")
            edit_status = gr.Markdown("", elem_id="edit_status")
    with _parent(c.result), gr.Row():  # the results column, under the history
        use_result = gr.Button("Use result as reference", size="sm", elem_id="use_result")
        use_history = gr.Button("Use selected history image as reference", size="sm", elem_id="use_history")
    return EditControls(note, accordion, references, editor, mode, mask_upload, markup_upload, fidelity, clear,
                        edit_status, use_result, use_history, gr.State(None), gr.State(None), gr.State(None))


def _painted(value: Any) -> Image.Image | None:
    """The editor's strokes as one RGBA layer, or None when nothing is painted."""
    layers = [layer for layer in (value or {}).get("layers") or [] if isinstance(layer, Image.Image)]
    if not layers:
        return None
    merged = Image.new("RGBA", layers[0].size, (0, 0, 0, 0))
    for layer in layers:
        merged.alpha_composite(layer.convert("RGBA").resize(merged.size))
    return merged if cast("tuple[int, int]", merged.getchannel("A").getextrema())[1] > 0 else None


def edit_sources(e: EditControls, data: dict) -> EditSources | None:
    """What Generate sends as an edit, or None for an ordinary generation (no references, nothing painted)."""
    images = tuple(Path(p) for p in data[e.references] or [])
    painted = _painted(data[e.editor]) if images else None
    mask = Path(data[e.mask_upload]) if data[e.mask_upload] else None
    markup = Path(data[e.markup_upload]) if data[e.markup_upload] else None
    if painted is not None and mask is None and markup is None:
        if data[e.mode] == MARKUP:
            markup = markup_from_layer(painted)  # type: ignore[assignment]
        else:
            mask = mask_from_painting(painted)  # type: ignore[assignment]
    sources = EditSources(images, mask, markup, data[e.fidelity] or None)
    return sources if sources else None


def _count(n: Any) -> int:
    """The slider's images per click as a whole number (the price follows what it shows; validation decides)."""
    return int(n) if isinstance(n, (int, float)) and not isinstance(n, bool) and n >= 1 else 1


def _paths(value: Any) -> list[str]:
    """File paths from a File's value, processed (strings) or raw (Gradio's file objects)."""
    items = value if isinstance(value, list) else [value] if value else []
    paths = [i.get("path") if isinstance(i, dict) else i for i in items]
    return [p for p in paths if isinstance(p, str)]


def _uploaded_size(path: str) -> tuple[int, int] | None:
    """A reference's size as it will be sent (long edge at most 2048), from its header only."""
    try:
        w, h = image_size(path)
    except DalleError:
        return None
    scale = min(1.0, LONG_EDGE / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def with_reference(paths: list[str] | None, new: str | None) -> list[str]:
    """The references with ``new`` added at the end (once; at most 16)."""
    current = list(paths or [])
    if new and new not in current:
        current.append(new)
    return current[:MAX_REFERENCES]


def wire_edit(c: Controls, e: EditControls, studio: Studio, host: str = "127.0.0.1") -> None:
    """References in and out, the editor on the first, the model's edit rules, the click's cost, restore.

    Restoring an edit's references follows the library's privacy rule (``library_access``):
    where the library may be shown the whole outputs folder is searched; elsewhere only the
    images this browser session made (its history) or added (its references), so no visitor
    finds another's image, or learns that a hash is among them.
    """
    whole_folder = library_access(studio.settings, host).enabled

    def on_model(model_id: Any, n: Any) -> dict:
        profile, rules = _rules(model_id)
        if rules is None:
            return {e.note: gr.update()}
        top = rules.max_n
        return {c.n: gr.update(maximum=max(2, top), visible=top > 1, value=min(_count(n), top)),
                e.note: gr.update(value=_model_note(profile.id), visible=not rules.edits),
                e.accordion: gr.update(visible=rules.edits), e.mode: gr.update(visible=rules.markup, value=MASK),
                e.markup_upload: gr.update(visible=rules.markup),
                e.fidelity: gr.update(choices=["", *rules.input_fidelity], value="",
                                      visible=bool(rules.input_fidelity))}

    c.model.change(on_model, [c.model, c.n], [c.n, e.note, e.accordion, e.mode, e.markup_upload, e.fidelity],
                   show_progress="hidden", **PRIVATE)

    cost_reads: set[Block] = {c.model, c.quality, c.size, c.session, c.n, e.references, e.fidelity, c.cost}

    def click_cost(data: dict) -> str:
        sizes = [s for s in (_uploaded_size(p) for p in _paths(data[e.references])) if s]
        return studio_view.cost_text(data[c.model], data[c.quality], data[c.size], data[c.session], n=_count(data[c.n]),
                              references=sizes, fidelity=data[e.fidelity] or None)

    def on_cost_change(data: dict) -> dict:
        """The request side set the one-image line: make it the click's (never loops: same text, no update)."""
        text = click_cost(data)
        return {c.cost: gr.update() if text == data[c.cost] else text}

    # preprocess=False, as wire_models: a quality from before a model switch must not be refused
    for trigger in (c.n.change, e.references.change, e.fidelity.change):
        trigger(lambda data: {c.cost: click_cost(data)}, cost_reads, [c.cost], show_progress="hidden",
                preprocess=False, **PRIVATE)
    c.cost.change(on_cost_change, cost_reads, [c.cost], show_progress="hidden", preprocess=False, **PRIVATE)

    def on_references(paths: list[str] | None, shown: str | None) -> dict:
        first = paths[0] if paths else None
        if first == shown:
            return {e.first: first}
        return {e.first: first, e.editor: {"background": first, "layers": [], "composite": first} if first else None}

    e.references.change(on_references, [e.references, e.first], [e.editor, e.first], show_progress="hidden",
                        **PRIVATE)
    e.clear.click(lambda: {e.references: None, e.mask_upload: None, e.markup_upload: None, e.edit_status: ""},
                  None, [e.references, e.mask_upload, e.markup_upload, e.edit_status], **PRIVATE)

    def add(paths: list[str] | None, new: str | None, what: str) -> dict:
        if not new:
            return {e.edit_status: f"No {what} to use yet.", e.accordion: gr.update(open=True)}
        refs = with_reference(paths, new)
        return {e.references: refs, e.accordion: gr.update(open=True),
                e.edit_status: f"{len(refs)} reference{'s' if len(refs) != 1 else ''}: Generate now edits."}

    targets = [e.references, e.accordion, e.edit_status]

    def on_use_result(paths: list[str] | None, result: str | None, grid: list | None, picked: Any) -> dict:
        shown = [item[0] if isinstance(item, (list, tuple)) else item for item in grid or []]
        chosen = shown[picked] if isinstance(picked, int) and picked < len(shown) else result
        return add(paths, chosen, "result")

    def on_grid(evt: gr.SelectData) -> int:
        return evt.index

    c.grid.select(on_grid, None, e.grid_pick, **PRIVATE)
    e.use_result.click(on_use_result, [e.references, c.result, c.grid, e.grid_pick], targets, **PRIVATE)

    def on_use_history(paths: list[str] | None, state: SessionState, picked: Any) -> dict:
        entry = state.history[picked] if isinstance(picked, int) and picked < len(state.history) else None
        return add(paths, entry.path if entry else None, "selected history image (click one first)")

    e.use_history.click(on_use_history, [e.references, c.session, e.picked], targets, **PRIVATE)

    def on_history(state: SessionState, evt: gr.SelectData) -> dict:
        entry = state.history[evt.index] if evt.index < len(state.history) else None
        restored = studio_view.restore(entry.parameters) if entry else None
        return {e.picked: evt.index, c.n: restored.n if restored else gr.update(),
                c.result: gr.update(visible=True), c.grid: gr.update(visible=False)}

    c.history.select(on_history, [c.session], [e.picked, c.n, c.result, c.grid], **PRIVATE)

    def on_drop(path: str | None, state: SessionState | None, paths: Any) -> dict:
        """An edited image brings its references back where they may be searched for and are still kept."""
        try:
            parameters = read_parameters(path) if path and image_size(path) else None
        except DalleError:
            parameters = None
        restored = studio_view.restore(parameters)
        if restored is None:
            return {e.edit_status: gr.update()}
        updates: dict = {c.n: restored.n}
        if restored.references:
            own = [Path(entry.path) for entry in (state.history if isinstance(state, SessionState) else ())]
            found = studio.find_references(parameters, None if whole_folder else
                                           [*own, *(Path(p) for p in _paths(paths))])
            updates.update({e.references: [str(p) for p in found.found] or None, e.accordion: gr.update(open=True),
                            e.edit_status: status.inert(found.message())})
        return updates

    c.upload.upload(on_drop, [c.upload, c.session, e.references], [c.n, e.references, e.accordion, e.edit_status],
                    **PRIVATE)
