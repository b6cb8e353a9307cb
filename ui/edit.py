"""The "Edit an image" part of the page: references, a painted mask or markup, and what they change.

Its components sit in an accordion under the request (closed until used); "Use as reference"
buttons sit under the result and the history. When references are present the Generate button
edits them (:func:`edit_sources_from_controls` is what ``wire_generate`` reads). What a model
allows (edits at all, ``n``, markup, input fidelity) comes from the model table through ``edit_rules``.
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
from dalle3.views.glance import editing_model, size_for_aspect
from dalle3.edits.inputs import mask_from_painting, markup_from_layer
from dalle3.files.images import checked_image_size
from dalle3.files.metadata import read_parameters
from dalle3.models import resolve
from dalle3.edits.references import LONG_EDGE
from dalle3.results import SIMULATOR
from dalle3.views.session import SessionState
from ui.layout import Controls
from dalle3.library import library_access
from dalle3.models.edit_rules import MAX_REFERENCES
from ui.layout import PRIVATE
from dalle3.run import EditSources

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
    edit_this: gr.Button  # the result becomes *the* image being edited (replaces the references)

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
    with c.request_column:  # under the folded options
        note = gr.Markdown(_model_note(p.id), visible=not rules.edits, elem_id="edit_note")
        with gr.Accordion("Edit an image", open=False, visible=rules.edits, elem_id="edit") as accordion:
            references = gr.File(file_count="multiple", type="filepath", file_types=["image"], height=140,
                                 label=f"Reference images (up to {MAX_REFERENCES}): drop, paste or upload",
                                 elem_id="references")
            gr.Markdown("**The first reference:** paint the area to change (or draw markup)", elem_id="editor_label")
            editor = gr.ImageEditor(type="pil", format="png", sources=(), transforms=(), layers=False,
                                    brush=gr.Brush(colors=PAINT_COLORS, default_color="#ffffff"),
                                    label="The first reference: paint the area to change (or draw markup)",
                                    show_label=False, elem_id="editor")  # the toolbar would cover the label
            mode = gr.Radio([MASK, MARKUP], value=MASK, label="The painting is", visible=rules.markup,
                            info="mask: painted area may change · markup: strokes that show the model what to do",
                            elem_id="edit_mode")
            with gr.Row():
                mask_upload = gr.File(type="filepath", label="Or upload a mask", height=150, elem_id="mask_upload")
                markup_upload = gr.File(type="filepath", label="Or upload a markup", height=150,
                                        visible=rules.markup, elem_id="markup_upload")
            fidelity = gr.Dropdown(["", *rules.input_fidelity], value="", label="Input fidelity",
                                   visible=bool(rules.input_fidelity), elem_id="input_fidelity",
                                   info="high keeps faces and details closer to the references; costs more")
            clear = gr.Button("Clear references", size="sm", elem_id="clear_references")
            edit_status = gr.Markdown("", elem_id="edit_status")
    with c.actions:  # under the result and its status
        edit_this = gr.Button("Edit this", size="sm", elem_id="edit_this")
        use_result = gr.Button("Add as a reference", size="sm", elem_id="use_result")
        use_history = gr.Button("Add the selected history image", size="sm", elem_id="use_history")
    return EditControls(note, accordion, references, editor, mode, mask_upload, markup_upload, fidelity, clear,
                        edit_status, use_result, use_history, gr.State(None), gr.State(None), gr.State(None),
                        edit_this)


def _painted(value: Any) -> Image.Image | None:
    """The editor's strokes as one RGBA layer, or None when nothing is painted."""
    layers = [layer for layer in (value or {}).get("layers") or [] if isinstance(layer, Image.Image)]
    if not layers:
        return None
    merged = Image.new("RGBA", layers[0].size, (0, 0, 0, 0))
    for layer in layers:
        merged.alpha_composite(layer.convert("RGBA").resize(merged.size))
    return merged if cast("tuple[int, int]", merged.getchannel("A").getextrema())[1] > 0 else None


def edit_sources_from_controls(e: EditControls, data: dict) -> EditSources | None:
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


def _count(n: Any, limit: int) -> int:
    """The slider's images per click as a whole number, at most the model's ``limit`` (as a model change sets it;
    the price follows what it shows, validation decides)."""
    return min(int(n) if isinstance(n, (int, float)) and not isinstance(n, bool) and n >= 1 else 1, limit)


