"""The page's events, one ``wire_*`` function per concern; handlers return updates keyed by component."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from typing import Any, Iterator, cast

import gradio as gr
from gradio.blocks import Block

from dalle3 import DalleError, safety
from dalle3.views import studio_view, status
from dalle3.http.discovery import Discovery
from dalle3.errors import ModelUnavailableError
from dalle3.files.images import checked_image_size
from dalle3.files.metadata import read_parameters
from dalle3.models import FAMILY_PREFIXES, MODELS, resolve
from dalle3.params import SEED_MAX, whole_number
from dalle3.views.session import SessionState, next_seed
from dalle3.settings import Settings
from dalle3.views.glance import options_summary
from dalle3.results import SIMULATOR
from dalle3.http.stopping import SIMULATED_MESSAGE, StopHandle, stoppable, stopped_error
from dalle3.views.edit_snippets import code_for
from dalle3.results import Preview
from ui.edit import Pricing, edit_sources_from_controls
from ui.layout import PRIVATE, Controls
from dalle3.run import run_live

Updates = dict[Any, Any]


def view_updates(c: Controls, view: studio_view.ModelView) -> Updates:
    """A model's view as component updates (choices travel with values: Gradio checks one against the other)."""
    p = view.profile
    updates: Updates = {
        c.quality: gr.update(choices=list(p.qualities), value=view.quality, info=view.quality_info),
        c.style: gr.update(visible=view.style_visible, value=view.style),
        c.size: gr.update(choices=list(p.sizes), value=view.size),
        c.output_format: gr.update(visible=view.output.visible, choices=list(view.output.formats or ("png",)),
                                   value=view.output.output_format or "png"),
        c.compression: gr.update(visible=view.output.compression_visible),
        c.previews: gr.update(visible=view.previews_visible),
        c.model_note: view.note,
        c.cost: view.cost,
        c.size_fix: size_fix_update(view.profile.id, view.size),
    }
    for name, extra in view.extras.items():
        updates[c.extras[name]] = gr.update(visible=extra.visible, choices=list(extra.choices), value=extra.value)
    return updates


def size_fix_update(model_id: str, size: Any) -> Any:
    """The one-click offer of the nearest allowed size, shown only while ``size`` is refused."""
    nearest = studio_view.size_offer(model_id, size)
    return gr.update(visible=bool(nearest), value=studio_view.size_offer_label(nearest) if nearest else "")


def _count_js() -> str:
    """The prompt counter, with every limit from the model table (discovered ids by family prefix)."""
    ids = json.dumps({m: p.prompt_limit for m, p in MODELS.items()})
    families = json.dumps([[prefix, MODELS[base].prompt_limit] for prefix, base in FAMILY_PREFIXES])
    return (f"(p, m) => {{ const ids = {ids}, fams = {families}; let lim = ids[m];"
            " if (lim === undefined) { const f = fams.find(([x]) => (m || '').startsWith(x)); lim = f ? f[1] : null; }"
            " const n = [...(p || '')].length; if (lim === null) return `${n} characters`;"
            " return n > lim ? `**${n} / ${lim}: ${n - lim} over the limit, shorten the prompt**` : `${n} / ${lim}`; }")


