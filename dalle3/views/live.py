"""One generation as a stream of things to show: previews as they arrive, then the result.

A page that shows previews needs a generator (Gradio sends each value it
yields), but :meth:`dalle3.studio.Studio.generate` calls back on its own thread.
:func:`live` runs the generation on a worker thread and yields from a queue,
throttled: when previews come faster than ``min_interval_s`` only the newest
is shown, and a preview still waiting when the result comes is dropped.

If the consumer stops early (the visitor left), the worker still finishes:
the image is paid for, so it is saved and cached, and asking again returns it
at no cost.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable, Iterator, TypeVar

from dalle3.http import stopping
from dalle3.params import GenerationRequest
from dalle3.results import GenerationResult, Preview
from dalle3.studio import Studio

MIN_INTERVAL_S = 0.25  # a browser gains nothing from more than a few images a second
T = TypeVar("T")


def live(studio: Studio, request: GenerationRequest, own_key: str | None = None, previews: int = 1,
         min_interval_s: float = MIN_INTERVAL_S,
         clock: Callable[[], float] = time.monotonic) -> Iterator[Preview | GenerationResult]:
    """Yield :class:`Preview` s, then the :class:`GenerationResult`; a DalleError is raised here."""
    return live_call(lambda on_preview: studio.generate(request, own_key, previews, on_preview),
                     min_interval_s, clock)


def live_call(call: Callable[[Callable[[Preview], None]], T], min_interval_s: float = MIN_INTERVAL_S,
              clock: Callable[[], float] = time.monotonic) -> Iterator[Preview | T]:
    """Run ``call(on_preview)`` on a worker thread; yield its previews (throttled), then what it returns."""
    events: queue.Queue[tuple[str, object]] = queue.Queue()
    handle = stopping.current()  # the caller's Stop reaches the call made on the worker thread

    def work() -> None:
        try:
            with stopping.bound(handle):
                result = call(lambda p: events.put(("preview", p)))
            events.put(("result", result))
        except BaseException as exc:  # handed to the consumer's thread, raised there
            events.put(("error", exc))

    threading.Thread(target=work, name="dalle3-live", daemon=True).start()
    shown_at = float("-inf")
    waiting: Preview | None = None
    while True:
        timeout = None if waiting is None else max(0.0, shown_at + min_interval_s - clock())
        try:
            kind, value = events.get(timeout=timeout)
        except queue.Empty:
            kind, value = "due", waiting  # the held-back preview's turn has come
        if kind == "error":
            raise value  # type: ignore[misc]
        if kind == "result":
            yield value  # type: ignore[misc]
            return
        if kind == "preview" and clock() - shown_at < min_interval_s:
            waiting = value  # type: ignore[assignment]
            continue
        shown_at, waiting = clock(), None
        yield value  # type: ignore[misc]
