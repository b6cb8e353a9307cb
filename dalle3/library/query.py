"""What the library is asked and what it answers: values, and the SQL that selects them.

Kept apart from :mod:`dalle3.library` (which keeps the index true to the
folder) so each stays one concern. Words typed by a person become an FTS5
query here, token by token, quoted: nothing they type is parsed as syntax.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 16
_TOKEN = re.compile(r"\w+")


def fts_query(words: str) -> str | None:
    """User words as an FTS5 query: each word a quoted prefix, all required; None when there are none.

    Only word characters survive, each token is quoted, so ``OR``, ``NEAR(``,
    ``*`` or a stray ``"`` are searched as text and never parsed as syntax.
    """
    tokens = _TOKEN.findall(words[:MAX_QUERY_CHARS])[:MAX_QUERY_WORDS]
    return " ".join('"' + t.replace('"', '""') + '"*' for t in tokens) or None


@dataclass(frozen=True)
class LibraryQuery:
    """What the page or the CLI asks for; ``until`` is inclusive; ``page`` counts from 1."""

    words: str = ""
    model: str | None = None
    size: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    page: int = 1
    per_page: int = 48


@dataclass(frozen=True)
class LibraryEntry:
    """One image as the index knows it; text fields come from the file and are checked, not escaped."""

    id: int
    path: Path
    created: dt.datetime
    model: str | None
    size: str | None
    quality: str | None
    seed: int | None
    prompt: str
    revised_prompt: str | None
    cost_usd: float | None
    cost_exact: bool
    parameters_json: str

    @property
    def parameters(self) -> dict[str, Any]:
        """The parameters stored in the file (for restoring the page's settings)."""
        return json.loads(self.parameters_json)


@dataclass(frozen=True)
class LibraryPage:
    entries: tuple[LibraryEntry, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Spend:
    """Images and spend for one day or one model; ``exact`` when every cost came from a bill or a flat price."""

    key: str
    images: int
    usd: float
    exact: bool
    unknown: int  # images whose cost nobody can tell


@dataclass(frozen=True)
class Totals:
    images: int
    usd: float
    exact: bool
    unknown: int
    by_day: tuple[Spend, ...]
    by_model: tuple[Spend, ...]



ENTRY_COLUMNS = ("id, path, created, model, size, quality, seed, prompt, revised_prompt, cost_usd, "
                  "cost_exact, parameters")


def _local_midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time()).timestamp()


def where_clause(query: LibraryQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = ["ours = 1"]
    args: list[str | float] = []
    if match := fts_query(query.words):
        clauses.append("id IN (SELECT rowid FROM words WHERE words MATCH ?)")
        args.append(match)
    for column in ("model", "size"):
        if value := getattr(query, column):
            clauses.append(f"{column} = ?")
            args.append(value)
    if query.since:
        clauses.append("created >= ?")
        args.append(_local_midnight(query.since))
    if query.until:
        clauses.append("created < ?")
        args.append(_local_midnight(query.until + dt.timedelta(days=1)))
    return " AND ".join(clauses), args


#: One pass over the matches, grouped by local day and model; :func:`totals_from` folds it both ways.
TOTALS_SQL = ("SELECT date(created, 'unixepoch', 'localtime'), coalesce(model, '?'), count(*), total(cost_usd), "
              "sum(cost_usd IS NULL), min(coalesce(cost_exact, 0)) FROM files WHERE {where} GROUP BY 1, 2")


def totals_from(rows: Iterable[tuple]) -> Totals:
    """(day, model, images, usd, unknown, exact) rows -> totals by day (newest first) and by model (most spent)."""
    groups: dict[str, dict[str, list]] = {"day": {}, "model": {}}
    for day, model, images, usd, unknown, exact in rows:
        for name, key in (("day", day), ("model", model)):
            acc = groups[name].setdefault(key, [0, 0.0, 0, True])
            acc[0] += images
            acc[1] += usd
            acc[2] += unknown
            acc[3] = acc[3] and bool(exact)
    spend = {name: [Spend(k, n, usd, exact, unknown) for k, (n, usd, unknown, exact) in g.items()]
             for name, g in groups.items()}
    days = tuple(sorted(spend["day"], key=lambda s: s.key, reverse=True))
    models = tuple(sorted(spend["model"], key=lambda s: (-s.usd, s.key)))
    return Totals(sum(s.images for s in days), sum(s.usd for s in days), all(s.exact for s in days),
                  sum(s.unknown for s in days), days, models)