def wire_models(c: Controls, pricing: Pricing) -> None:
    """Model switching, the live cost, the prompt counter and the dice."""

    # Gradio 6 checks a Radio input against its *current* choices, and these events can carry a
    # quality from before a model switch: .input (the person's change; switch and restore send the
    # whole view themselves), and preprocess=False, as picking an option fires `input` twice and the
    # repeat arrives after the choices changed. Both handlers take any quality.
    def current_view(data: dict, remapped: bool) -> studio_view.ModelView:
        return studio_view.model_view(data[c.model], data[c.quality], data[c.size], data[c.session],
                               style=data[c.style], extras={n: data[x] for n, x in c.extras.items()},
                               output_format=data[c.output_format], compression=data[c.compression],
                               remapped=remapped, click=pricing.click(data, data[c.model]))

    reads: set[Block] = {c.model, c.quality, c.size, c.style, c.session, *c.extras.values(), c.output_format,
                         c.compression, *pricing.reads}

    def on_model(data: dict) -> Updates:  # a shut-down model: its successor is offered before any call
        view = current_view(data, True)
        label = studio_view.switch_label(view.successor, view.quality, view.size) if view.successor else None
        return {**view_updates(c, view), c.switch: gr.update(visible=bool(label), value=label),
                c.successor: view.successor}

    c.model.input(on_model, reads, [*c.model_dependent, c.switch, c.successor],
                  show_progress="hidden", preprocess=False, **PRIVATE)
    # format and background decide what else applies (compression; transparency needs png/webp)
    for control in (c.output_format, c.extras["background"]):
        control.input(lambda data: view_updates(c, current_view(data, False)), reads, c.model_dependent,
                      show_progress="hidden", preprocess=False, **PRIVATE)

    def on_setting(data: dict) -> Updates:  # the person's own change: an old remapping note clears
        view = studio_view.model_view(data[c.model], data[c.quality], data[c.size], data[c.session], remapped=False)
        return {c.cost: pricing.line(data), c.model_note: view.note,
                c.size_fix: size_fix_update(data[c.model], data[c.size])}

    for trigger in (c.quality.input, c.size.input):
        trigger(on_setting, {c.model, c.quality, c.size, c.session, *pricing.reads}, [c.cost, c.model_note, c.size_fix],
                show_progress="hidden", preprocess=False, **PRIVATE)

    # prompt.change, not .input: Gradio 6's Textbox fires `input` only on keypress, so paste,
    # Backspace and restored settings would leave the count stale.
    for trigger in (c.prompt.change, c.model.change):
        trigger(None, [c.prompt, c.model], c.char_count, js=_count_js(), **PRIVATE)
    c.dice.click(None, None, c.seed, js=f"() => Math.floor(Math.random() * {SEED_MAX + 1})", **PRIVATE)
    _wire_size_fix(c, pricing)
    _wire_switch_and_summary(c, pricing)


def _wire_size_fix(c: Controls, pricing: Pricing) -> None:
    """The one-click offer of the nearest allowed size (only the person's click changes the size)."""

    def on_size_fix(data: dict) -> Updates:  # the person took the offer: only then does the size change
        nearest = studio_view.size_offer(data[c.model], data[c.size])
        if not nearest:
            return {c.size_fix: gr.update(visible=False)}
        return {c.size: nearest, c.cost: pricing.line(data, size=nearest), c.size_fix: gr.update(visible=False)}

    c.size_fix.click(on_size_fix, {c.model, c.quality, c.size, c.session, *pricing.reads},
                     [c.size, c.cost, c.size_fix], show_progress="hidden", preprocess=False, **PRIVATE)


def _wire_switch_and_summary(c: Controls, pricing: Pricing) -> None:
    """The one-click switch to a successor, and the options' one-line summary."""

    def on_switch(data: dict) -> Updates:
        target = data[c.successor]
        if not target:
            return {c.switch: gr.update(visible=False)}
        before = studio_view.model_view(data[c.model], data[c.quality], data[c.size], data[c.session])
        view = studio_view.model_view(target, data[c.quality], data[c.size], data[c.session],
                                      click=pricing.click(data, target))
        return {c.model: target, **view_updates(c, view), c.switch: gr.update(visible=False),
                c.status: studio_view.switched_text(before, view)}

    c.switch.click(on_switch, {c.successor, c.model, c.quality, c.size, c.session, *pricing.reads},
                   [c.model, *c.model_dependent, c.switch, c.status], **PRIVATE)

    shown_in_summary: set[Block] = {c.model, c.quality, c.size, c.style, c.output_format, c.n, *c.extras.values()}

    def on_summary(data: dict) -> Updates:
        summary = options_summary(data[c.model], data[c.quality], data[c.size], style=data[c.style],
                                  output_format=data[c.output_format], n=data[c.n],
                                  extras={name: data[x] for name, x in c.extras.items()})
        return {c.options: gr.update(label=summary)}

    for summarized in shown_in_summary:  # each has a .change (Dropdown stands for them all)
        cast(gr.Dropdown, summarized).change(
            on_summary, shown_in_summary, [c.options], show_progress="hidden", preprocess=False,
            queue=False, **PRIVATE)  # a label: no need to wait behind image calls


SCROLL_TO_RESULT_JS = ("() => { const r = document.querySelector('#result_column');"
                       " if (window.innerWidth < 768 && r) window.scrollTo({top: Math.max(0,"
                       " r.getBoundingClientRect().top + window.scrollY - 8)}); }")


