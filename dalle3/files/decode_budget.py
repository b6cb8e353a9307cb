"""How many pixels this process decodes from images that come in: per edit, and at any one moment.

A 155 KB PNG can declare 40 million pixels (the most :data:`dalle3.files.images.MAX_PIXELS`
lets in); decoding it costs 40-160 MB and a second or more of CPU. So an edit is
measured from its files' headers first, which costs nothing: the pixels it would
decode are summed and refused above :data:`MAX_PIXELS_PER_CALL` before one is
decoded. Then each decode holds its pixel count in the process's one
:class:`DecodeBudget` of :data:`PIXELS_AT_ONCE`: edits arriving together take turns
instead of adding up, and a wait longer than :data:`WAIT_S` ends in a plain
"busy" message. A JPEG counts at the scale libjpeg decodes it (``draft``), which
is what is decoded; a file sent as it is (no conversion, no scaling) counts zero.

After a large decode, the freed memory is handed back to the system: glibc
otherwise keeps the heap it grew, and the process stays large long after.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from contextlib import contextmanager
from typing import Iterator

from dalle3.errors import BusyError
from dalle3.files.images import MAX_PIXELS

#: The most pixels one edit (its references, mask and markup together) may decode: sixteen
#: 2048 x 2048 references is 67 million, four 12-megapixel photos decoded at half scale 12 million.
MAX_PIXELS_PER_CALL = 80_000_000
#: The most pixels decoded at one moment in this process, whoever asked: one image of the largest size.
PIXELS_AT_ONCE = MAX_PIXELS
WAIT_S = 120.0
_TRIM_ABOVE = 4_000_000  # pixels: below this, what a decode frees is reused, not worth a trim


class DecodeBudget:
    """A count of pixels being decoded; :meth:`hold` waits until there is room (thread-safe)."""

    def __init__(self, pixels_at_once: int = PIXELS_AT_ONCE, wait_s: float = WAIT_S) -> None:
        self.capacity = pixels_at_once
        self.wait_s = wait_s
        self.in_use = 0
        self.peak = 0  # the most held at once since start: what tests and the bench read
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        """Hold ``pixels`` of the budget while decoding; one image larger than it all runs alone."""
        pixels = max(0, min(pixels, self.capacity))
        with self._cond:
            if not self._cond.wait_for(lambda: self.in_use + pixels <= self.capacity, timeout=self.wait_s):
                raise BusyError("The server is busy opening other large images right now. Try again in a "
                                "minute, or use smaller images.")
            self.in_use += pixels
            self.peak = max(self.peak, self.in_use)
        try:
            yield
        finally:
            with self._cond:
                self.in_use -= pixels
                self._cond.notify_all()
            if pixels >= _TRIM_ABOVE:
                give_back_memory()


#: The process's one budget: every decode of an incoming image holds part of it.
DECODING = DecodeBudget()


def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to hand back this way
        return None


_TRIM = _malloc_trim()


def give_back_memory() -> None:
    """Return freed heap pages to the system where the C library allows it (glibc's ``malloc_trim``)."""
    if _TRIM is not None:
        _TRIM(0)