def _paths(value: Any) -> list[str]:
    """File paths from a File's value, processed (strings) or raw (Gradio's file objects)."""
    items = value if isinstance(value, list) else [value] if value else []
    paths = [i.get("path") if isinstance(i, dict) else i for i in items]
    return [p for p in paths if isinstance(p, str)]


def _uploaded_size(path: str) -> tuple[int, int] | None:
    """A reference's size as it will be sent (long edge at most 2048), from its header only."""
    try:
        w, h = checked_image_size(path)
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


def cleared(e: EditControls, references: Any, restored: studio_view.Restored | None) -> dict:
    """Restoring a plain generation's settings clears the references: left in place, they would turn
    the next Generate into an edit of images the restored settings never saw."""
    if not references or restored is None or restored.references:
        return {}
    return {e.references: None, e.edit_status: "References cleared: the restored image was not an edit."}


@dataclass(frozen=True)
class Pricing:
    """The cost line's one owner on the page. Every handler that writes ``c.cost`` also reads
    :attr:`reads` and writes :meth:`line` (or a view made with :meth:`click`), so the line always
    prices the whole click as the visitor's backend charges it: no writer shows a one-image price
    that another event corrects a round trip later."""

    c: Controls
    e: EditControls
    studio: Studio

    @property
    def reads(self) -> set[Block]:
        """What a click adds to the model's price is read from: ``n``, the references, fidelity, the own key."""
        return {self.c.n, self.c.own_key, self.e.references, self.e.fidelity}

    def click(self, data: dict, model_id: Any, *, n: Any = None, references: Any = None) -> studio_view.Click:
        """What a click on ``model_id`` adds, from ``data`` unless ``n`` or ``references`` are given: ``n``
        within the model's limit and fidelity only where the model takes it (as a model change sets them)."""
        _, rules = _rules(model_id)
        fidelity = data[self.e.fidelity] or None
        refs = data[self.e.references] if references is None else references
        return studio_view.Click(
            n=_count(data[self.c.n] if n is None else n, rules.max_n if rules else 1),
            references=tuple(s for s in (_uploaded_size(p) for p in _paths(refs)) if s),
            fidelity=fidelity if rules and fidelity in rules.input_fidelity else None,
            free=self.studio.backend_for(data[self.c.own_key] or None) == SIMULATOR)

    def restored(self, data: dict, restored: studio_view.Restored, *, sets_n: bool) -> studio_view.Click:
        """The click once ``restored`` is in the controls: its ``n`` where the restore sets it, and no
        references where :func:`cleared` clears them."""
        refs: list[str] | None = [] if cleared(self.e, data[self.e.references], restored) else None
        return self.click(data, restored.request.model, n=restored.request.n if sets_n else None, references=refs)

    def line(self, data: dict, *, size: Any = None, state: SessionState | None = None) -> str:
        """The line for the controls in ``data``, with ``size`` or ``state`` where the handler changes them."""
        c = self.c
        return studio_view.cost_text(data[c.model], data[c.quality], data[c.size] if size is None else size,
                                     data[c.session] if state is None else state,
                                     click=self.click(data, data[c.model]))


def wire_edit(pricing: Pricing, host: str = "127.0.0.1") -> None:
    """References in and out, the editor on the first, the model's edit rules, the click's cost, restore.

    Restoring an edit's references follows the library's privacy rule (``library_access``):
    where the library may be shown the whole outputs folder is searched; elsewhere only the
    images this browser session made (its history) or added (its references), so no visitor
    finds another's image, or learns that a hash is among them.
    """
    c, e, studio = pricing.c, pricing.e, pricing.studio
    whole_folder = library_access(studio.settings, host).enabled

    def on_model(model_id: Any, n: Any, references: Any) -> dict:
        profile, rules = _rules(model_id)
        if rules is None:
            return {e.note: gr.update()}
        top = rules.max_n
        # references change what Generate does: never hidden while present, even on a model that cannot edit
        note = _model_note(profile.id)
        if references and not rules.edits:
            note += " Clear the references below to generate with it."
        return {c.n: gr.update(maximum=max(2, top), visible=top > 1, value=_count(n, top)),
                e.note: gr.update(value=note, visible=not rules.edits),
                e.accordion: gr.update(visible=rules.edits or bool(references)),
                e.mode: gr.update(visible=rules.markup, value=MASK),
                e.markup_upload: gr.update(visible=rules.markup),
                e.fidelity: gr.update(choices=["", *rules.input_fidelity], value="",
                                      visible=bool(rules.input_fidelity))}

    c.model.change(on_model, [c.model, c.n, e.references],
                   [c.n, e.note, e.accordion, e.mode, e.markup_upload, e.fidelity], show_progress="hidden", **PRIVATE)

    _wire_click_cost(pricing)

    for user_change in (e.references.upload, e.references.delete, e.references.clear):
        follow_references(pricing, user_change, prices=True)
    follow_references(pricing, prices=True, event=e.clear.click(
        lambda: {e.references: None, e.mask_upload: None, e.markup_upload: None, e.edit_status: ""},
        None, [e.references, e.mask_upload, e.markup_upload, e.edit_status], **PRIVATE))
    _wire_use(pricing)
    _wire_restored(pricing, studio, whole_folder=whole_folder)