def shown(c: Controls, paths: tuple) -> Updates:
    """One image in the result area; a batch as a grid instead, every image of it in view."""
    batch = len(paths) > 1
    columns = 2 if len(paths) <= 4 else 3 if len(paths) <= 9 else 4
    return {c.result: gr.update(value=str(paths[0]), visible=not batch),
            c.grid: gr.update(value=[str(p) for p in paths] if batch else None, visible=batch, columns=columns,
                              rows=math.ceil(len(paths) / columns))}


def wire_generate(pricing: Pricing, host: str) -> None:
    """The Generate button: ``n`` images (or an edit of the references), the status, the next seed, history, cost.

    One call per browser session at a time (a second Generate while one runs starts nothing), and
    a Stop button that abandons the running call (:mod:`dalle3.http.stopping`).
    """
    c, e, studio = pricing.c, pricing.e, pricing.studio
    running = Running()

    def on_generate(data: dict, request: gr.Request) -> Iterator[Updates]:
        """Previews replace each other in the result area; the final image (or the error) ends it."""
        state = data[c.session]
        previous = state.history[0].path if state.history else None
        handle = running.start(request.session_hash)
        if handle is None:  # a second click while one runs: it starts nothing, the first's words stay
            yield {c.status: gr.update()}
            return
        try:
            stopped = False
            yield from _generation(pricing, host=host, data=data, request=request, handle=handle)
            stopped = handle.stopped
        finally:
            running.finish(request.session_hash, handle)
        if stopped:  # the previous image stays; the words say whether the abandoned call may be billed
            simulated = studio.backend_for(data[c.own_key] or None) == SIMULATOR
            words = SIMULATED_MESSAGE if simulated else stopped_error(handle.sent).user_message
            yield {c.result: gr.update(value=previous, visible=True), c.grid: gr.update(visible=False),
                   c.status: f"**Stopped.** {words}"}

    def on_stop(request: gr.Request) -> Updates:
        running.stop(request.session_hash)
        return {c.stop: gr.update(visible=False)}

    inputs = {c.prompt, c.seed, c.seed_control, c.model, c.quality, c.style, c.size, *c.extras.values(),
              c.output_format, c.compression, c.previews, c.n, c.own_key, c.session, *e.inputs}
    outputs = [c.result, c.grid, c.status, c.seed, c.history, c.cost, c.session, c.switch, c.successor]
    busy = {c.generate: gr.update(interactive=False), c.stop: gr.update(visible=True)}
    ready = {c.generate: gr.update(interactive=True), c.stop: gr.update(visible=False)}

    def on_click(request: gr.Request) -> Updates:
        running.click(request.session_hash)
        return busy

    def after(request: gr.Request) -> Updates:  # a refused second click must not re-enable a running page
        return busy if running.busy(request.session_hash) else ready

    (c.generate.click(on_click, None, [c.generate, c.stop], queue=False, js=SCROLL_TO_RESULT_JS, **PRIVATE)
     .then(on_generate, inputs, outputs, concurrency_id="generate",
           concurrency_limit=studio.settings.concurrency, **PRIVATE)
     .then(after, None, [c.generate, c.stop], queue=False, **PRIVATE))
    c.stop.click(on_stop, None, [c.stop], queue=False, **PRIVATE)


