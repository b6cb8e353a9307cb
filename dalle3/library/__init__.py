"""The library: every image ever made here, found in a second.

An index (``library_index``) beside the images in ``DALLE3_OUTPUT_DIR``,
updated by :class:`~dalle3.studio.Studio` as each image is saved and
reconciled with the folder at start, answers the page and the CLI: newest
first, paged, by words of the prompt or revised prompt, by model, day range
and size, with totals of what is shown. :func:`library_access` decides
whether the library may be shown at all: it shows everyone's images.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from dalle3.errors import DalleError
from dalle3.library.index import Index, is_damage, row_for, walk
from dalle3.files.mounts import index_home
from dalle3.library.query import (ENTRY_COLUMNS, TOTALS_SQL, LibraryEntry, LibraryPage, LibraryQuery, Spend,
                                  Totals, fts_query, totals_from, where_clause)
from dalle3.files.metadata import read_parameters
from dalle3.settings import LOOPBACK_HOSTS, Settings
from dalle3.files.thumbnails import THUMBS_DIR, make_thumbnail, thumbnail_name

log = logging.getLogger("dalle3.library")

__all__ = ["Library", "LibraryAccess", "LibraryEntry", "LibraryError", "LibraryPage", "LibraryQuery",
           "ReconcileProgress", "Spend", "Totals", "fts_query", "library_access"]

BATCH = 256


class LibraryError(DalleError):
    """The library could not answer (its folder is unusable, or the index is being rebuilt)."""

    title = "Library"


@dataclass(frozen=True)
class LibraryAccess:
    """Whether the library may be shown, and why (a sentence for the page and the start-up log)."""

    enabled: bool
    reason: str


def _loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def library_access(settings: Settings, host: str) -> LibraryAccess:
    """On by default only when served on loopback; beyond it, only with DALLE3_LIBRARY=1 and DALLE3_AUTH.

    The library shows every image made on this server, whoever asked for it:
    on a LAN or a Space that is every visitor's prompts, so it needs a login.
    """
    if settings.output_dir is None:
        return LibraryAccess(False, "The library is off: images are not kept (DALLE3_OUTPUT_DIR is empty).")
    if settings.library is False:
        return LibraryAccess(False, "The library is off (DALLE3_LIBRARY=0).")
    if not settings.on_space and _loopback(host):
        return LibraryAccess(True, "The library is on: the page is served on this machine only.")
    where = "a Hugging Face Space" if settings.on_space else host
    if settings.library and settings.auth:
        return LibraryAccess(True, f"The library is on for {where}: DALLE3_LIBRARY=1 and a login (DALLE3_AUTH).")
    need = "DALLE3_AUTH as well" if settings.library else "DALLE3_LIBRARY=1 and DALLE3_AUTH"
    return LibraryAccess(False, f"The library is off: served on {where}, it would show everyone's images to "
                                f"every visitor. To turn it on, set {need}.")


@dataclass(frozen=True)
class ReconcileProgress:
    """Where the reconcile of index and folder stands (files read so far of those that changed)."""

    done: int = 0
    total: int = 0
    finished: bool = False
    added: int = 0
    removed: int = 0


class Library:
    """The index over one output folder. Long-lived, thread-safe; one per process."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            # On an object-storage mount (a Space's Storage Bucket) SQLite cannot lock: the index and
            # thumbnails live on the local disk then, and reconcile rebuilds them from the files at start.
            self.home = index_home(self.root)
            self.index = Index(self.root, self.home)
        except (OSError, sqlite3.Error) as exc:
            raise LibraryError(f"The library cannot keep its index in {self.root}: {exc}. "
                               "Check that the folder exists and is writable.") from None
        self.thumbs = self.home / THUMBS_DIR
        self.progress = ReconcileProgress()
        self._reconciling = threading.Lock()

    def close(self) -> None:
        self.index.close()

    # ----- keeping the index true to the folder

    def record(self, path: Path, parameters: Mapping[str, Any] | None) -> None:
        """Index one image just saved (by Studio). Never raises: reconcile catches up on a failure."""
        try:
            rel = Path(path).resolve().relative_to(self.root.resolve()).as_posix()
            stat = Path(path).stat()
            self.index.upsert([row_for(rel, stat.st_mtime_ns, stat.st_size, parameters)])
        except (OSError, ValueError, sqlite3.Error) as exc:
            log.warning("could not add %s to the library index (%s); the next start picks it up", path, exc)

    def reconcile(self, on_progress: Callable[[ReconcileProgress], None] | None = None) -> ReconcileProgress:
        """Bring the index in line with the files: stat everything, read only what is new or changed.

        Files added, deleted or moved by hand are picked up (a move is a
        delete plus an add). The index snapshot is taken before the walk, so
        an image recorded meanwhile is never mistaken for a deleted one.
        """
        with self._reconciling:
            try:
                return self._reconcile(on_progress)
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise LibraryError(f"The library index is busy or unreadable: {exc}. Try again.") from None
                self.index.rebuild(str(exc))
                return self._reconcile(on_progress)

    def _reconcile(self, on_progress: Callable[[ReconcileProgress], None] | None) -> ReconcileProgress:
        known = self.index.known()
        found = walk(self.root)
        gone = [p for p in known if p not in found and not (self.root / p).exists()]
        todo = sorted(p for p, stat in found.items() if known.get(p) != stat)
        for rel in (*gone, *(p for p in todo if p in known)):  # previews of versions no longer there
            (self.thumbs / thumbnail_name(rel, *known[rel])).unlink(missing_ok=True)
        state = ReconcileProgress(0, len(todo), False, 0, len(gone))
        self._report(state, on_progress)
        if gone:
            self.index.delete(gone)
        for start in range(0, len(todo), BATCH):
            batch = todo[start:start + BATCH]
            rows = [row_for(p, *found[p], read_parameters(self.root / p)) for p in batch]  # reads outside the lock
            self.index.upsert(rows)
            added = state.added + sum(1 for p in batch if p not in known)
            state = ReconcileProgress(start + len(batch), len(todo), False, added, len(gone))
            self._report(state, on_progress)
        state = ReconcileProgress(len(todo), len(todo), True, state.added, len(gone))
        self._report(state, on_progress)
        return state

    def _report(self, state: ReconcileProgress, on_progress: Callable[[ReconcileProgress], None] | None) -> None:
        self.progress = state
        if on_progress is not None:
            on_progress(state)

    def start(self, warm: LibraryQuery | None = LibraryQuery()) -> threading.Thread:
        """Reconcile in a background thread (start-up never waits); ``progress`` tells how far it got.

        Then the previews of ``warm``'s page are made, so the tab's first page is ready when opened.
        """
        def run() -> None:
            try:
                self.reconcile()
                if warm is not None:
                    self.thumbnails(self.search(warm).entries)
            except LibraryError as exc:
                log.warning("library: %s", exc.user_message)
                self.progress = ReconcileProgress(self.progress.done, self.progress.total, True)
            except Exception:  # a bug: a background thread has no one to tell but the log
                log.exception("library reconcile failed")
                self.progress = ReconcileProgress(self.progress.done, self.progress.total, True)

        thread = threading.Thread(target=run, name="library-reconcile", daemon=True)
        thread.start()
        return thread

    def thumbnails(self, entries: tuple[LibraryEntry, ...] | list[LibraryEntry]) -> list[Path | None]:
        """A small WebP preview for each entry (made on first use, two at a time); None where unreadable."""
        def one(entry: LibraryEntry) -> Path | None:
            try:
                stat = entry.path.stat()
            except OSError:
                return None
            target = self.thumbs / thumbnail_name(entry.path.relative_to(self.root).as_posix(), stat.st_mtime_ns,
                                                  stat.st_size)
            return target if target.exists() or make_thumbnail(entry.path, target) else None

        with ThreadPoolExecutor(max_workers=2) as pool:  # Pillow decodes without the GIL
            return list(pool.map(one, entries))

    # ----- answering

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self.index.connection()
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                self.index.rebuild(str(exc))
                self.start()
                raise LibraryError("The library index was damaged; it is being rebuilt from the image files. "
                                   "Try again in a moment.") from None
            raise LibraryError(f"The library index is busy ({exc}). Try again in a moment.") from None

    def search(self, query: LibraryQuery) -> LibraryPage:
        """One page of matching images, newest first."""
        return self.browse(query, with_totals=False)[0]

    def totals(self, query: LibraryQuery) -> Totals:
        """Images and spend of everything the query matches (all pages), by day and by model."""
        return self.browse(query, page=False)[1]

    def browse(self, query: LibraryQuery, page: bool = True, with_totals: bool = True) -> tuple[LibraryPage, Totals]:
        """The page and the totals together, as the page shows them (the count comes from the totals)."""
        where, args = where_clause(query)
        number, per_page = max(1, query.page), max(1, min(query.per_page, 500))
        with self._reading() as conn:
            totals = totals_from(conn.execute(TOTALS_SQL.format(where=where), args)) if with_totals else None
            total = totals.images if totals else conn.execute(f"SELECT count(*) FROM files WHERE {where}",
                                                              args).fetchone()[0]
            rows = conn.execute(f"SELECT {ENTRY_COLUMNS} FROM files WHERE {where} "
                                "ORDER BY created DESC, id DESC LIMIT ? OFFSET ?",
                                [*args, per_page, (number - 1) * per_page]).fetchall() if page else []
        entries = tuple(e for r in rows if (e := self._entry(r)))
        return LibraryPage(entries, total, number, per_page), totals or totals_from([])

    def _entry(self, row: tuple) -> LibraryEntry | None:
        rel = row[1]
        if rel.startswith("/") or ".." in rel.split("/"):  # the index is a file too: never serve outside root
            return None
        created = dt.datetime.fromtimestamp(row[2], dt.timezone.utc)
        model, size, quality, seed, prompt, revised, cost = row[3:10]
        return LibraryEntry(id=row[0], path=self.root / rel, created=created, model=model, size=size, quality=quality,
                            seed=seed, prompt=prompt, revised_prompt=revised, cost_usd=cost, cost_exact=bool(row[10]),
                            parameters_json=row[11])

    def choices(self) -> tuple[list[str], list[str]]:
        """The models and sizes present in the library (for the filter dropdowns)."""
        with self._reading() as conn:
            models = [m for (m,) in conn.execute(
                "SELECT DISTINCT model FROM files WHERE ours = 1 AND model IS NOT NULL ORDER BY model")]
            sizes = [s for (s,) in conn.execute(
                "SELECT DISTINCT size FROM files WHERE ours = 1 AND size IS NOT NULL ORDER BY size")]
        return models, sizes

    def entry(self, entry_id: int) -> LibraryEntry | None:
        """One image by its id (what a click on the grid names)."""
        with self._reading() as conn:
            row = conn.execute(f"SELECT {ENTRY_COLUMNS} FROM files WHERE id = ? AND ours = 1",
                               (int(entry_id),)).fetchone()
        return self._entry(row) if row else None
