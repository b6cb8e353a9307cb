"""The whole page: layout, then one wiring call per concern."""

from __future__ import annotations

import threading
from typing import Any

import gradio as gr

from dalle3 import Studio
from dalle3.views import api_docs, studio_view
from dalle3.files.images import install_pillow_limit
from dalle3.chat.turn import Chat
from ui.api import wire_api
from ui.chat import layout_chat, wire_chat
from ui.chat_api import ARGUMENTS as CHAT_ARGUMENTS, wire_chat_api
from ui.edit import Pricing, layout_edit, wire_edit
from ui.guard import guard_middleware
from ui.layout import header, layout
from ui.jobs import API_INPUTS as JOBS_API_INPUTS, layout_jobs, wire_jobs, wire_jobs_api
from ui.library import layout_library, wire_library
from ui.look import CSS, PAGE_JS, theme
from ui.logs import quiet_disconnects
from ui.mcp import remember_studio
from ui.sessions import SESSION_CAPACITY
from ui.wiring import wire_code, wire_generate, wire_keys, wire_models, wire_restore

MAX_UPLOAD = "20mb"


def build(studio: Studio, host: str = "127.0.0.1") -> gr.Blocks:
    """The page for ``studio`` served on ``host`` (loopback or not decides the safety identifier)."""
    settings = studio.settings
    install_pillow_limit()
    quiet_disconnects()
    discovery = studio.discovery  # one listing cache for the page, the API and the studio
    if settings.api_key and not settings.offline:  # in the background: never delays the first page
        threading.Thread(target=discovery.listing, args=(settings.api_key,), daemon=True).start()
    view = studio_view.starting_view(settings)
    library = studio.library
    with gr.Blocks(title="dalle3 studio", delete_cache=(3600, 24 * 3600)) as demo:
        header(settings)
        chat = Chat(studio)
        with gr.Tabs() as tabs:
            with gr.Tab("Studio", id="studio"):
                controls = layout(settings, view)
            if library is not None:
                with gr.Tab("Library", id="library"):
                    shelf = layout_library(library)
            with gr.Tab("Jobs", id="jobs"):
                jobs = layout_jobs(view.profile.id)
            with gr.Tab("Chat", id="chat"):
                talk = layout_chat(settings)
        edit = layout_edit(controls, view)
        pricing = Pricing(controls, edit, studio)  # every writer of the cost line prices the click through it
        wire_models(controls, pricing)
        wire_generate(pricing, host)
        wire_edit(pricing, host)
        wire_restore(controls, pricing)
        wire_keys(demo, controls, discovery, pricing=pricing)
        wire_code(controls, settings)
        if library is not None:
            wire_library(shelf, pricing, library, settings, tabs)
        wire_chat(talk, chat, host=host, shared=library is not None, own_key=controls.own_key, discovery=discovery,
                  sources={"Studio result": controls.result, **({"Library pick": shelf.image} if library else {})},
                  demo=demo)
        wire_api(studio, discovery, host, demo)
        wire_jobs(jobs, controls.own_key, studio, host)
        wire_jobs_api(studio, host, demo)
        wire_chat_api(chat, discovery, host=host, shared=library is not None, demo=demo)
    remember_studio(demo, studio)
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
                    "generate": tuple(api_docs.api_arguments()), "edit": tuple(api_docs.edit_arguments()),
                    **JOBS_API_INPUTS, "chat": tuple(CHAT_ARGUMENTS)})]})
