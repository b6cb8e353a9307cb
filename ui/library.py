"""The Library tab: every image made here, searched and filtered from the SQLite index.

Shown only when :func:`dalle3.library.library_access` allows (loopback by default; beyond it
with ``DALLE3_LIBRARY=1`` and a login). The grid shows small previews; a click shows the image
with its settings, a copy box for the prompt, the request as code, and "Restore settings",
which fills the Studio tab and switches to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from dalle3 import DalleError
from dalle3.views import studio_view, status
from dalle3.library import Library
from dalle3.library.view import ANY, next_page, progress_text, select, show
from dalle3.settings import Settings
from ui.edit import Pricing, cleared, follow_references, take_reference, use_reads, use_targets
from ui.layout import code_boxes
from ui.layout import PRIVATE
from ui.wiring import Updates, page_url, restored_updates


@dataclass(frozen=True)
class LibraryControls:
    words: gr.Textbox
    model: gr.Dropdown
    size: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox
    page: gr.Number
    previous: gr.Button
    next: gr.Button
    progress: gr.Markdown
    summary: gr.Markdown
    grid: gr.Gallery
    ids: gr.State
    image: gr.Image
    details: gr.Markdown
    prompt: gr.Textbox
    restore: gr.Button
    use: gr.Button
    chosen: gr.State
    code: dict[str, gr.Code]
    timer: gr.Timer


def layout_library(library: Library) -> LibraryControls:
    """The tab's components; call inside ``gr.Tab``."""
    models, sizes = library.choices()
    with gr.Row():
        words = gr.Textbox(label="Search the prompts", placeholder="fox snow", scale=4, elem_id="lib_words")
        model = gr.Dropdown([("any model", ANY), *models], value=ANY, label="Model", scale=2, elem_id="lib_model")
        size = gr.Dropdown([("any size", ANY), *sizes], value=ANY, label="Size", scale=1, elem_id="lib_size")
        since = gr.Textbox(label="From (YYYY-MM-DD)", scale=1, elem_id="lib_since")
        until = gr.Textbox(label="To (YYYY-MM-DD)", scale=1, elem_id="lib_until")
    progress = gr.Markdown(elem_id="lib_progress")
    summary = gr.Markdown(elem_id="lib_summary")
    with gr.Row(equal_height=False):
        with gr.Column(scale=6):
            grid = gr.Gallery(columns=6, height="auto", allow_preview=False, show_label=False, fit_columns=False,
                              object_fit="cover", elem_id="lib_grid")  # as high as its rows (CSS caps it)
            with gr.Row():
                previous = gr.Button("← Newer", size="sm", elem_id="lib_prev")
                number = gr.Number(1, label="Page", precision=0, minimum=1, elem_id="lib_page", scale=0, min_width=90)
                following = gr.Button("Older →", size="sm", elem_id="lib_next")
        with gr.Column(scale=4):
            image = gr.Image(label="Image", type="filepath", interactive=False, buttons=["download", "fullscreen"],
                             elem_id="lib_image")
            details = gr.Markdown(elem_id="lib_details")
            prompt = gr.Textbox(label="Prompt", lines=3, buttons=["copy"], interactive=False, elem_id="lib_prompt")
            with gr.Row():
                restore = gr.Button("Restore settings in the Studio tab", size="sm", elem_id="lib_restore")
                use = gr.Button("Use as a reference to edit", size="sm", elem_id="lib_use")
            code = code_boxes("lib")
    return LibraryControls(words, model, size, since, until, number, previous, following, progress, summary, grid,
                           gr.State(()), image, details, prompt, restore, use, gr.State(None), code,
                           gr.Timer(0.5))


