"""The whole page: layout, then one wiring call per concern."""

from __future__ import annotations

import threading
from typing import Any

import gradio as gr

from dalle3 import Studio, api_docs, page
from dalle3.discovery import Discovery
from dalle3.images import install_pillow_limit
from dalle3.session import SessionState
from ui.api import wire_api
from ui.edit import layout_edit, wire_edit
from ui.guard import guard_middleware
from ui.layout import header, layout
from ui.library import layout_library, wire_library
from ui.look import CSS, PAGE_JS, theme
from ui.mcp import remember_outputs
from ui.sessions import SESSION_CAPACITY
from ui.wiring import wire_code, wire_generate, wire_keys, wire_models, wire_restore

MAX_UPLOAD = "20mb"


def build(studio: Studio, host: str = "127.0.0.1") -> gr.Blocks:
    """The page for ``studio`` served on ``host`` (loopback or not decides the safety identifier)."""
    settings = studio.settings
    install_pillow_limit()
    discovery = Discovery(studio.client)
    if settings.api_key and not settings.offline:  # in the background: never delays the first page
        threading.Thread(target=discovery.listing, args=(settings.api_key,), daemon=True).start()
    view = page.model_view(settings.default_model, None, None, SessionState())
    library = studio.library
    with gr.Blocks(title="dalle3 studio", delete_cache=(3600, 24 * 3600)) as demo:
        header(settings)
        if library is None:  # no tab strip for one tab
            controls = layout(settings, view)
        else:
            with gr.Tabs() as tabs:
                with gr.Tab("Studio", id="studio"):
                    controls = layout(settings, view)
                with gr.Tab("Library", id="library"):
                    shelf = layout_library(library)
        edit = layout_edit(controls, view)
        wire_models(controls)
        wire_generate(controls, studio, host, edit)
        wire_edit(controls, edit, studio)
        wire_restore(controls)
        wire_keys(demo, controls, studio, discovery)
        wire_code(controls, settings)
        if library is not None:
            wire_library(shelf, controls, edit, library, settings, tabs)
        wire_api(studio, discovery, host, demo)
    remember_outputs(demo, studio.output_dir)
    return demo


def launch_options(studio: Studio) -> dict[str, Any]:
    """What every launch of the page needs, for ``app.main`` and the tests alike.

    No ``allowed_paths``: the outputs folder is not a public folder. Gradio serves only the
    files a handler returned to a visitor (copied into its cache under an unguessable name).
    ``state_session_capacity`` bounds the Gradio sessions kept in memory (:mod:`ui.sessions`).
    """
    return dict(run_history=False, show_error=False, css=CSS, js=PAGE_JS, theme=theme(), auth=studio.settings.auth,
                max_file_size=MAX_UPLOAD, state_session_capacity=SESSION_CAPACITY,
                app_kwargs={"middleware": [guard_middleware(studio.settings, {
                    "generate": tuple(api_docs.api_arguments()), "edit": tuple(api_docs.edit_arguments())})]})
