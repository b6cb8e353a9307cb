"""Which models a key can use, learned from ``GET {base}/models``.

A hard-coded model list is stale within months, so the running app asks the
endpoint. The answer is a hint, never a gate: a failed or refused listing
leaves the table as it is (and the page says so once). Answers are cached per
key fingerprint (a hash, never the key) for a while, so the listing costs one
request per key, not one per page load. The cache is bounded in size and age: a
public page sees a new own key per visitor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from dalle3.cache import LRUCache
from dalle3.chat.models import chat_models
from dalle3.http.client import ImagesClient
from dalle3.errors import DalleError
from dalle3.models import image_models
from dalle3.safety import opaque_id

log = logging.getLogger("dalle3")
TTL_S = 600.0
MAX_KEYS = 256  # distinct keys remembered at once (least recently used forgotten first)


@dataclass(frozen=True)
class Listing:
    """Image models the endpoint offers (id -> entry), or why we could not tell (``problem``:
    plain text, the endpoint's words among it; whoever shows it escapes it)."""

    offered: dict[str, dict[str, Any]] | None
    problem: str | None = None
    chat: tuple[str, ...] = ()  # mainline models that can drive the image tool in a conversation


class Discovery:
    def __init__(self, client: ImagesClient, timeout_s: float = 5.0) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self._cache: LRUCache[tuple[float, Listing]] = LRUCache(MAX_KEYS)

    def listing(self, api_key: str) -> Listing:
        """The models ``api_key`` may use; failures become a Listing with ``problem`` set."""
        if (cached := self.peek(api_key)) is not None:
            return cached
        try:
            models = self.client.list_models(api_key, self.timeout_s)
            result = Listing(image_models(models), chat=chat_models(models))
        except DalleError as exc:
            log.warning("model listing failed: %s", exc.user_message)
            result = Listing(None, f"Could not list this endpoint's models ({exc.user_message}) — "
                                   "showing the built-in table unchanged.")
        self._cache.put(_fingerprint(api_key), (time.monotonic(), result))
        return result

    def peek(self, api_key: str) -> Listing | None:
        """The cached listing for ``api_key`` if there is a fresh one; never calls the network."""
        fingerprint = _fingerprint(api_key)
        cached = self._cache.get(fingerprint)
        if cached is None:
            return None
        if time.monotonic() - cached[0] >= TTL_S:
            self._cache.pop(fingerprint)
            return None
        return cached[1]


def _fingerprint(api_key: str) -> str:
    """The cache key for a key: a hash, so no key is kept in memory longer than a call."""
    return opaque_id(api_key)