def wire_library(lc: LibraryControls, pricing: Pricing, library: Library, settings: Settings,
                 tabs: gr.Tabs) -> None:
    """Search, page, pick, restore or use as a reference; the indexing progress while the first start reconciles."""
    filters = [lc.words, lc.model, lc.size, lc.since, lc.until, lc.page]

    def on_filter(words: str, model: str, size: str, since: str, until: str, number: float) -> Updates:
        try:
            shown = show(library, words, model, size, since, until, number)
        except DalleError as exc:
            return {lc.summary: status.failure(exc)}
        return {lc.grid: shown.gallery, lc.ids: shown.ids, lc.summary: shown.summary, lc.page: shown.page}

    outputs = [lc.grid, lc.ids, lc.summary, lc.page]
    for trigger in (lc.words.submit, lc.model.input, lc.size.input, lc.since.submit, lc.until.submit,
                    lc.page.submit):
        trigger(on_filter, filters, outputs, show_progress="hidden", preprocess=False, **PRIVATE)
    # preprocess=False: raw values reach dalle3's parsers, which answer a page of "1e30" or a date of
    # year 1 with a sentence (Gradio's own Number check would end a crafted string in a traceback)
    def on_previous(words: Any, model: Any, size: Any, since: Any, until: Any, number: Any) -> Updates:
        return on_filter(words, model, size, since, until, next_page(number, -1))

    def on_next(words: Any, model: Any, size: Any, since: Any, until: Any, number: Any) -> Updates:
        return on_filter(words, model, size, since, until, next_page(number, 1))

    lc.previous.click(on_previous, filters, outputs, preprocess=False, **PRIVATE)
    lc.next.click(on_next, filters, outputs, preprocess=False, **PRIVATE)

    def on_tick() -> Updates:
        text = progress_text(library.progress)
        if text is None:  # indexed: show the first page once and stop ticking
            return {lc.progress: "", lc.timer: gr.Timer(active=False), **on_filter("", ANY, ANY, "", "", 1)}
        return {lc.progress: text}

    lc.timer.tick(on_tick, None, [lc.progress, lc.timer, *outputs], show_progress="hidden", **PRIVATE)

    def on_pick(ids: tuple[int, ...], request: gr.Request, evt: gr.SelectData) -> Updates:
        picked = select(library, ids, evt.index, settings.base_url_shown, page_url(settings, request),
                        login=bool(settings.auth))
        if picked is None:
            return {lc.details: "That image is no longer in the folder."}
        code = picked.code
        return {lc.image: picked.path, lc.details: picked.details, lc.prompt: picked.prompt,
                lc.chosen: picked.parameters,
                **{box: getattr(code, name) if code else "" for name, box in lc.code.items()}}

    lc.grid.select(on_pick, [lc.ids], [lc.image, lc.details, lc.prompt, lc.chosen, *lc.code.values()],
                   **PRIVATE)
    _wire_into_studio(lc, pricing, tabs)


def _wire_into_studio(lc: LibraryControls, pricing: Pricing, tabs: gr.Tabs) -> None:
    """The picked image into the Studio tab: its settings restored, or it added as a reference."""
    c, e = pricing.c, pricing.e

    def on_restore(data: dict) -> Updates:
        restored = studio_view.restore(data[lc.chosen])
        if restored is None:
            return {c.status: "Pick an image in the Library first."}
        click = pricing.restored(data, restored, sets_n=False)  # the library's restore keeps ``n``
        return {**restored_updates(c, restored, data[c.session], click=click),
                c.status: "Settings restored from the library.", tabs: gr.Tabs(selected="studio"),
                **cleared(e, data[e.references], restored)}

    follow_references(pricing, lc.restore.click(
        on_restore, {lc.chosen, c.session, *pricing.reads},
        [c.prompt, c.seed, c.model, *c.model_dependent, c.status, tabs, e.references, e.edit_status], **PRIVATE))

    def on_use(data: dict) -> Updates:
        if not data[lc.image]:
            return {c.status: "Pick an image in the Library first."}
        return {**take_reference(pricing, data, data[lc.image], what="library image", replace=False),
                tabs: gr.Tabs(selected="studio")}

    follow_references(pricing, prices=True, event=lc.use.click(on_use, use_reads(pricing) | {lc.image},
                                                                [*use_targets(c, e), tabs, c.status], **PRIVATE))
