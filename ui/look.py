"""How the page looks and what its script adds: a theme with enough contrast, the CSS, and the
small script for Ctrl/Cmd+Enter, the skip link and names that Gradio's components leave out.

Gradio's default theme puts hint text at 1.9:1 and white on its orange at 2.8:1; WCAG AA asks
4.5:1 for text. The colours below keep the default look with darker greys and a darker orange.
"""

from __future__ import annotations

import gradio as gr

SUBDUED = "#52525b"  # zinc-600 on white: 7.7:1
PRIMARY = "#c2410c"  # orange-700 under white text: 5.2:1
PRIMARY_HOVER = "#9a3412"
FOCUS = "#1d4ed8"


def theme() -> gr.themes.Base:
    return gr.themes.Default(primary_hue="orange").set(
        body_text_color_subdued=SUBDUED, block_info_text_color=SUBDUED, input_placeholder_color=SUBDUED,
        block_label_text_color=SUBDUED, button_primary_background_fill=PRIMARY,
        button_primary_background_fill_hover=PRIMARY_HOVER, button_primary_text_color="white",
        button_primary_text_color_hover="white", color_accent=PRIMARY, link_text_color="#1d4ed8")


CSS = f"""
#banner {{border-left: 4px solid {PRIMARY}; padding-left: .6em}}
#title h2 {{margin: 0}}
#title small {{font-weight: normal}}
#char_count, #cost {{font-size: .9em}}
#count_row > #char_count {{flex: 0 0 8em; text-align: right}}
#model input {{text-overflow: ellipsis}}
@media (max-width: 600px) {{ #model input {{font-size: 12.5px}} }}
#lib_grid .grid-wrap {{max-height: 560px; overflow-y: auto}}
#result_actions button {{flex-grow: 1}}
#generate {{transition: none}}
#grid .grid-container {{height: 100%; box-sizing: border-box; grid-template-rows: repeat(var(--grid-rows), minmax(0, 1fr));
  grid-auto-rows: minmax(0, 1fr)}}
#grid .gallery-item, #grid .thumbnail-item {{height: 100%; min-height: 0; aspect-ratio: auto}}
#grid .thumbnail-item img {{width: 100%; height: 100%; object-fit: contain}}
.skip-link {{position: absolute; left: -9999px}}
.skip-link:focus {{position: static; display: inline-block; padding: .3em .6em}}
:is(button, a, input, textarea, select, [tabindex]):focus-visible {{outline: 3px solid {FOCUS}; outline-offset: 2px}}
label:has(input[type=radio]:focus-visible, input[type=checkbox]:focus-visible) {{outline: 3px solid {FOCUS};
  outline-offset: 2px}}
footer, footer * {{color: {SUBDUED} !important}}
#prompt textarea::placeholder {{font-style: italic}}  /* an example, not text already typed */
"""

# Runs once when the page loads. Gradio renders (and re-renders) its components after that, so
# the names are given by a MutationObserver: an image button without a name gets the image's
# alt text or its component's label; an empty image box's aria-label gets the role it needs; an
# "add more files" button's inner upload button is made inert (the outer one opens the picker).
PAGE_JS = """
() => {
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && e.target.closest("#prompt")) {
      e.preventDefault();
      document.querySelector("#generate")?.click();
    }
  });
  document.addEventListener("click", (e) => {
    if (e.target.closest(".skip-link")) {
      e.preventDefault();
      document.querySelector("#prompt textarea")?.focus();
    }
  });
  const label = (el) => {
    const block = el.closest("[id]");
    const named = block?.querySelector("[data-testid=block-label], label span, .label-wrap span");
    return (named?.innerText || block?.id || "image").trim();
  };
  const name = () => {
    for (const b of document.querySelectorAll("button:not([aria-label])")) {
      if (b.innerText.trim()) continue;
      const img = b.querySelector("img");
      b.setAttribute("aria-label", img?.alt?.trim() || `Show ${label(b)}`);
    }
    for (const d of document.querySelectorAll("div[aria-label]:not([role])")) d.setAttribute("role", "group");
    for (const b of document.querySelectorAll("button[aria-label='common.upload']")) {
      b.setAttribute("aria-label", "Upload a file");
    }
    for (const inner of document.querySelectorAll("button button, button a")) inner.inert = true;
    rove();
  };
  // Gradio names each radio input apart, so the browser treats every option as its own group:
  // a Tab stop each, arrow keys dead. The page keeps the ARIA radio-group pattern by hand: one
  // Tab stop per group (the chosen option), and the arrow keys choose the next or previous one.
  const radios = (el) => [...el.closest("fieldset, .wrap").querySelectorAll("input[type=radio]:not(:disabled)")];
  const rove = () => {
    for (const group of document.querySelectorAll("fieldset:has(input[type=radio])")) {
      const options = radios(group.querySelector("input[type=radio]"));
      const chosen = options.find((o) => o.checked) || options[0];
      for (const o of options) o.tabIndex = o === chosen ? 0 : -1;
    }
  };
  const STEP = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
  document.addEventListener("keydown", (e) => {
    if (!(e.key in STEP) || e.target.type !== "radio") return;
    const options = radios(e.target);
    const next = options[(options.indexOf(e.target) + STEP[e.key] + options.length) % options.length];
    e.preventDefault();
    next.click();
    next.focus();
    rove();
  });
  document.addEventListener("change", (e) => { if (e.target.type === "radio") rove(); });
  name();
  new MutationObserver(name).observe(document.body, {childList: true, subtree: true, attributes: true,
                                                     attributeFilter: ["aria-label"]});
  document.body.dataset.studioReady = "1";  // the shortcuts and the names are in place
}
"""
