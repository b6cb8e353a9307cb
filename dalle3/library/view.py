"""What the Library tab shows, computed without Gradio (the page only wires these).

Filters typed by a person are checked here and refused with a sentence; text
read from image files (prompts, revised prompts) is made inert before it
reaches Markdown, as in the status area.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from dalle3.chat.view import lineage
from dalle3.errors import ValidationError
from dalle3.library import Library, LibraryEntry, LibraryPage, LibraryQuery, ReconcileProgress, Spend, Totals
from dalle3.models import quoted
from dalle3.params import whole_number
from dalle3.models.pricing import format_usd
from dalle3.views.snippets import DEFAULT_PAGE_URL, Snippets
from dalle3.views.status import inert
from dalle3.views.edit_snippets import code_for

PER_PAGE = 48
CAPTION_CHARS = 60
ANY = ""  # the filter dropdowns' "any" choice


MAX_PAGE = 1_000_000  # 48 million images: past the last page shows the last page anyway
#: The days a filter may name: a day's local midnight must be a timestamp on every platform
#: (``date(1, 1, 1)`` minus a time zone is "year 0", out of range).
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 2), dt.date(9998, 12, 31)


def _day(text: Any, name: str) -> dt.date | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    problem = ValidationError(f"{name} must be a date from {FIRST_DAY} to {LAST_DAY}, like 2026-11-01; "
                              f"got {quoted(text)}.")
    try:
        if isinstance(text, (int, float)) and not isinstance(text, bool):  # gr.DateTime gives a timestamp
            day = dt.datetime.fromtimestamp(text).date()
        else:
            day = dt.date.fromisoformat(str(text).strip()[:10])
    except (ValueError, OverflowError, OSError):
        raise problem from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise problem
    return day


def page_number(value: Any) -> int:
    """The page to show: blank is 1; a whole number from 1 to :data:`MAX_PAGE`, else a sentence."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1
    number = whole_number(value)
    if number is None or not 1 <= number <= MAX_PAGE:
        raise ValidationError(f"Page must be a whole number from 1 to {MAX_PAGE:,}; got {quoted(value)}.")
    return number


def next_page(value: Any, step: int) -> Any:
    """The page ``step`` away from ``value`` (never below 1); a value that is no page is passed on to be refused."""
    number = whole_number(value) if value not in (None, "") else 1
    return value if number is None else max(1, number + step)


def parse_query(words: Any = "", model: Any = ANY, size: Any = ANY, since: Any = None, until: Any = None,
                page: Any = 1, per_page: int = PER_PAGE) -> LibraryQuery:
    """The controls' values as a query; a bad date or a range that ends before it starts is refused."""
    start, end = _day(since, "Since"), _day(until, "Until")
    if start and end and end < start:
        raise ValidationError(f"The date range ends ({end}) before it starts ({start}); swap the dates.")
    number = page_number(page)
    return LibraryQuery(words=str(words or "")[:500], model=str(model or "") or None, size=str(size or "") or None,
                        since=start, until=end, page=number, per_page=per_page)


def caption(entry: LibraryEntry) -> str:
    """Short plain text under a thumbnail: the prompt's start (the Gallery shows captions as text)."""
    text = " ".join(entry.prompt.split())
    return text if len(text) <= CAPTION_CHARS else text[:CAPTION_CHARS - 1] + "…"


def gallery(page: LibraryPage, previews: list[Path | None] | None = None) -> list[tuple[str, str]]:
    """(image, caption) for each image on the page, newest first: a ``gr.Gallery`` value.

    ``previews`` (from :meth:`Library.thumbnails`) stand in for the full images where there is one;
    the list stays aligned with ``page.entries``, so a click's index names the entry.
    """
    previews = previews or [None] * len(page.entries)
    return [(str(preview or e.path), caption(e)) for e, preview in zip(page.entries, previews)]


def _usd(usd: float, exact: bool, unknown: int = 0) -> str:
    text = format_usd(usd) if exact else f"≈ {format_usd(usd)}"
    return text + (f" (+ {unknown} unknown)" if unknown else "")


def _table(title: str, rows: tuple[Spend, ...], limit: int = 14) -> list[str]:
    lines = [f"| {title} | images | spend |", "|---|---:|---:|"]
    lines += [f"| {inert(s.key)} | {s.images:,} | {_usd(s.usd, s.exact, s.unknown)} |" for s in rows[:limit]]
    if len(rows) > limit:
        rest = rows[limit:]
        lines.append(f"| {len(rest)} more | {sum(s.images for s in rest):,} | "
                     f"{_usd(sum(s.usd for s in rest), all(s.exact for s in rest))} |")
    return lines


