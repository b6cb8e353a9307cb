"""What every bench module shares: where the repository is, the fixed workload, and small timers."""

from __future__ import annotations

import itertools
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
SIZE = "1024x1792"
DELAY_S = 2.0
KEY = "sk-bench-0123456789abcdef"
median = statistics.median
_nonce = itertools.count()


def prompt() -> str:
    """A prompt no earlier call used, so the app's cache never answers it."""
    return f"a lighthouse at dawn, bench {uuid.uuid4().hex[:8]} {next(_nonce)}"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
