"""The library's SQLite index: one row per image file under the output folder.

Why an index: finding a word among 10,000 PNGs by opening each costs seconds;
SQLite's FTS5 answers in milliseconds, and Python ships it (``sqlite3``).
The files stay the source of truth: a row holds only what can be read back
from its file, keyed by (path, mtime, size), so the index can be deleted at
any time and is rebuilt; a damaged one is set aside and rebuilt, never fatal.

Writes come from many generations at once and from the start-up reconcile:
WAL mode (readers never wait for the writer), one connection per thread, a
busy timeout for other processes (the CLI), and one lock for this process's
writers so they queue instead of retrying.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping

from dalle3.http.deployments import NAME_PATTERN as DEPLOYMENT_NAME
from dalle3.files.storage import image_files
from dalle3.models import MODEL_ID_PATTERN, parse_size, resolve
from dalle3.params import SEED_MAX
from dalle3.models.pricing import estimate

log = logging.getLogger("dalle3.library")

INDEX_NAME = ".library.sqlite3"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 10.0
MAX_TEXT = 32_000  # the longest prompt any model takes
MAX_COST_USD = 1_000.0

_WORD = re.compile(r"[a-z]{1,16}")

COLUMNS = ("path", "mtime_ns", "bytes", "ours", "created", "model", "size", "quality", "seed",
           "prompt", "revised_prompt", "cost_usd", "cost_exact", "parameters")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS files(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,        -- relative to the output folder, with /
  mtime_ns INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  ours INTEGER NOT NULL,            -- 1: the file carries our parameters
  created REAL,                     -- unix seconds: the parameters' `created`, else the file's mtime
  model TEXT, size TEXT, quality TEXT, seed INTEGER,
  prompt TEXT, revised_prompt TEXT,
  cost_usd REAL, cost_exact INTEGER,
  parameters TEXT                   -- the checked parameters as JSON
);
CREATE INDEX IF NOT EXISTS files_newest ON files(ours, created DESC, id DESC);
CREATE INDEX IF NOT EXISTS files_totals ON files(ours, created, model, size, cost_usd, cost_exact);  -- covers the totals
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5(prompt, revised_prompt, content='files',
  content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS files_ai AFTER INSERT ON files BEGIN
  INSERT INTO words(rowid, prompt, revised_prompt) VALUES (new.id, new.prompt, new.revised_prompt);
END;
CREATE TRIGGER IF NOT EXISTS files_ad AFTER DELETE ON files BEGIN
  INSERT INTO words(words, rowid, prompt, revised_prompt) VALUES ('delete', old.id, old.prompt, old.revised_prompt);
END;
CREATE TRIGGER IF NOT EXISTS files_au AFTER UPDATE ON files BEGIN
  INSERT INTO words(words, rowid, prompt, revised_prompt) VALUES ('delete', old.id, old.prompt, old.revised_prompt);
  INSERT INTO words(rowid, prompt, revised_prompt) VALUES (new.id, new.prompt, new.revised_prompt);
END;
PRAGMA user_version = {SCHEMA_VERSION};
"""
_UPSERT = (f"INSERT INTO files({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
           f"ON CONFLICT(path) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in COLUMNS[1:])}")


def is_damage(exc: BaseException) -> bool:
    """True for errors that mean the file is not a usable index (as opposed to "busy")."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_TEXT else None


def _match(pattern: re.Pattern[str], value: Any) -> str | None:
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


def _created(value: Any, fallback: float) -> float:
    if isinstance(value, str) and len(value) <= 40:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
    return fallback


def _cost(parameters: Mapping[str, Any], model: str | None, quality: str | None,
          size: str | None) -> tuple[float | None, bool]:
    """The stored cost; for PNGs made before costs were stored, the table's figure (marked inexact)."""
    usd = parameters.get("cost_usd")
    if isinstance(usd, (int, float)) and not isinstance(usd, bool) and math.isfinite(usd) \
            and 0 <= usd <= MAX_COST_USD:
        return float(usd), parameters.get("cost_exact") is True
    if parameters.get("backend") == "simulator":
        return 0.0, True
    profile = resolve(model) if model else None
    price = estimate(profile, quality, size) if profile and quality and size else None
    return (price.usd, False) if price else (None, False)


