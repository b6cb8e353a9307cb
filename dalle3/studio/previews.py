"""Previews on disk: each rough image of a streamed call written to a temporary folder, old ones swept.

A preview is shown once and never stands as the result (only the final image is saved,
with its parameters), so it is written outside the outputs folder, under a name no other
process or thread uses, and removed once it is older than ``PREVIEW_MAX_AGE_S``.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from dalle3.files.storage import atomic_write_new
from dalle3.results import Preview

PREVIEW_MAX_AGE_S = 15 * 60  # preview files older than this are removed when new ones are written


class PreviewFolder:
    """The folder the previews of every call of this process are written to (thread-safe)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def writer(self, seed: int, on_preview: Callable[[Preview], None]) -> Callable[[Preview], None]:
        """A callback for a stream: writes each preview's image, then hands it on with its ``path``."""
        self.sweep()
        stem = f"preview-{os.getpid()}-{threading.get_ident()}-{seed}"

        def write(preview: Preview) -> None:
            path = atomic_write_new(self.directory, f"{stem}-{preview.number}", preview.image)
            on_preview(replace(preview, path=path))

        return write

    def sweep(self) -> None:
        """Remove the previews older than ``PREVIEW_MAX_AGE_S``, so the folder stays small."""
        cutoff = time.time() - PREVIEW_MAX_AGE_S
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                pass