def summary(page: LibraryPage, totals: Totals) -> str:
    """The line above the grid and the totals of everything shown (all pages): by day, by model."""
    if not totals.images:
        return "No images match. Clear the search or widen the filters."
    head = (f"**{totals.images:,} image{'s' if totals.images != 1 else ''}** · "
            f"spend {_usd(totals.usd, totals.exact, totals.unknown)} · page {page.page} of {page.pages}")
    note = "" if totals.exact else ("\n\n≈: some costs are the price table's figure (images saved before "
                                    "costs were recorded, or billed by tokens without a bill).")
    return "\n".join([head + note, "", *_table("day", totals.by_day), "", *_table("model", totals.by_model)])


def details(entry: LibraryEntry, with_prompt: bool = True) -> str:
    """Everything stored with one image, as inert Markdown (for the panel beside the enlarged image).

    ``with_prompt=False`` where the prompt has a box of its own beside it (the page): shown once."""
    when = entry.created.astimezone().strftime("%Y-%m-%d %H:%M")
    facts = [f"**{inert(entry.model or 'unknown model')}**", inert(entry.size or "?"), inert(entry.quality or "?")]
    if entry.seed is not None:
        facts.append(f"seed {entry.seed}")
    cost = "cost unknown" if entry.cost_usd is None else _usd(entry.cost_usd, entry.cost_exact)
    lines = [" · ".join(facts), f"{when} · {cost} · {inert(entry.path.name)}"]
    if with_prompt:
        lines.append(f"Prompt: {inert(entry.prompt)}")
    if entry.revised_prompt:
        lines.append(f"Revised prompt: {inert(entry.revised_prompt)}")
    if made_in := lineage(entry.parameters):
        lines.append(made_in)
    return "\n\n".join(lines)


def progress_text(progress: ReconcileProgress) -> str | None:
    """While the folder is being indexed, "Indexing 3,400 of 10,000 images…"; None once done."""
    if progress.finished:
        return None
    if not progress.total:
        return "Looking for images…"
    return f"Indexing {progress.done:,} of {progress.total:,} images…"


def progress_fraction(progress: ReconcileProgress) -> float:
    """0..1 for a progress bar (1 when there is nothing to do)."""
    return 1.0 if progress.finished or not progress.total else progress.done / progress.total


@dataclass(frozen=True)
class Shown:
    """One page of the grid and what goes around it."""

    gallery: list[tuple[str, str]]  # the gr.Gallery value (previews, captions)
    ids: tuple[int, ...]  # keep in a gr.State: a click's index names the entry
    summary: str  # Markdown above the grid: count, spend, page n of m, by day, by model
    page: int
    pages: int


def show(library: Library, words: Any = "", model: Any = ANY, size: Any = ANY, since: Any = None,
         until: Any = None, page: Any = 1) -> Shown:
    """The grid for the filter controls' values; ValidationError (a sentence) for a bad date."""
    query = parse_query(words, model, size, since, until, page)
    found, totals = library.browse(query)
    if found.entries == () and found.total and query.page > 1:  # past the end (the library shrank): last page
        found, totals = library.browse(replace(query, page=found.pages))
    return Shown(gallery(found, library.thumbnails(found.entries)), tuple(e.id for e in found.entries),
                 summary(found, totals), found.page, found.pages)


@dataclass(frozen=True)
class Selected:
    """One clicked image: the full file, its settings as text, and what the buttons need."""

    path: str  # the full image (gr.Image / download)
    details: str  # inert Markdown
    prompt: str  # exact text for a copy box
    parameters: dict[str, Any]  # for studio_view.restore(...) (the page's "restore settings")
    code: Snippets | None  # None when the stored parameters are not a request this app can make


def select(library: Library, ids: Sequence[int], index: int, base_url: str, page_url: str = DEFAULT_PAGE_URL,
           login: bool = False) -> Selected | None:
    """What a click on the grid's ``index`` shows; None when that image is gone."""
    if not 0 <= index < len(ids):
        return None
    entry = library.entry(ids[index])
    if entry is None or not entry.path.is_file():
        return None
    return Selected(str(entry.path), details(entry, with_prompt=False), entry.prompt, entry.parameters,
                    code_for(entry.parameters, base_url=base_url, page_url=page_url, login=login))