class Running:
    """Each browser session's clicks and running call: a click while a call is claimed starts nothing
    (even when the queue runs it after the first has finished), and Stop finds the running call.

    A click is decided when it happens (the immediate, unqueued step); the queued step follows the
    decisions in click order. A claim older than :data:`CLAIM_TTL_S` (a queued step that never ran)
    no longer blocks.
    """

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._claimed: dict[str, float] = {}
        self._decisions: dict[str, deque[bool]] = {}
        self._calls: dict[str, StopHandle] = {}

    def click(self, session: str | None) -> bool:
        """Decide a click: True when it will make an image, False while another is claimed."""
        key = session or ""
        with self._lock:
            since = self._claimed.get(key)
            accepted = since is None or self._clock() - since > CLAIM_TTL_S
            if accepted:
                self._claimed[key] = self._clock()
            self._decisions.setdefault(key, deque()).append(accepted)
            return accepted

    def start(self, session: str | None) -> StopHandle | None:
        """The queued step of the oldest undecided click: its Stop handle, or None when refused."""
        key = session or ""
        with self._lock:
            decisions = self._decisions.get(key)
            accepted = decisions.popleft() if decisions else key not in self._calls
            if decisions is not None and not decisions:
                del self._decisions[key]
            if not accepted:
                return None
            handle = self._calls[key] = StopHandle()
            self._claimed[key] = self._clock()
            return handle

    def finish(self, session: str | None, handle: StopHandle) -> None:
        with self._lock:
            if self._calls.get(session or "") is handle:
                del self._calls[session or ""]
                self._claimed.pop(session or "", None)

    def busy(self, session: str | None) -> bool:
        with self._lock:
            return (session or "") in self._claimed

    def stop(self, session: str | None) -> None:
        with self._lock:
            handle = self._calls.get(session or "")
        if handle is not None:
            handle.stop()


CLAIM_TTL_S = 15 * 60


def _generation(pricing: Pricing, *, host: str, data: dict, request: gr.Request,
                handle: StopHandle) -> Iterator[Updates]:
    """One click's updates: waiting, previews, then the result or the error (none once stopped)."""
    c, e, studio = pricing.c, pricing.e, pricing.studio
    model_id, state = data[c.model], data[c.session]
    profile = resolve(model_id) if isinstance(model_id, str) else None
    extras = {name: data[x] for name, x in c.extras.items() if profile and name in profile.extras}
    values = {"prompt": data[c.prompt], "seed": data[c.seed], "quality": data[c.quality],
              "style": data[c.style], "size": data[c.size], "model": model_id, "n": data[c.n]}
    edit = edit_sources_from_controls(e, data)
    if profile and profile.output_formats:  # compression only where the format takes it
        out = studio_view.output_view(model_id, data[c.output_format], data[c.compression], extras.get("background"))
        values.update(output_format=out.output_format, output_compression=out.compression)
    wanted = whole_number(data[c.previews]) or 0
    yield {c.status: f"{'Editing with' if edit else 'Waiting for'} {status.inert(str(model_id))}…"}
    previous = state.history[0].path if state.history else None
    identifier = safety.identifier_for(studio.settings, host, request.session_hash)
    calls = stoppable(lambda: run_live(studio, values, extras, data[c.own_key], wanted, identifier, edit), handle)
    for outcome in calls:
        if isinstance(outcome, Preview):
            yield {**shown(c, (outcome.path,)), c.status: outcome.label}
        elif isinstance(outcome, DalleError):
            successor = outcome.successor if isinstance(outcome, ModelUnavailableError) else None
            label = studio_view.switch_label(successor, data[c.quality], data[c.size]) if successor else None
            # a preview never stands as the result: back to the last finished image
            yield {c.result: gr.update(value=previous, visible=True), c.grid: gr.update(visible=False),
                   c.status: status.failure(outcome),
                   c.switch: gr.update(visible=bool(label), value=label), c.successor: successor}
        else:
            state = state.after(outcome, edit.file_names() if edit else ())
            yield {**shown(c, outcome.paths),
                   c.status: status.success(outcome, bool(studio.settings.output_dir)),
                   c.seed: next_seed(outcome.request.seed, data[c.seed_control]), c.history: state.gallery(),
                   c.cost: pricing.line(data, state=state),
                   c.session: state, c.switch: gr.update(visible=False), c.successor: None}


def restored_updates(c: Controls, restored: studio_view.Restored, state: SessionState, *,
                     click: studio_view.Click) -> Updates:
    """The controls set to ``restored``, the cost line priced for ``click``; the model's choices travel with
    the values (it may be another model)."""
    req = restored.request
    view = studio_view.model_view(req.model, req.quality, req.size, state, style=req.style, extras=req.options,
                                  output_format=req.output_format, compression=req.output_compression,
                                  remapped=False, click=click)
    return {c.prompt: req.prompt, c.seed: req.seed, c.model: req.model, **view_updates(c, view)}


