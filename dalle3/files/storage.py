"""Saving images: never overwrite, never leave half a file, safe names.

Files are written to a temporary name in the same folder, flushed, then
*linked* to their final name: ``os.link`` fails if the name exists, so two
concurrent saves of the same prompt and seed cannot overwrite each other, and
a crash before the link leaves only a ``.tmp`` file that no one mistakes for
an image.

Object-storage mounts (a Storage Bucket on a Space, see :mod:`dalle3.files.mounts`)
refuse hard links: there the finished temporary file is *renamed* to a name
that does not exist yet, checked and renamed under one lock, so saves in this
process never overwrite each other (a Space runs one process), and nothing is
ever rewritten in place.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Iterator

from dalle3.files.containers import IMAGE_SUFFIXES

MAX_STEM = 60
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def slug(prompt: str, words: int = 6) -> str:
    """The first words of ``prompt`` as a safe ASCII file-name stem."""
    ascii_text = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode("ascii")
    parts = re.findall(r"[a-z0-9]+", ascii_text.lower())[:words]
    stem = "-".join(parts)[:MAX_STEM].strip("-") or "image"
    return f"_{stem}" if stem in _RESERVED else stem


def _names(folder: Path, stem: str, suffix: str) -> Iterator[Path]:
    """``stem{suffix}``, then ``stem-2{suffix}``, ``-3``... (a bounded number of tries)."""
    for attempt in range(1, 10_000):
        yield folder / f"{stem}{suffix if attempt == 1 else f'-{attempt}{suffix}'}"


def atomic_write_new(folder: Path, stem: str, data: bytes, suffix: str = ".png") -> Path:
    """Write ``data`` to ``folder/stem{suffix}`` (or ``stem-2``, ``-3``...) without overwriting."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)  # no fsync: a process crash cannot tear a closed file, and speed matters here
        for target in _names(folder, stem, suffix):
            try:
                os.link(tmp, target)
                return target
            except FileExistsError:
                continue
            except OSError:  # no hard links on this file system (an object-storage mount)
                return _rename_to_new(tmp, folder, stem, suffix)
        raise FileExistsError(f"no free name for {stem} in {folder}")
    finally:
        Path(tmp).unlink(missing_ok=True)


_RENAMING = threading.Lock()


def _rename_to_new(tmp: str, folder: Path, stem: str, suffix: str) -> Path:
    """Rename ``tmp`` to the first free ``stem{suffix}`` / ``stem-N{suffix}`` in ``folder``, never over a file."""
    with _RENAMING:
        for target in _names(folder, stem, suffix):
            if not os.path.lexists(target):
                os.rename(tmp, target)
                return target
    raise FileExistsError(f"no free name for {stem} in {folder}")


def save_image(image: bytes, output_dir: Path, prompt: str, seed: int, when: dt.date | None = None,
               suffix: str = ".png", batch: tuple[int, int] | None = None) -> Path:
    """Save under ``output_dir/YYYY-MM-DD/`` with a name from the prompt and seed (``suffix`` per format,
    ``_2of4`` for an image of a batch)."""
    day = (when or dt.date.today()).isoformat()
    part = f"_{batch[0] + 1}of{batch[1]}" if batch else ""
    return atomic_write_new(output_dir / day, f"{slug(prompt)}_seed{seed}{part}", image, suffix)


def atomic_replace(path: Path, data: bytes) -> None:
    """Overwrite ``path`` all at once (for small state files such as the spend ledger)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def image_files(root: Path) -> Iterator[tuple[str, str, int, int]]:
    """Every image file under ``root`` as (relative path, path, mtime_ns, size); stat only, no reads.

    The one walk of the outputs folder (the library's reconcile and the reference lookup both
    use it). Hidden names are skipped: ``.tmp`` files being written, the index, the ledger and
    ``.thumbnails/``. Symlinked folders are not followed. Lazy: a caller may stop early.
    """
    base = len(str(root)) + 1
    stack = [str(root)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.name.lower().endswith(IMAGE_SUFFIXES) and entry.is_file():
                        stat = entry.stat()
                        yield entry.path[base:].replace(os.sep, "/"), entry.path, stat.st_mtime_ns, stat.st_size
                except OSError:
                    continue
