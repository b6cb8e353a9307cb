"""A model the endpoint does not offer, replaced by its successor, and the move remembered per payer.

Only a request whose model was not named (``validate`` without ``model``) moves: a named
model's refusal stands. The move (:mod:`dalle3.models.choice`) is said as a warning on the
``dalle3`` log (stderr by default) and remembered, so the payer's next such request goes
straight to the model used instead.
"""

from __future__ import annotations

import logging
from typing import Callable, TypeVar

from dalle3.cache import LRUCache
from dalle3.errors import ModelUnavailableError
from dalle3.http.discovery import Discovery
from dalle3.models import choice as model_choice
from dalle3.params import GenerationRequest
from dalle3.studio.payers import Payer

log = logging.getLogger("dalle3")
T = TypeVar("T")


class ModelMoves:
    """Long-lived and thread-safe: one per studio, asking ``discovery`` what the endpoint offers."""

    def __init__(self, discovery: Discovery, size: int = 64) -> None:
        self.discovery = discovery
        self._moved: LRUCache[str] = LRUCache(size)  # (payer id, model not offered) -> the model used instead

    def run(self, request: GenerationRequest, payer: Payer, make: Callable[[GenerationRequest], T]) -> T:
        """``make(request)``, or ``make`` of the request moved to a model the endpoint offers."""
        moved = self._moved.get((payer.id, request.model)) if not request.model_named else None
        if moved is not None:  # refused before: straight to the model used then
            choice = model_choice.move(request, moved)
            log.warning("%s", choice.note)
            request = choice.request
        try:
            return make(request)
        except ModelUnavailableError as exc:
            if request.model_named:
                raise
            listing = self.discovery.listing(payer.api_key)
            choice = model_choice.after_refusal(request, listing.offered, exc.successor)
            if choice.note is None:
                raise
            log.warning("%s", choice.note)
            self._moved.put((payer.id, request.model), choice.request.model)
            return make(choice.request)
