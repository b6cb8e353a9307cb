"""The retry policy, in one place.

urllib3's ``Retry`` cannot see the response body, and OpenAI answers both
"slow down" and "out of credit" with 429 — only ``error.code`` tells them
apart — and it sends ``retry-after-ms``, which urllib3 ignores. So the rule
lives here as data plus two small functions, and the client's loop asks it.

The same rule judges a failure while the body is being read: the status the
server answered with decides. An error status (429, 5xx) may be tried again;
a 200 never is, because the server has made (and billed) that image — sending
the request again would pay twice.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
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
        """``attempt`` counts from 1; ``status`` None means a connection error or timeout
        before any answer; a status with a broken body is judged by the status."""
        if attempt > self.max_retries:
            return False
        if status is None:
            return True
        return status in RETRY_STATUSES and code not in NEVER_RETRY_CODES

    def delay_s(self, attempt: int, headers: Mapping[str, str] | None = None,
                now: float | None = None) -> float:
        """The server's ``retry-after-ms``/``retry-after`` (seconds or an HTTP date) if sane,
        else backoff with jitter. ``now`` (Unix time) is for tests."""
        hinted = _retry_after(headers or {}, time.time() if now is None else now)
        if hinted is not None and 0 <= hinted <= self.max_retry_after_s:
            return hinted
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return backoff * (1 - 0.25 * random.random())


def _retry_after(headers: Mapping[str, str], now: float) -> float | None:
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return float(raw) / scale
        except ValueError:
            pass
        if name == "retry-after":
            return _http_date_delay(raw, now)
    return None


def _http_date_delay(raw: str, now: float) -> float | None:
    """``Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`` -> seconds from ``now`` (a past date: 0)."""
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; an odd one without a zone is read so too
        return None
    return max(0.0, when.timestamp() - now)