def wire_restore(c: Controls, pricing: Pricing) -> None:
    """Settings back from a history image or a dropped file (which also set ``n``: see ``ui.edit``)."""
    targets = [c.prompt, c.seed, c.model, *c.model_dependent, c.result, c.status]

    def on_history(data: dict, evt: gr.SelectData) -> Updates:
        state = data[c.session]
        entry = state.history[evt.index] if evt.index < len(state.history) else None
        restored = studio_view.restore(entry.parameters) if entry else None
        if entry is None or restored is None:
            return {c.status: gr.update()}  # Gradio reads an empty dict as one positional value
        click = pricing.restored(data, restored, sets_n=True)
        return {**restored_updates(c, restored, state, click=click), c.result: entry.path,
                c.status: "Settings restored from the history."}

    c.history.select(on_history, {c.session, *pricing.reads}, targets, **PRIVATE)

    def on_upload(data: dict) -> Updates:
        path, state = data[c.upload], data[c.session]
        if not path:
            return {c.status: gr.update()}
        try:
            checked_image_size(path)  # from the header: a pixel bomb is refused before anything decodes it
        except DalleError as exc:
            return {c.status: f"{studio_view.NO_PARAMETERS} {status.inert(exc.user_message)}"}
        restored = studio_view.restore(read_parameters(path))
        if restored is None:
            return {c.status: studio_view.NO_PARAMETERS}
        click = pricing.restored(data, restored, sets_n=True)
        updates = {**restored_updates(c, restored, state, click=click),
                   c.status: "Settings restored from the dropped image."}
        if restored.references:  # an edit: its references are found in ui.edit, which prices the click with them
            updates.pop(c.cost)
        return updates

    c.upload.upload(on_upload, {c.upload, c.session, *pricing.reads}, targets, **PRIVATE)


def page_url(settings: Settings, request: gr.Request | None) -> str:
    """Where this page is, for the gradio_client snippet: the Space's id, or the URL the browser used."""
    if settings.space_id:
        return settings.space_id
    base = getattr(getattr(request, "request", None), "base_url", None)
    return str(base) if base else "http://127.0.0.1:7860/"


def wire_code(c: Controls, settings: Settings) -> None:
    """The newest result's request as curl, openai-SDK and gradio_client code, kept beside it."""

    def on_history(state: SessionState, request: gr.Request) -> Updates:
        entry = state.history[0] if state.history else None
        code = code_for(entry.parameters, names=entry.files, previews=entry.previews, base_url=settings.base_url_shown,
                        page_url=page_url(settings, request), login=bool(settings.auth)) if entry else None
        if code is None:
            return {box: "" for box in c.code.values()}
        return {box: getattr(code, name) for name, box in c.code.items()}

    c.history.change(on_history, [c.session], list(c.code.values()), show_progress="hidden", **PRIVATE)


def wire_keys(demo: gr.Blocks, c: Controls, discovery: Discovery, *, pricing: Pricing) -> None:
    """The visitor's own key, and which models the endpoint offers (the page starts on one it has)."""
    settings = pricing.studio.settings
    c.api_key.change(lambda key: (key or "").strip(), c.api_key, c.own_key, queue=False,
                     show_progress="hidden", **PRIVATE)

    def refresh_models(data: dict) -> Updates:
        key = data[c.own_key]
        use = key or settings.api_key
        if settings.offline or not use:
            return {c.model: gr.update()}
        listing = discovery.listing(use)
        if listing.problem or listing.offered is None:
            return {c.model: gr.update(choices=studio_view.model_choices()),
                    c.model_note: status.inert(listing.problem or "")}
        updates: Updates = {c.model: gr.update(choices=studio_view.model_choices(listing.offered))}
        model_id, note = studio_view.start_model(data[c.model], listing.offered)
        if note:
            view = studio_view.model_view(model_id, data[c.quality], data[c.size], data[c.session],
                                          click=pricing.click(data, model_id))
            updates.update(view_updates(c, view))
            updates[c.model] = gr.update(choices=studio_view.model_choices(listing.offered), value=model_id)
            updates[c.model_note] = f"{note} {view.note}"
        return updates

    inputs: set[Block] = {c.model, c.quality, c.size, c.session, *pricing.reads}
    outputs = [c.model, *c.model_dependent]
    c.api_key.blur(refresh_models, inputs, outputs, show_progress="hidden", **PRIVATE)
    demo.load(refresh_models, inputs, outputs, show_progress="hidden", **PRIVATE)
