"""dalle3 studio — the page: layout and event wiring only (logic lives in ``dalle3/``).

Run ``python app.py`` (``--help`` for options). With no API key it serves the
offline simulator, clearly labelled.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from dataclasses import replace
from typing import Any

import gradio as gr

from dalle3 import DalleError, Studio, __version__, from_env, page, status, validate
from dalle3.discovery import Discovery
from dalle3.errors import ConfigurationError, ModelUnavailableError
from dalle3.metadata import read_parameters
from dalle3.models import ALL_EXTRAS, ALL_QUALITIES, ALL_SIZES, ALL_STYLES, MODELS, resolve
from dalle3.params import SEED_MAX, profile_for
from dalle3.session import SEED_CONTROLS, SessionState, next_seed
from dalle3.settings import exposure_warning, parse_auth

log = logging.getLogger("dalle3")

CTRL_ENTER_JS = """
() => {
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && e.target.closest("#prompt")) {
      e.preventDefault();
      document.querySelector("#generate")?.click();
    }
  });
}
"""
CSS = """
#banner {border-left: 4px solid #f59e0b; padding-left: .6em}
#char_count, #cost {font-size: .9em; opacity: .85}
"""
PLACEHOLDER = "A watercolor painting of a red fox curled up in fresh snow at dawn, soft light"
EXTRA_NAMES = page.EXTRA_NAMES


def build(studio: Studio) -> gr.Blocks:
    """The page for ``studio``; one Blocks per process."""
    settings = studio.settings
    discovery = Discovery(studio.client)
    if settings.api_key and not settings.offline:  # in the background: never delays the first page
        threading.Thread(target=discovery.listing, args=(settings.api_key,), daemon=True).start()
    default = profile_for(settings.default_model)
    limits = json.dumps({m: p.prompt_limit for m, p in MODELS.items()})

    with gr.Blocks(title="dalle3 studio", delete_cache=(3600, 24 * 3600)) as demo:
        session = gr.State(SessionState())
        own_key = gr.State("")
        successor = gr.State(None)
        gr.Markdown(f"# dalle3 studio\nDrive OpenAI's DALL·E 3 — and today's GPT Image models — by hand. "
                    f"<small>v{__version__}</small>")
        gr.Markdown(page.banner_text(settings), elem_id="banner")
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                model = gr.Dropdown(page.model_choices(), value=default.id, label="Model", elem_id="model")
                model_note = gr.Markdown(page.model_view(default.id, None, None).note, elem_id="model_note")
                prompt = gr.Textbox(label="Prompt", lines=5, max_lines=20, placeholder=PLACEHOLDER,
                                    elem_id="prompt", info="Ctrl/Cmd+Enter generates")
                char_count = gr.Markdown(f"0 / {default.prompt_limit}", elem_id="char_count")
                with gr.Row():
                    # No minimum/maximum here: dalle3 checks the range and says so in the status area.
                    seed = gr.Number(0, label="Seed", precision=0, info=f"0 to {SEED_MAX}", elem_id="seed",
                                     scale=3)
                    dice = gr.Button("🎲 Random", elem_id="dice", scale=0, min_width=110)
                    seed_control = gr.Radio(list(SEED_CONTROLS), value="randomize", elem_id="seed_control",
                                            label="Control after generate", scale=5)
                quality = gr.Radio(list(default.qualities), value=default.default_quality, label="Quality",
                                   info=page.quality_info(default.id), elem_id="quality")
                style = gr.Radio(list(ALL_STYLES), value="natural", label="Style", info=page.style_info(),
                                 elem_id="style", visible=bool(default.styles))
                size = gr.Dropdown(list(default.sizes), value=default.default_size, label="Size",
                                   allow_custom_value=True, elem_id="size")
                extras = {
                    name: gr.Dropdown([""], value="", label=name.capitalize(), info=page.EXTRA_HINTS[name],
                                      visible=False, elem_id=name)
                    for name in EXTRA_NAMES
                }
                cost = gr.Markdown(page.cost_text(default.id, default.default_quality, default.default_size,
                                                  SessionState()), elem_id="cost")
                generate = gr.Button("Generate", variant="primary", elem_id="generate")
                with gr.Accordion("Your OpenAI API key", open=not settings.api_key):
                    api_key = gr.Textbox(label="Your OpenAI API key (this browser session only)", type="password",
                                         placeholder="sk-...", elem_id="api_key",
                                         html_attributes=gr.InputHTMLAttributes(
                                             autocomplete="off", spellcheck=False, autocorrect="off",
                                             autocapitalize="off"),  # no password manager, no spellcheck service
                                         info="Used for your requests only; never saved, logged or shared. "
                                              + ("Server key configured." if settings.api_key else ""))
                upload = gr.Image(label="Drop a PNG to restore its settings", type="filepath",
                                  sources=["upload"], height=160, elem_id="upload")
            with gr.Column(scale=6):
                result = gr.Image(label="Result", type="filepath", format="png", interactive=False,
                                  buttons=["download", "fullscreen"], elem_id="result")
                status_md = gr.Markdown("Ready.", label="status", elem_id="status")
                switch = gr.Button(visible=False, elem_id="switch_model", variant="secondary")
                history = gr.Gallery(label="This session", columns=4, height=260, allow_preview=False, fit_columns=False,
                                     elem_id="history")

        # API-only inputs: hidden, typed, defaults as documented. Choices list every model's
        # values (for the API schema); allow_custom_value lets dalle3 give the per-model message.
        with gr.Column(visible=False):
            api_in = dict(
                prompt=gr.Textbox(label="prompt"),
                seed=gr.Number(0, label="seed", precision=0),
                quality=gr.Dropdown(list(ALL_QUALITIES), value="standard", allow_custom_value=True, label="quality"),
                style=gr.Dropdown(list(ALL_STYLES), value="natural", allow_custom_value=True, label="style"),
                size=gr.Dropdown(list(ALL_SIZES), value="1024x1024", allow_custom_value=True, label="size"),
                model=gr.Dropdown(list(MODELS), value=default.id, allow_custom_value=True, label="model"),
                **{name: gr.Dropdown(["", *ALL_EXTRAS[name]], value="", allow_custom_value=True, label=name)
                   for name in EXTRA_NAMES},
                api_key=gr.Textbox("", label="api_key", type="password"),
            )
            api_trigger = gr.Button(visible=False)

        controls = [prompt, seed, model, quality, style, size, *extras.values()]

        def view_updates(model_id: str, quality_v: str | None, size_v: str | None, state: SessionState,
                         extra_values: dict[str, str] | None = None) -> list[Any]:
            view = page.model_view(model_id, quality_v, size_v)
            p = view.profile
            updates: list[Any] = [
                gr.update(choices=list(p.qualities), value=view.quality, info=page.quality_info(p.id)),
                gr.update(visible=view.style_visible),
                gr.update(choices=list(p.sizes), value=view.size),
            ]
            for name in EXTRA_NAMES:
                allowed = p.extras.get(name)
                chosen = (extra_values or {}).get(name)
                value = chosen if allowed and chosen in allowed else p.extra_defaults.get(name, "")
                updates.append(gr.update(visible=bool(allowed), choices=list(allowed or [""]), value=value))
            updates += [view.note, page.cost_text(p.id, view.quality, view.size, state)]
            return updates

        def on_model(model_id, quality_v, size_v, state):
            return view_updates(model_id, quality_v, size_v, state)

        # Gradio 6 checks a Radio input against its *current* choices, and these events can carry a
        # quality from before a model switch: .input (the person's change; switch and restore send the
        # whole view themselves), not .change, whose handler reads the other controls' old values; and
        # preprocess=False, as picking an option fires `input` twice and the repeat arrives after the
        # choices changed. Both handlers take any quality (the nearest is chosen / the price is unknown).
        view_outputs = [quality, style, size, *extras.values(), model_note, cost]
        model.input(on_model, [model, quality, size, session], view_outputs, api_visibility="private",
                    show_progress="hidden", preprocess=False)
        for control in (quality, size):
            control.input(lambda m, q, s, st: page.cost_text(m, q, s, st), [model, quality, size, session],
                          cost, api_visibility="private", show_progress="hidden", preprocess=False)
        count_js = (f"(p, m) => {{ const lim = {limits}[m] ?? (m.startsWith('gpt-image') ? 32000 : 4000);"
                    " return `${[...(p || '')].length} / ${lim}`; }")
        # prompt.change, not .input: Gradio 6's Textbox fires `input` only on keypress, so paste,
        # Backspace and restored settings would leave the count stale.
        for trigger in (prompt.change, model.change):
            trigger(None, [prompt, model], char_count, js=count_js, api_visibility="private")
        dice.click(None, None, seed, js=f"() => Math.floor(Math.random() * {SEED_MAX + 1})",
                   api_visibility="private")

        def on_generate(prompt_v, seed_v, control, model_id, quality_v, style_v, size_v, bg, mod, cx,
                        key, state, progress=gr.Progress()):
            values = dict(zip(EXTRA_NAMES, (bg, mod, cx)))
            profile = resolve(model_id)
            chosen = {k: v for k, v in values.items() if profile and k in profile.extras}
            try:
                request = validate(prompt_v, seed_v, quality_v, style_v, size_v, model_id, chosen)
                progress(0.05, desc=f"Waiting for {request.model}…")
                outcome = studio.generate(request, key)
            except ModelUnavailableError as exc:
                label = page.switch_label(exc.successor, quality_v, size_v) if exc.successor else None
                return (gr.update(), status.failure(exc), gr.update(), gr.update(), gr.update(), state,
                        gr.update(visible=bool(label), value=label), exc.successor)
            except DalleError as exc:
                return (gr.update(), status.failure(exc), gr.update(), gr.update(), gr.update(), state,
                        gr.update(visible=False), None)
            except Exception:  # a bug must not take the page down or show a traceback
                log.exception("unexpected error while generating")
                return (gr.update(), status.UNEXPECTED, gr.update(), gr.update(), gr.update(), state,
                        gr.update(visible=False), None)
            state = state.after(outcome)
            where = str(outcome.path) if settings.output_dir else None
            return (str(outcome.path), status.success(outcome, where), next_seed(request.seed, control),
                    state.gallery(), page.cost_text(model_id, request.quality, request.size, state), state,
                    gr.update(visible=False), None)

        gen_inputs = [prompt, seed, seed_control, model, quality, style, size, *extras.values(), own_key, session]
        gen_outputs = [result, status_md, seed, history, cost, session, switch, successor]
        (generate.click(lambda: gr.update(interactive=False), None, generate, queue=False, api_visibility="private")
         .then(on_generate, gen_inputs, gen_outputs, api_visibility="private", concurrency_id="generate",
               concurrency_limit=settings.concurrency)
         .then(lambda: gr.update(interactive=True), None, generate, queue=False, api_visibility="private"))

        def on_switch(target, quality_v, size_v, state):
            if not target:
                return [gr.update()] * (1 + len(view_outputs)) + [gr.update(visible=False)]
            # the new model's choices travel with its values (model.input does not fire for this change)
            return [target, *view_updates(target, quality_v, size_v, state), gr.update(visible=False)]

        switch.click(on_switch, [successor, quality, size, session], [model, *view_outputs, switch],
                     api_visibility="private")

        def restore_outputs(restored: page.Restored | None, note: str, state: SessionState,
                            image: Any = None) -> list[Any]:
            if restored is None:
                return [gr.update()] * (len(controls) + 2) + [gr.update() if image is None else image, note]
            # the restored model's choices, note and cost travel with the values: the PNG may come from
            # another model family, and Gradio rejects a Radio value outside its current choices
            view = view_updates(restored.model, restored.quality, restored.size, state, restored.extras)
            view[1]["value"] = restored.style or "natural"
            return [restored.prompt, restored.seed, restored.model, *view,
                    gr.update() if image is None else image, note]

        restore_targets = [*controls, model_note, cost, result, status_md]

        def on_history(state: SessionState, evt: gr.SelectData):
            entry = state.history[evt.index] if evt.index < len(state.history) else None
            restored = page.restore(entry.parameters) if entry else None
            return restore_outputs(restored, "Settings restored from the history." if restored else "", state,
                                   entry.path if entry else None)

        history.select(on_history, [session], restore_targets, api_visibility="private")

        def on_upload(path, state):
            if not path:
                return restore_outputs(None, "", state)
            restored = page.restore(read_parameters(path))
            note = ("Settings restored from the dropped PNG." if restored else
                    "No dalle3 studio settings found in that file (it is not a PNG made by this app).")
            return restore_outputs(restored, note, state)

        upload.upload(on_upload, [upload, session], restore_targets, api_visibility="private")

        def on_key(key: str):
            return (key or "").strip()

        api_key.change(on_key, api_key, own_key, queue=False, api_visibility="private", show_progress="hidden")

        def refresh_models(key: str, model_id: str):
            use = key or settings.api_key
            if settings.offline or not use:
                return gr.update(), gr.update()
            listing = discovery.listing(use) if key else discovery.peek(use)
            if listing is None:
                return gr.update(), gr.update()
            if listing.problem:
                return gr.update(choices=page.model_choices()), listing.problem
            return gr.update(choices=page.model_choices(listing.offered)), gr.update()

        api_key.blur(refresh_models, [own_key, model], [model, model_note], api_visibility="private",
                     show_progress="hidden")
        demo.load(refresh_models, [own_key, model], [model, model_note], api_visibility="private",
                  show_progress="hidden")

        # One line per argument: Gradio's MCP and API docs read only an argument's first line.
        def api_generate(prompt: str, seed: int = 0, quality: str = "standard", style: str = "natural",
                         size: str = "1024x1024", model: str = default.id, background: str = "",
                         moderation: str = "", complexity: str = "", api_key: str = "") -> tuple[str, str]:
            """Generate one image with OpenAI's DALL·E 3 (or a GPT Image model) and return it with a status text.

            Args:
                prompt: What to draw. Up to 4000 characters for dall-e-3, 32000 for GPT Image models.
                seed: 0 to 2147483647. Not sent to OpenAI (it has no seed); stored in the PNG. New seed, new image.
                quality: dall-e-3: standard | hd. GPT Image models: low | medium | high | auto.
                style: dall-e-3 only: natural | vivid (ignored for models without a style).
                size: dall-e-3: 1024x1024 | 1024x1792 | 1792x1024. GPT Image: auto, a preset or WxH in multiples of 16.
                model: dall-e-3 or a GPT Image model such as gpt-image-2.
                background: GPT Image models only: auto | opaque | transparent (empty: model default).
                moderation: GPT Image models only: auto | low (empty: model default).
                complexity: gpt-image-2.6 models only: low | medium | high (empty: model default).
                api_key: Optional own OpenAI API key for this call only; never stored.

            Returns:
                The PNG with its settings embedded, and a Markdown status: revised prompt, cost, request id.
            """
            extras_in = dict(zip(EXTRA_NAMES, (background, moderation, complexity)))
            try:
                outcome = studio.generate(validate(prompt, seed, quality, style, size, model, extras_in), api_key)
            except DalleError as exc:
                raise gr.Error(exc.user_message, title=exc.title, print_exception=False) from None
            except Exception:  # a bug must reach the caller as a sentence, not a traceback
                log.exception("unexpected error while generating")
                raise gr.Error(status.UNEXPECTED, print_exception=False) from None
            return str(outcome.path), status.success(outcome)

        api_trigger.click(api_generate, list(api_in.values()), [result, status_md], api_name="generate",
                          concurrency_id="generate", concurrency_limit=settings.concurrency)
    return demo


def launch_options(studio: Studio) -> dict[str, Any]:
    """What every launch of the page needs, for ``main`` and the tests alike."""
    return dict(run_history=False, show_error=False, allowed_paths=[str(studio.output_dir)],
                css=CSS, js=CTRL_ENTER_JS, auth=studio.settings.auth)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="dalle3 studio: the page.")
    parser.add_argument("--listen", action="store_true", help="serve on all interfaces (0.0.0.0), not only 127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="port (default: GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--auth", default=None, help="user:password login for the page (or DALLE3_AUTH)")
    parser.add_argument("--mcp", action="store_true", help="also serve Gradio's MCP server (needs gradio[mcp])")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    try:
        settings = from_env()
        auth = parse_auth(args.auth, "--auth") if args.auth else settings.auth
    except ConfigurationError as exc:
        sys.exit(f"dalle3 studio: {exc.user_message}")
    settings = replace(settings, auth=auth)
    host = "0.0.0.0" if args.listen else os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    if warning := exposure_warning(settings, host):
        print(warning, file=sys.stderr)
    studio = Studio(settings)
    # Gradio reads this at launch; cheaper than demo.queue(), which builds the web app once more.
    os.environ["GRADIO_DEFAULT_CONCURRENCY_LIMIT"] = str(settings.concurrency)
    demo = build(studio)
    demo.launch(server_name="0.0.0.0" if args.listen else None, server_port=args.port,
                mcp_server=args.mcp or None, **launch_options(studio))


if __name__ == "__main__":
    main()