def row_for(rel: str, mtime_ns: int, nbytes: int, parameters: Mapping[str, Any] | None) -> tuple:
    """The row for one file; ``parameters`` (text from outside) is checked field by field."""
    mtime = mtime_ns / 1e9
    prompt = _text(parameters.get("prompt")) if parameters else None
    if parameters is None or prompt is None:
        return (rel, mtime_ns, nbytes, 0, mtime, None, None, None, None, None, None, None, None, None)
    model = _match(MODEL_ID_PATTERN, parameters.get("model")) or _match(DEPLOYMENT_NAME, parameters.get("model"))
    asked = parameters.get("size")
    size = asked if isinstance(asked, str) and (asked == "auto" or parse_size(asked)) else None
    quality = _match(_WORD, parameters.get("quality"))
    seed = parameters.get("seed")
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= SEED_MAX else None
    usd, exact = _cost(parameters, model, quality, size)
    return (rel, mtime_ns, nbytes, 1, _created(parameters.get("created"), mtime), model, size, quality, seed,
            prompt, _text(parameters.get("revised_prompt")), usd, int(exact),
            json.dumps(dict(parameters), ensure_ascii=False))


def walk(root: Path) -> dict[str, tuple[int, int]]:
    """Every image file under ``root`` (relative path -> (mtime_ns, size)); see :func:`image_files`."""
    return {rel: (mtime_ns, size) for rel, _, mtime_ns, size in image_files(root)}


class Index:
    """The index file (beside the images, or in ``home`` on the local disk): connections, schema, rows in and out."""

    def __init__(self, root: Path, home: Path | None = None) -> None:
        self.root = root
        self.path = (home or root) / INDEX_NAME
        self._local = threading.local()
        self._write = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._epoch = 0  # bumped when the file is replaced, so every thread reconnects
        self._epoch_lock = threading.Lock()
        root.mkdir(parents=True, exist_ok=True)
        try:
            self._ensure_schema(self.connection())
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            self.rebuild(f"{exc}")

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise sqlite3.DatabaseError(f"index schema {version}, expected {SCHEMA_VERSION}")
        if version == 0:
            with self._write:
                conn.executescript(SCHEMA)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use, in WAL mode)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.epoch == self._epoch:
            return conn
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL keeps the file consistent; a power cut may lose the last rows, which reconcile restores
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError:
            conn.close()
            raise
        with self._epoch_lock:
            self._all.append(conn)
        self._local.conn, self._local.epoch = conn, self._epoch
        return conn

    def rebuild(self, why: str) -> None:
        """Throw the index file away and start an empty one (reconcile refills it from the files)."""
        log.warning("library index %s is unusable (%s); rebuilding it from the image files", self.path, why)
        with self._epoch_lock:
            self._epoch += 1
            old, self._all = self._all, []
        for conn in old:
            conn.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self._ensure_schema(self.connection())

    def close(self) -> None:
        with self._epoch_lock:
            self._epoch += 1
            old, self._all = self._all, []
        for conn in old:
            conn.close()

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction at a time from this process; other processes wait on the busy timeout."""
        conn = self.connection()
        with self._write:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def upsert(self, rows: list[tuple]) -> None:
        with self.writing() as conn:
            conn.executemany(_UPSERT, rows)

    def delete(self, paths: list[str]) -> None:
        with self.writing() as conn:
            conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])

    def known(self) -> dict[str, tuple[int, int]]:
        """Every indexed path -> (mtime_ns, size)."""
        rows = self.connection().execute("SELECT path, mtime_ns, bytes FROM files")
        return {path: (mtime, size) for path, mtime, size in rows}
