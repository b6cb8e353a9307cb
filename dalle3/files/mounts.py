"""Output folders on object-storage mounts, and where the library's index lives then.

On a Hugging Face Space the outputs survive a restart only on a Storage Bucket
mounted as a volume. Such mounts (hf-mount, like gcsfuse or s3fs) are FUSE file
systems over object storage: no hard links, no file locks (SQLite on them reports
"database is locked"), writes streamed append-only, reads up to 10-30 s stale. So
on such a folder the images are written without hard links (see
:mod:`dalle3.files.storage`) and the SQLite index and thumbnails, which are caches the
files can rebuild, live on the local disk instead and are rebuilt from the files
at start: the files stay the source of truth.

A folder counts as such a mount when the kernel says it is on a FUSE file system,
or when a hard link cannot be made in it (tried once per folder per process).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import tempfile
import uuid
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")
LOCAL_HOME = "dalle3-library"  # under the temp folder: the local home of a mounted folder's index


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def filesystem_type(folder: Path, mountinfo: Path = MOUNTINFO) -> str | None:
    """The type of the file system ``folder`` is on (``ext4``, ``fuse.hf-mount``...), None when unknown."""
    try:
        lines = mountinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    path = str(folder.resolve())
    best, kind = "", None
    for line in lines:
        fields = line.split(" ")
        if " - " not in line or len(fields) < 5:
            continue
        point = _unescape(fields[4])
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, line.split(" - ", 1)[1].split(" ", 1)[0]
    return kind


def links_fail(folder: Path) -> bool:
    """True when a hard link cannot be made in ``folder`` (it must exist and be writable)."""
    probe = folder / f".link-probe-{uuid.uuid4().hex}"
    twin = probe.with_name(probe.name + "-2")
    try:
        probe.touch(exist_ok=False)
    except OSError:
        return False  # not writable at all: the save will say so in its own words
    try:
        os.link(probe, twin)
    except OSError as exc:
        return exc.errno != errno.EEXIST
    else:
        twin.unlink(missing_ok=True)
        return False
    finally:
        probe.unlink(missing_ok=True)


@functools.lru_cache(maxsize=32)
def _is_object_mount(resolved: str) -> bool:
    folder = Path(resolved)
    kind = filesystem_type(folder) or ""
    return kind == "fuse" or kind.startswith("fuse.") or links_fail(folder)


def is_object_mount(folder: Path) -> bool:
    """True when ``folder`` is on a FUSE mount or cannot hold hard links (``folder`` is created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    return _is_object_mount(str(folder.resolve()))


def index_home(root: Path) -> Path:
    """Where the index and thumbnails of ``root`` live: beside the images, or on the local disk for a mount."""
    if not is_object_mount(root):
        return root
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    home = Path(tempfile.gettempdir()) / LOCAL_HOME / key
    home.mkdir(parents=True, exist_ok=True)
    return home