def follow_references(pricing: Pricing, event: Any, *, prices: bool = False) -> None:
    """After ``event`` (a person's change of the references, or a handler that sets them): the editor
    shows the first reference, an edit's size follows its aspect; with ``prices``, the cost line
    prices the click. The restores price it themselves: they set the model and its controls in a
    second handler of the same click, which a writer running after this one's could overtake.

    Not on the references' ``change`` event: Gradio 6.31's page re-reads every control an event
    ever read or wrote whenever any event's progress changes, and a re-read file list counts as a
    change; handlers on it then ran again and again, each round making the editor download and
    upload its picture (hundreds of uploads for one edit). So every way the references are set
    names this follow-up itself: a person's upload, removal and clearing here, and the handlers
    that set them (``take_reference``, the restores, Clear references) through ``then``.
    """
    c, e = pricing.c, pricing.e

    def on_references(data: dict) -> dict:
        paths, shown = _paths(data[e.references]), data[e.first]  # raw file objects: see the event below
        first = paths[0] if paths else None
        updates: dict = {e.first: first}
        if first != shown:
            updates[e.editor] = {"background": first, "layers": [], "composite": first} if first else None
            made = _uploaded_size(first) if first else None
            size = size_for_aspect(data[c.model], *made) if made else None
            if size and size != data[c.size]:
                updates[c.size] = size
        if prices:
            updates[c.cost] = pricing.line({**data, c.size: updates.get(c.size, data[c.size])})
        return updates

    listen = event.then if hasattr(event, "then") else event  # a handler's event, or a person's (upload, ...)
    listen(on_references, {e.references, e.first, c.model, c.quality, c.size, c.session} | pricing.reads,
           [e.editor, e.first, c.size, *([c.cost] if prices else [])], show_progress="hidden", preprocess=False,
           **PRIVATE)


def _wire_click_cost(pricing: Pricing) -> None:
    """The cost line follows what the click adds: ``n``, the references, input fidelity, the own key's backend."""
    c, e = pricing.c, pricing.e

    def on_click_change(data: dict) -> dict:
        return {c.cost: pricing.line(data)}

    # preprocess=False, as wire_models: a quality from before a model switch must not be refused
    for trigger in (c.n.change, e.fidelity.change, c.own_key.change):  # the references: follow_references
        trigger(on_click_change, {c.model, c.quality, c.size, c.session} | pricing.reads, [c.cost],
                show_progress="hidden", preprocess=False, **PRIVATE)


def take_reference(pricing: Pricing, data: dict, new: str | None, *, what: str, replace: bool) -> dict:
    """``new`` as the image being edited (``replace``) or one more reference; on a model that cannot
    edit, the model switches to one that can and the status says so. ``data`` holds :func:`use_reads`;
    the updates are for :func:`use_targets`."""
    c, e = pricing.c, pricing.e
    if not new:
        return {e.edit_status: f"No {what} to use yet.", e.accordion: gr.update(open=True)}
    refs = [new] if replace else with_reference(data[e.references], new)
    words = f"{len(refs)} reference{'s' if len(refs) != 1 else ''}: Generate now edits."
    updates: dict = {e.references: refs, e.accordion: gr.update(open=True, visible=True)}
    target, note = editing_model(data[c.model])
    if note:
        from ui.wiring import view_updates  # here, not at the top: ui.wiring imports this module

        view = studio_view.model_view(target, data[c.quality], data[c.size], data[c.session],
                                      click=pricing.click(data, target, references=refs))
        updates.update({c.model: target, **view_updates(c, view)})
        words = f"{note} {words}"
    updates[e.edit_status] = words
    return updates


