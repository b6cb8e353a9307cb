"""Stopping a call the visitor no longer wants: the HTTP request is abandoned, not merely unwatched.

A Stop button in a web page cannot interrupt a thread blocked in ``requests`` (Gradio's own
cancel stops only its asyncio task). So each call runs with a :class:`StopHandle` bound to its
thread; the HTTP connections the call opens register with that handle, and :meth:`StopHandle.stop`
shuts their sockets down, which ends the blocked read at once with an error. The client then
raises :class:`StoppedError`, whose ``abandoned`` says whether the request had been sent (and so
may still be billed): the spend cap keeps the reservation of such a call, as for a timeout.

:func:`stoppable` runs a generator on a worker thread bound to a handle and stops waiting for it
the moment the handle is stopped, whatever the worker is doing (drawing in the simulator,
waiting behind an identical request).
"""

from __future__ import annotations

import queue
import socket
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from dalle3.errors import DalleError

T = TypeVar("T")
_local = threading.local()

SENT_MESSAGE = ("You stopped the call after it reached the API, so it may still be billed "
                "(a spending cap keeps counting it). The previous image stays; Generate is ready again.")
UNSENT_MESSAGE = "You stopped the call before it reached the API: nothing is billed. Generate is ready again."
SIMULATED_MESSAGE = "You stopped the simulated image: nothing is sent or billed. Generate is ready again."


class StoppedError(DalleError):
    """The visitor stopped the call; ``abandoned`` when it had been sent (it may be billed)."""

    title = "Stopped"


def stopped_error(sent: bool) -> StoppedError:
    return StoppedError(SENT_MESSAGE if sent else UNSENT_MESSAGE, abandoned=sent)


class StopHandle:
    """One call's Stop: thread-safe; stopping twice is harmless; it cannot be un-stopped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = False
        self._connections: set[HTTPConnection] = set()
        self._listeners: list[Callable[[], None]] = []
        self.sent = False  # a request went out on a connection of this call

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            connections, listeners = list(self._connections), list(self._listeners)
        for connection in connections:
            _shut(connection)
        for listener in listeners:
            listener()

    def on_stop(self, listener: Callable[[], None]) -> None:
        with self._lock:
            if not self._stopped:
                self._listeners.append(listener)
                return
        listener()

    def check(self) -> None:
        """Raise :class:`StoppedError` once stopped (before a new attempt, before a retry's wait)."""
        if self._stopped:
            raise stopped_error(self.sent)

    def _sending(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.add(connection)
            self.sent = True
            stopped = self._stopped
        if stopped:
            _shut(connection)

    def _release(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.discard(connection)


def _shut(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed: nothing left to abandon
            pass


def current() -> StopHandle | None:
    """The handle bound to this thread, if any."""
    return getattr(_local, "handle", None)


@contextmanager
def bound(handle: StopHandle | None) -> Iterator[None]:
    """Bind ``handle`` to this thread for the block (None: nothing to bind)."""
    previous = current()
    _local.handle = handle
    try:
        yield
    finally:
        _local.handle = previous


class _Tracked:
    """A connection that tells the calling thread's handle when it sends (pooled connections move
    between calls: the newest caller owns it, so stopping an old call never touches a new one)."""

    _stop_handle: StopHandle | None = None

    def request(self, *args: Any, **kwargs: Any) -> Any:
        handle, before = current(), self._stop_handle
        if before is not None and before is not handle:
            before._release(self)  # type: ignore[arg-type]
        self._stop_handle = handle
        if handle is not None:
            handle.check()
            handle._sending(self)  # type: ignore[arg-type]
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _Connection(_Tracked, HTTPConnection):
    pass


class _TLSConnection(_Tracked, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


class StoppableAdapter(HTTPAdapter):
    """requests' adapter whose connections a :class:`StopHandle` can shut down."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}


def stoppable(make: Callable[[], Iterator[T]], handle: StopHandle) -> Iterator[T]:
    """``make()``'s items, produced on a worker thread bound to ``handle``; ends at once when stopped.

    An exception in the worker is raised here. After a stop the worker is left to end by itself
    (its HTTP call fails at once; a simulated image is simply not shown).
    """
    events: queue.Queue[tuple[str, Any]] = queue.Queue()

    def work() -> None:
        with bound(handle):
            try:
                for item in make():
                    events.put(("item", item))
            except BaseException as exc:  # handed to the consumer's thread, raised there
                events.put(("error", exc))
            events.put(("end", None))

    handle.on_stop(lambda: events.put(("stopped", None)))
    threading.Thread(target=work, name="dalle3-call", daemon=True).start()
    while True:
        kind, value = events.get()
        if kind in ("end", "stopped"):
            return
        if kind == "error":
            raise value
        if handle.stopped:
            return
        yield value
