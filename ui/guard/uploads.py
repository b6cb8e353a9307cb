"""How many files, and how many bytes, one request and one visitor may leave on this server.

Gradio bounds one uploaded file (``launch(max_file_size=...)``) but not how many a request
carries (up to 1,000) nor what a visitor uploads in total; everything stays in its cache for a
day. Here a request to ``/gradio_api/upload`` is bounded in bytes (from ``Content-Length``,
before reading) and in files (counted in the multipart body before Gradio writes any), and
each visitor — the client address, as the login throttle sees it — may upload at most
``DALLE3_VISITOR_UPLOAD_MB`` (256 MB by default) a day, counting data URLs sent to ``/edit`` too.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque

from dalle3.models.edit_rules import MAX_REFERENCES

MAX_FILES_PER_REQUEST = MAX_REFERENCES  # an edit's references (a mask or markup is an upload of its own)
MAX_REQUEST_BYTES = 64 * 1024 * 1024
VISITOR_WINDOW_S = 24 * 3600  # as long as Gradio keeps an upload (delete_cache)
MAX_VISITORS = 20_000

_BOUNDARY = re.compile(rb'boundary="?([^";,\s]{1,200})"?', re.IGNORECASE)


def multipart_files(content_type: bytes, body: bytes) -> int | None:
    """How many parts ``body`` holds (None when it is not a readable multipart body)."""
    match = _BOUNDARY.search(content_type)
    if not content_type.lower().startswith(b"multipart/form-data") or match is None:
        return None
    delimiter = b"--" + match.group(1)
    parts = body.count(b"\r\n" + delimiter) + (1 if body.startswith(delimiter) else 0)
    return max(0, parts - 1)  # the closing delimiter ends the last part


class Allowance:
    """How much of something (bytes uploaded, sessions opened) each visitor used over the last ``window_s``."""

    def __init__(self, limit: int, window_s: float = VISITOR_WINDOW_S) -> None:
        self.limit, self.window_s = limit, window_s
        self._sent: OrderedDict[str, deque[tuple[float, int]]] = OrderedDict()

    def used(self, visitor: str) -> int:
        entries = self._sent.get(visitor)
        if entries is None:
            return 0
        cutoff = time.monotonic() - self.window_s
        while entries and entries[0][0] < cutoff:
            entries.popleft()
        return sum(size for _, size in entries)

    def take(self, visitor: str, size: int) -> bool:
        """Count ``size`` for ``visitor``; False (nothing counted) when that passes the limit."""
        if self.used(visitor) + size > self.limit:
            return False
        self._sent.setdefault(visitor, deque()).append((time.monotonic(), size))
        self._sent.move_to_end(visitor)
        while len(self._sent) > MAX_VISITORS:
            self._sent.popitem(last=False)
        return True




def over_budget(limit: int) -> str:
    return (f"You have uploaded {limit // 2**20} MB to this server today, its limit per visitor: "
            "try again tomorrow, or run dalle3 studio yourself.")
