"""``python -m dalle3 library "fox" --model gpt-image-2 --since 2026-11-01``: the library in a terminal.

The CLI runs on the machine that holds the files, so :func:`library_access`
(which guards the page against visitors) does not apply: anyone who can run
this can read the folder anyway. Text read from the files is stripped of
control characters for the terminal; ``--json`` keeps it exact (JSON escapes).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from dalle3.errors import ConfigurationError
from dalle3.library import Library, LibraryEntry, LibraryQuery, ReconcileProgress
from dalle3.models.pricing import format_usd
from dalle3.settings import Settings
from dalle3.views.status import one_line



def _cost(entry: LibraryEntry) -> str:
    if entry.cost_usd is None:
        return "?"
    return format_usd(entry.cost_usd) if entry.cost_exact else f"≈{format_usd(entry.cost_usd)}"


def entry_json(entry: LibraryEntry) -> dict[str, Any]:
    return {"path": str(entry.path), "created": entry.created.isoformat(), "model": entry.model,
            "size": entry.size, "quality": entry.quality, "seed": entry.seed, "cost_usd": entry.cost_usd,
            "cost_exact": entry.cost_exact, "prompt": entry.prompt, "revised_prompt": entry.revised_prompt}


def _show_progress(state: ReconcileProgress) -> None:
    if state.total >= 500 and sys.stderr.isatty():
        end = "\n" if state.finished else "\r"
        print(f"dalle3: indexing {state.done:,} of {state.total:,} images", end=end, file=sys.stderr, flush=True)


def library_text(settings: Settings, query: LibraryQuery, as_json: bool = False) -> str:
    """The matches, newest first (``query.per_page`` at most), then how many there are in all."""
    root = settings.output_dir
    if root is None:
        raise ConfigurationError("DALLE3_OUTPUT_DIR is empty, so no images are kept and there is no library.")
    if not root.is_dir():
        return json.dumps({"total": 0, "images": []}) if as_json else f"No images yet in {root}."
    library = Library(root)
    try:
        library.reconcile(_show_progress)
        page = library.search(query)
        totals = library.totals(query) if not as_json else None
    finally:
        library.close()
    if as_json:
        return json.dumps({"total": page.total, "images": [entry_json(e) for e in page.entries]},
                          ensure_ascii=False, indent=2)
    lines = []
    for e in page.entries:
        when = e.created.astimezone().strftime("%Y-%m-%d %H:%M")
        lines.append(f"{e.path}\n  {when} · {e.model or '?'} · {e.size or '?'} · {_cost(e)}\n"
                     f"  {one_line(e.prompt)}")
    shown = f"{len(page.entries)} of {page.total:,}" if page.total > len(page.entries) else f"{page.total:,}"
    spend = "" if totals is None or not totals.images else \
        f" · {'' if totals.exact else '≈'}{format_usd(totals.usd)} in all"
    lines.append(f"{shown} image{'s' if page.total != 1 else ''}{spend}" if page.total else "No images match.")
    return "\n".join(lines)
