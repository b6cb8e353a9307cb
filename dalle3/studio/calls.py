"""One call for a request's images: the simulator for free, or the API on a key, under the spend cap.

On the server key the cap reserves the worst case of the whole batch (all ``n`` images and
the reference images' input tokens) before the call, and settles at the bill after; a call
sent and then given up on counts in full, since it may be billed. A visitor's own key pays
its own way: no cap, and a send that timed out may be retried.
"""

from __future__ import annotations

from typing import Callable

from dalle3 import simulator
from dalle3.edits.inputs import EditInputs
from dalle3.errors import DalleError
from dalle3.http.answers import model_unavailable
from dalle3.http.client import ApiImage, ImagesClient
from dalle3.ledger import SpendLedger
from dalle3.models import lifecycle, pricing
from dalle3.models.pricing import Price
from dalle3.params import GenerationRequest, profile_for
from dalle3.results import SIMULATOR, Preview
from dalle3.settings import Settings
from dalle3.studio.payers import Payer

Call = Callable[[str, bool], tuple[ApiImage, Price]]  # (key, retry after a send) -> the images and their price


def worst_case(request: GenerationRequest, input_tokens: int = 0) -> float:
    """The most ``request`` can cost (USD) with ``input_tokens`` of reference images: what the cap reserves."""
    return pricing.worst_case(profile_for(request.model), request.quality, request.size, request.prompt,
                              request.n, input_tokens)


class Calls:
    """Long-lived and thread-safe: one per studio, sharing its client and ledger."""

    def __init__(self, settings: Settings, client: ImagesClient, ledger: SpendLedger) -> None:
        self.settings = settings
        self.client = client
        self.ledger = ledger

    def make(self, request: GenerationRequest, inputs: EditInputs | None, payer: Payer, *, previews: int = 0,
             on_partial: Callable[[Preview], None] | None = None) -> tuple[ApiImage, Price]:
        """The images for ``request`` (an edit of ``inputs`` if given) and what they cost; raises DalleError."""
        if payer.backend == SIMULATOR:
            pngs = simulator.render_batch(request, inputs)
            return ApiImage(pngs[0], None, None, None, 0, others=pngs[1:]), Price(0.0)
        if lifecycle.calendar_decides(self.settings) and lifecycle.is_shut_down(request.model):
            raise model_unavailable(request.model)  # OpenAI's API: its shutdown day has come, no call
        profile = profile_for(request.model)
        tokens = inputs.input_tokens() if inputs else 0

        def call(key: str, retry_after_send: bool) -> tuple[ApiImage, Price]:
            if inputs is not None:
                image = self.client.edit(request, inputs, key, retry_after_send=retry_after_send)
            else:
                image = self.client.generate(request, key, previews, on_partial, retry_after_send=retry_after_send)
            made = len(image.pngs)
            return image, pricing.charged(profile, request.quality, request.size, image.usage, made, tokens)

        if payer.own:
            return call(payer.api_key, True)
        return self._under_cap(request, tokens, call, payer.api_key)

    def _under_cap(self, request: GenerationRequest, tokens: int, call: Call, key: str) -> tuple[ApiImage, Price]:
        """``call`` on the server key: the worst case held first, the charge settled at the bill."""
        profile = profile_for(request.model)
        reserved = worst_case(request, tokens)
        with self.ledger.hold(reserved, images=request.n) as charge:
            try:
                # under a cap, a retry after a timed-out send could pay twice for one reservation
                image, cost = call(key, self.ledger.cap is None)
            except DalleError as exc:
                if exc.abandoned:  # sent, then given up on: it may be billed, so it counts
                    charge.usd, charge.abandoned = reserved, True
                raise
            bill = pricing.from_usage(profile, image.usage)
            # settle at the real bill; without a readable one, only DALL·E's flat price is exact
            charge.usd = bill.usd if bill else (cost.usd if profile.billing == "image" else reserved)
            charge.images = len(image.pngs)
        return image, cost
