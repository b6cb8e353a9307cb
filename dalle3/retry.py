"""The retry policy, in one place.

urllib3's ``Retry`` cannot see the response body, and OpenAI answers both
"slow down" and "out of credit" with 429 — only ``error.code`` tells them
apart — and it sends ``retry-after-ms``, which urllib3 ignores. So the rule
lives here as data plus two small functions, and the client's loop asks it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
NEVER_RETRY_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``max_retries`` extra tries, exponential backoff with jitter."""

    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0

    def should_retry(self, attempt: int, status: int | None, code: str | None = None) -> bool:
        """``attempt`` counts from 1; ``status`` None means a connection error or timeout."""
        if attempt > self.max_retries:
            return False
        if status is None:
            return True
        return status in RETRY_STATUSES and code not in NEVER_RETRY_CODES

    def delay_s(self, attempt: int, headers: Mapping[str, str] | None = None) -> float:
        """The server's ``retry-after-ms``/``retry-after`` if sane, else backoff with jitter."""
        hinted = _retry_after(headers or {})
        if hinted is not None and 0 <= hinted <= self.max_retry_after_s:
            return hinted
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return backoff * (1 - 0.25 * random.random())


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return float(raw) / scale
        except ValueError:
            continue  # an HTTP-date: fall back to backoff rather than parse clocks
    return None
