"""The words in the status area, as Markdown, with user text made inert.

Prompts and revised prompts come from people and from the API; they are
shown, never interpreted: HTML is escaped and Markdown syntax backslashed, so
``<script>`` or ``![x](http://…)`` in a prompt is displayed as typed. Only the
characters that can start Markdown syntax are escaped (a ``-`` or ``.`` only at
the start of a line), so a renderer that ignores escapes still reads cleanly.
:func:`facts` is the same result as data, for programs.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from dalle3.errors import DalleError
from dalle3.files.metadata import file_size_text
from dalle3.models import resolve, shown_name
from dalle3.models.pricing import Price
from dalle3.results import GenerationResult

_MD_SPECIAL = re.compile(r"([\\`*_\[\]!|~])")
_LINE_START = re.compile(r"^([ \t]*(?:\d+)?)([#>+\-=.)])", re.MULTILINE)  # headings, quotes, lists
_CODE_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")  # inside a code span escapes do not work: keep id characters only
_FILE_UNSAFE = re.compile(r"[^A-Za-z0-9_./-]")  # saved names are ASCII slugs; keep them so in a code span
#: Control characters (C0 and DEL): the one set, for Markdown and for terminals alike.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


UNEXPECTED = "Something unexpected went wrong. The details are in the server log; try again."


def one_line(text: str) -> str:
    """``text`` for one line of a terminal: every control character (newlines, escapes) a space."""
    return CONTROL_CHARS.sub(" ", text)


def inert(text: str) -> str:
    """``text`` safe to drop into Markdown: escaped, control characters made visible."""
    text = CONTROL_CHARS.sub(lambda m: m.group() if m.group() in "\t\n" else f"\\x{ord(m.group()):02x}", text)
    text = _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return _LINE_START.sub(r"\1\\\2", text).replace("\n", "  \n")


def success(result: GenerationResult, saved: bool = True) -> str:
    """Revised prompt, time, cost, request id, saved file name — or the cache/simulator notice."""
    req = result.request
    # validated values, escaped all the same: a model id may come from a dropped PNG or the endpoint
    head = " · ".join([f"**{'Simulated' if result.simulated else 'Done'}**",
                       *(inert(v) for v in (shown_name(req.model), req.size, req.quality, req.style) if v)])
    if len(result.paths) > 1:
        head += f" · {len(result.paths)} images"
    lines = [head]
    if result.inputs is not None:
        lines.append(result.inputs.describe().capitalize() + ".")
    if result.cached:
        made = dt.datetime.fromtimestamp(result.created).strftime("%H:%M:%S") if result.created else "earlier"
        lines.append(f"Same inputs as the image made at {made} — returned from cache, no charge.")
    elif result.simulated:
        lines.append("Offline simulator: no API call was made and nothing was charged. "
                     "Add an OpenAI API key to get real images.")
    if result.revised_prompt:
        lines.append(f"Revised prompt: {inert(result.revised_prompt)}")
    cost = "no charge" if result.cost.usd == 0 else f"cost {result.cost}"
    tail = f"{result.elapsed_s:.1f} s · {cost}"
    if result.request_id:
        tail += f" · request `{_CODE_UNSAFE.sub('', result.request_id)}`"
    if result.attempts > 1:
        tail += f" · {result.attempts} attempts"
    if result.file_bytes:
        tail += f" · {file_size_text(result.file_bytes)} {req.output_format or 'png'}"
    lines.append(tail)
    if saved:
        names = [f"`{_FILE_UNSAFE.sub('', f'{p.parent.name}/{p.name}')}`" for p in result.paths]
        lines.append(f"Saved as {', '.join(names)}")  # every image of a batch, not only the first
    if result.note:
        lines.append(inert(result.note))
    profile = resolve(req.model)
    if profile and profile.assumed_from:
        lines.append(f"Note: {inert(req.model)} is not in the model table; {inert(profile.note)}.")
    return "\n\n".join(lines)


def facts(result: GenerationResult) -> dict[str, Any]:
    """The result as data for API callers: every fact the status line shows, unescaped.

    A deployment name's model comes as ``deployment_of`` beside it.
    """
    req = result.request
    profile = resolve(req.model)
    deployment = {"deployment_of": profile.deployment_of} if profile and profile.deployment_of else {}
    return {
        "model": req.model, **deployment,
        "size": req.size, "quality": req.quality, "style": req.style, "seed": req.seed,
        "extras": dict(req.extras), "revised_prompt": result.revised_prompt,
        "cost_usd": round(result.cost.usd, 6), "cost_exact": not result.cost.estimate,
        "request_id": result.request_id, "cached": result.cached, "backend": result.backend,
        "file": result.file_name, "seconds": round(result.elapsed_s, 3),
        "output_format": req.output_format or "png", "output_compression": req.output_compression,
        "file_bytes": result.file_bytes,
        "n": req.n, "files": [f"{p.parent.name}/{p.name}" for p in result.paths],
        **(result.inputs.parameters() if result.inputs is not None else {}),
    }


def failure(error: DalleError) -> str:
    """The error's plain message plus its technical tail (status, code, request id)."""
    text = f"**{error.title}.** {inert(error.user_message)}"
    if details := error.details():
        text += f"\n\n<small>{inert(details)}</small>"
    return text


def cost_line(price: Price | None, session_usd: float, session_images: int, label: str = "This image") -> str:
    """"This image: $0.040 · This session: $0.12 (3 images)"."""
    this = "unknown until it is made" if price is None else str(price)
    if price is not None and price.estimate:
        this += " (estimate)"
    return f"{label}: {this} · {session_total(session_usd, session_images)}"


def session_total(session_usd: float, session_images: int) -> str:
    """"This session: $0.12 (3 images)"."""
    plural = "image" if session_images == 1 else "images"
    return f"This session: ${session_usd:.2f} ({session_images} {plural})"
