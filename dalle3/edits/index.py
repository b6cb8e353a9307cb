"""Finding an edit's references again by their content hash, in the outputs folder.

An edited PNG records its references as sha256 hashes (never pixels). To
restore the edit, the files with those hashes are looked up among the images
under the outputs folder: each file is hashed once and remembered by path,
size and modification time, so a second restore costs a ``stat`` per file.
Bounded: at most :data:`MAX_FILES` files are looked at per search and
:data:`MAX_REMEMBERED` hashes kept. The walk is the library's own
(:func:`dalle3.files.storage.image_files`): hidden names such as ``.thumbnails/``
are never hashed, so the budget goes to images. It works with the library off.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from itertools import islice
from typing import Any, Iterable, Mapping

from dalle3.edits.inputs import safe_name
from dalle3.files.containers import IMAGE_SUFFIXES
from dalle3.files.images import MAX_FILE_BYTES
from dalle3.models.edit_rules import MAX_REFERENCES
from dalle3.files.storage import image_files

MAX_FILES = 5000
MAX_REMEMBERED = 20000
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FoundReferences:
    """Which of an edit's references were found (in their order) and which are missing."""

    found: tuple[Path, ...]
    missing: tuple[str, ...]
    where: str = "in the outputs folder"  # what was searched, as the status line says it
    names: Mapping[str, str] = field(default_factory=dict)  # sha256 -> file name, where the image recorded one

    def message(self) -> str:
        """A sentence for the status line."""
        total = len(self.found) + len(self.missing)
        if not total:
            return ""
        if not self.missing:
            return f"All {total} reference image{'s' if total != 1 else ''} found {self.where}."
        short = ", ".join(f"{self.names[h]} ({h[:12]})" if self.names.get(h) else h[:12] for h in self.missing)
        return (f"{len(self.found)} of {total} reference images found {self.where}; missing "
                f"(file name and content hash): {short}. Add those images again to repeat the edit.")


def wanted_hashes(parameters: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The reference hashes a PNG's parameters name; anything not shaped like a sha256 is ignored."""
    refs = (parameters or {}).get("references")
    if not isinstance(refs, list):
        return ()
    return tuple(h for h in refs[:MAX_REFERENCES] if isinstance(h, str) and _SHA256.match(h))


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
        return (Path(path) for _, path, _, _ in islice(image_files(self.folder), MAX_FILES))

    def find(self, hashes: Iterable[str], within: Iterable[Path] | None = None) -> FoundReferences:
        """Look the hashes up; stops walking as soon as every one is found.

        ``within``: only these files are looked at (what one visitor made or added), not the
        whole folder; None: every image under the folder.
        """
        wanted = list(dict.fromkeys(hashes))
        where: dict[str, Path] = {}
        candidates = self._files() if within is None else _images(within)
        if wanted:
            for path in candidates:
                digest = self._digest(path)
                if digest in wanted and digest not in where:
                    where[digest] = path
                    if len(where) == len(wanted):
                        break
        found = tuple(where[h] for h in wanted if h in where)
        return FoundReferences(found, tuple(h for h in wanted if h not in where),
                               *(() if within is None else (SESSION_SCOPE,)))

    def restore(self, parameters: Mapping[str, Any] | None, within: Iterable[Path] | None = None) -> FoundReferences:
        """The references a PNG's parameters name, found or missing (``within``: as :meth:`find`), with
        their file names where the image recorded them — only where the whole folder may be searched
        (``within`` None): a name made here carries its prompt's words, which another visitor's
        shared edit must not show."""
        hashes = wanted_hashes(parameters)
        found = self.find(hashes, within)
        names = (parameters or {}).get("reference_names")
        if not isinstance(names, list) or within is not None:
            return found
        recorded = {h: safe_name(n) for h, n in zip(hashes, names[:len(hashes)]) if isinstance(n, str)}
        return replace(found, names=recorded)


SESSION_SCOPE = "among the images made or added in this browser session"


def _images(paths: Iterable[Path]) -> Iterable[Path]:
    """The image files among ``paths`` (at most :data:`MAX_FILES`), each once."""
    unique = dict.fromkeys(p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES)
    return (p for _, p in zip(range(MAX_FILES), unique))
