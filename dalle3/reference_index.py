"""Finding an edit's references again by their content hash, in the outputs folder.

An edited PNG records its references as sha256 hashes (never pixels). To
restore the edit, the files with those hashes are looked up among the images
under the outputs folder: each file is hashed once and remembered by path,
size and modification time, so a second restore costs a ``stat`` per file.
Bounded: at most :data:`MAX_FILES` files are looked at per search and
:data:`MAX_REMEMBERED` hashes kept. (When ``dalle3/library.py`` lands with its
index of every image, this should ask it instead of walking the folder.)
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from dalle3.edits import safe_name

MAX_FILES = 5000
MAX_REMEMBERED = 20000
MAX_FILE_BYTES = 64 * 1024 * 1024
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FoundReferences:
    """Which of an edit's references were found (in their order) and which are missing."""

    found: tuple[Path, ...]
    missing: tuple[str, ...]
    names: Mapping[str, str] = field(default_factory=dict)  # sha256 -> file name, where the image recorded one

    def message(self) -> str:
        """A sentence for the status line."""
        total = len(self.found) + len(self.missing)
        if not total:
            return ""
        if not self.missing:
            return f"All {total} reference image{'s' if total != 1 else ''} found in the outputs folder."
        short = ", ".join(f"{self.names[h]} ({h[:12]})" if self.names.get(h) else h[:12] for h in self.missing)
        return (f"{len(self.found)} of {total} reference images found in the outputs folder; missing "
                f"(file name and content hash): {short}. Add those images again to repeat the edit.")


def wanted_hashes(parameters: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The reference hashes a PNG's parameters name; anything not shaped like a sha256 is ignored."""
    refs = (parameters or {}).get("references")
    if not isinstance(refs, list):
        return ()
    return tuple(h for h in refs[:16] if isinstance(h, str) and _SHA256.match(h))


class ReferenceIndex:
    """sha256 -> path for the images under ``folder``; thread-safe, bounded."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seen: OrderedDict[Path, tuple[int, int, str]] = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, path: Path) -> str | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        if stat.st_size > MAX_FILE_BYTES:
            return None
        with self._lock:
            known = self._seen.get(path)
        if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        with self._lock:
            self._seen[path] = (stat.st_mtime_ns, stat.st_size, digest)
            self._seen.move_to_end(path)
            while len(self._seen) > MAX_REMEMBERED:
                self._seen.popitem(last=False)
        return digest

    def _files(self) -> Iterable[Path]:
        if not self.folder.is_dir():
            return []
        files = (p for p in self.folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
                 and not p.name.startswith("."))
        return (p for _, p in zip(range(MAX_FILES), files))

    def find(self, hashes: Iterable[str]) -> FoundReferences:
        """Look the hashes up; stops walking as soon as every one is found."""
        wanted = list(dict.fromkeys(hashes))
        where: dict[str, Path] = {}
        if wanted:
            for path in self._files():
                digest = self._digest(path)
                if digest in wanted and digest not in where:
                    where[digest] = path
                    if len(where) == len(wanted):
                        break
        found = tuple(where[h] for h in wanted if h in where)
        return FoundReferences(found, tuple(h for h in wanted if h not in where))

    def restore(self, parameters: Mapping[str, Any] | None) -> FoundReferences:
        """The references a PNG's parameters name, found or missing (with their file names where recorded)."""
        hashes = wanted_hashes(parameters)
        found = self.find(hashes)
        names = (parameters or {}).get("reference_names")
        if not isinstance(names, list):
            return found
        recorded = {h: safe_name(n) for h, n in zip(hashes, names[:len(hashes)]) if isinstance(n, str)}
        return FoundReferences(found.found, found.missing, recorded)