def use_reads(pricing: Pricing) -> set[Block]:
    """What :func:`take_reference` reads."""
    c = pricing.c
    return {c.model, c.quality, c.size, c.session} | pricing.reads


def use_targets(c: Controls, e: EditControls) -> list[Block]:
    """What :func:`take_reference` may change."""
    return [e.references, e.accordion, e.edit_status, c.model, *c.model_dependent]


def _wire_use(pricing: Pricing) -> None:
    """The buttons under the result: Edit this, Add as a reference, Add the selected history image."""
    c, e = pricing.c, pricing.e
    reads: set[Block] = use_reads(pricing) | {c.result, c.grid, e.grid_pick}
    targets = use_targets(c, e)

    def chosen_result(data: dict) -> str | None:
        shown = [item[0] if isinstance(item, (list, tuple)) else item for item in data[c.grid] or []]
        picked = data[e.grid_pick]
        return shown[picked] if isinstance(picked, int) and picked < len(shown) else data[c.result]

    def on_grid(evt: gr.SelectData) -> int:
        return evt.index

    c.grid.select(on_grid, None, e.grid_pick, **PRIVATE)
    for button, replace in ((e.edit_this, True), (e.use_result, False)):
        follow_references(pricing, prices=True, event=button.click(
            lambda data, replace=replace: take_reference(pricing, data, chosen_result(data), what="result",
                                                         replace=replace), reads, targets, **PRIVATE))

    def on_use_history(data: dict) -> dict:
        state, picked = data[c.session], data[e.picked]
        entry = state.history[picked] if isinstance(picked, int) and picked < len(state.history) else None
        return take_reference(pricing, data, entry.path if entry else None,
                              what="selected history image (click one first)", replace=False)

    follow_references(pricing, prices=True,
                      event=e.use_history.click(on_use_history, reads | {e.picked}, targets, **PRIVATE))


def _wire_restored(pricing: Pricing, studio: Studio, *, whole_folder: bool) -> None:
    """Restored settings and the references: a plain image clears them, a dropped edit brings them back
    (searched for in the whole outputs folder only where ``whole_folder``: see :func:`wire_edit`)."""
    c, e = pricing.c, pricing.e

    def on_history(state: SessionState, references: Any, evt: gr.SelectData) -> dict:
        entry = state.history[evt.index] if evt.index < len(state.history) else None
        restored = studio_view.restore(entry.parameters) if entry else None
        return {e.picked: evt.index, c.n: restored.request.n if restored else gr.update(),
                c.result: gr.update(visible=True), c.grid: gr.update(visible=False),
                **cleared(e, references, restored)}

    follow_references(pricing, c.history.select(on_history, [c.session, e.references],
                                                [e.picked, c.n, c.result, c.grid, e.references, e.edit_status],
                                                **PRIVATE))

    def on_drop(path: str | None, state: SessionState | None, references: Any, own_key: Any, fidelity: Any) -> dict:
        """An edited image brings its references back where they may be searched for and are still kept
        (and the cost line priced with them: ``ui.wiring`` restores the rest and leaves the line to this)."""
        data = {c.own_key: own_key, e.fidelity: fidelity, c.n: None, e.references: references}
        try:
            parameters = read_parameters(path) if path and checked_image_size(path) else None
        except DalleError:
            parameters = None
        restored = studio_view.restore(parameters)
        if restored is None:
            return {e.edit_status: gr.update()}
        updates: dict = {c.n: restored.request.n, **cleared(e, references, restored)}
        if restored.references:
            state = state if isinstance(state, SessionState) else SessionState()
            own = [Path(entry.path) for entry in state.history]
            found = studio.find_references(parameters, None if whole_folder else
                                           [*own, *(Path(p) for p in _paths(references))])
            refs = [str(p) for p in found.found]
            req = restored.request
            updates.update({e.references: refs or None, e.accordion: gr.update(open=True),
                            e.edit_status: status.inert(found.message()),
                            c.cost: studio_view.cost_text(req.model, req.quality, req.size, state, click=pricing.click(
                                data, req.model, n=req.n, references=refs))})
        return updates

    follow_references(pricing, c.upload.upload(on_drop, [c.upload, c.session, e.references, c.own_key, e.fidelity],
                                                [c.n, e.references, e.accordion, e.edit_status, c.cost], **PRIVATE))
