"""One quiet line, not a traceback, when a visitor goes away in the middle of a request.

Closing a tab while a file uploads makes Starlette raise ``ClientDisconnect`` inside Gradio's
upload route; nothing catches it, so uvicorn logs "Exception in ASGI application" with a
~75-line traceback, once per interrupted request. It is not a fault of the server (the
partial upload is dropped), and a log full of them hides real ones. Neither Gradio nor
uvicorn offers a setting for it, and the route is Gradio's own, so a logging filter on
uvicorn's error logger rewrites exactly that record — an exception whose causes are all
``ClientDisconnect`` — into one INFO line. Every other error keeps its traceback.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect

DISCONNECT_LINE = "A visitor closed the connection in the middle of a request (an upload, usually); it was dropped."


def _only_disconnects(error: BaseException | None) -> bool:
    """``error`` is a ClientDisconnect, or a group (as anyio raises them) holding nothing else."""
    if isinstance(error, ClientDisconnect):
        return True
    inner = getattr(error, "exceptions", None)  # BaseExceptionGroup, without naming it (Python 3.10 has none)
    return isinstance(inner, (list, tuple)) and bool(inner) and all(_only_disconnects(e) for e in inner)


class QuietDisconnects(logging.Filter):
    """Turns a logged ClientDisconnect traceback into :data:`DISCONNECT_LINE` at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and _only_disconnects(record.exc_info[1]):
            record.msg, record.args = DISCONNECT_LINE, ()
            record.exc_info, record.exc_text, record.stack_info = None, None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def quiet_disconnects() -> None:
    """Install the filter on uvicorn's error logger (once, however often the page is built)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, QuietDisconnects) for f in logger.filters):
        logger.addFilter(QuietDisconnects())
