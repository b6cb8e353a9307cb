"""Launch the real page in-process on a loopback port, as Gradio's own tests do."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="dalle3-gradio-"))

import gradio as gr  # noqa: E402
from gradio_client import Client  # noqa: E402

import app  # noqa: E402
from dalle3.views.api_docs import KEY_HEADER  # noqa: E402
from dalle3 import Settings, Studio  # noqa: E402

SERVER_KEY = "sk-server-KEY-0123456789abcdef"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_concurrently(*calls: Callable[[], object], timeout_s: float = 120) -> list[object]:
    """Start every call in its own thread at once, wait for all, and return their results in order.

    An exception in any call is raised here (the first one, with the others
    attached as notes); a call still running after ``timeout_s`` fails the test.
    """
    results: list[object] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout_s
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = sum(thread.is_alive() for thread in threads)
    if alive:
        raise AssertionError(f"{alive} of {len(calls)} concurrent calls still running after {timeout_s} s")
    raised = [exc for exc in errors if exc is not None]
    if raised:
        for other in raised[1:]:
            if hasattr(raised[0], "add_note"):  # Python 3.11+
                raised[0].add_note(f"another concurrent call raised too: {other!r}")
        raise raised[0]
    return results


@dataclass
class RunningApp:
    url: str
    studio: Studio
    demo: gr.Blocks

    def client(self, **kw) -> Client:
        return Client(self.url, verbose=False, **kw)

    @contextmanager
    def connected(self, own_key: str | None = None) -> Iterator[Client]:
        """A gradio_client session (one per simulated visitor), closed afterwards.

        ``own_key`` travels as API callers send theirs: in the key header, never as an input.
        """
        client = self.client(headers={KEY_HEADER: own_key} if own_key else None)
        try:
            yield client
        finally:
            client.close()

    @contextmanager
    def visitors(self, count: int) -> Iterator[list[Client]]:
        """``count`` separate gradio_client sessions, all closed afterwards."""
        with ExitStack() as stack:
            yield [stack.enter_context(self.connected()) for _ in range(count)]

    def predict_once(self, **inputs) -> tuple[str, str, dict]:
        """One /generate call from a fresh client (a new browser session), closed afterwards."""
        with self.connected() as client:
            return client.predict(**inputs, api_name="/generate")


def app_settings(base_url: str, output_dir: Path, **overrides) -> Settings:
    """Fast settings for tests: short timeouts, the fake's URL, a server key unless told."""
    settings = Settings(api_key=SERVER_KEY, base_url=base_url, timeout_s=5.0, connect_timeout_s=1.0,
                        max_retries=2, output_dir=output_dir, concurrency=4)
    return replace(settings, **overrides)


@contextmanager
def running_app(settings: Settings, sleep=None, host: str = "127.0.0.1",
                library: bool = False) -> Iterator[RunningApp]:
    """The page, launched as ``python app.py`` launches it (``app.serve``), on a loopback port.

    ``host`` is where it believes it serves (0.0.0.0: a public server). ``library``: open the
    outputs folder's index as ``app.main`` does, so the Library tab is shown. Closed afterwards.
    """
    studio = Studio(settings, library=app.open_library(settings, host) if library else None)
    if sleep is not None:
        studio.client._sleep = sleep
    demo = app.build(studio, host)
    url = app.serve(demo, studio, server_name="127.0.0.1", server_port=None, quiet=True)
    try:
        yield RunningApp(url, studio, demo)
    finally:
        demo.close()
