"""Launch the real page in-process on a loopback port, as Gradio's own tests do."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="dalle3-gradio-"))

import gradio as gr  # noqa: E402
from gradio_client import Client  # noqa: E402

import app  # noqa: E402
from ui.api import KEY_HEADER  # noqa: E402
from dalle3 import Settings, Studio  # noqa: E402

SERVER_KEY = "sk-server-KEY-0123456789abcdef"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_concurrently(*calls: Callable[[], object], timeout_s: float = 120) -> None:
    """Start every call in its own thread at once and wait for all of them."""
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)


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
def running_app(settings: Settings, sleep=None, host: str = "127.0.0.1") -> Iterator[RunningApp]:
    """The page on a loopback port; ``host`` is where it believes it serves (0.0.0.0: a public server)."""
    studio = Studio(settings)
    if sleep is not None:
        studio.client._sleep = sleep
    demo = app.build(studio, host)
    url = app.serve(demo, studio, server_name="127.0.0.1", server_port=None, quiet=True)
    try:
        yield RunningApp(url, studio, demo)
    finally:
        demo.close()
