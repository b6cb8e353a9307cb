"""One generation from request to saved image: the piece the page, CLI and API share.

:class:`Studio` coordinates parts with one job each: :mod:`~dalle3.studio.payers` (who
pays: the visitor's own key, the server key or the offline simulator, as an id that never
holds the key), :mod:`~dalle3.studio.recall` (repeats from the cache for free, identical
concurrent requests paying once, both keyed by who pays), :mod:`~dalle3.studio.moves` (a
model the endpoint does not offer, moved to its successor), :mod:`~dalle3.studio.calls`
(the call, under the spend cap on the server key), :mod:`~dalle3.studio.previews` (a
streamed call's rough images in a temporary folder, never the outputs folder) and
:mod:`~dalle3.studio.saving` (parameters embedded without re-encoding, each image of a
batch saved with its own index, the library told). Its values live in :mod:`dalle3.results`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from dalle3.edits.index import FoundReferences, ReferenceIndex
from dalle3.edits.inputs import EditInputs
from dalle3.errors import AuthenticationError
from dalle3.http.client import ApiImage, ImagesClient
from dalle3.http.deployments import as_mapping
from dalle3.http.discovery import Discovery
from dalle3.keys import own_key_problem
from dalle3.ledger import LEDGER_NAME, SpendLedger
from dalle3.library import Library
from dalle3.models import pricing, use_deployments
from dalle3.models.pricing import Price
from dalle3.params import GenerationRequest, for_edit
from dalle3.results import OPENAI, GenerationResult, Preview, SavedImage
from dalle3.settings import Settings
from dalle3.studio import saving
from dalle3.studio.calls import Calls, worst_case
from dalle3.studio.moves import ModelMoves
from dalle3.studio.payers import SERVER_PAYER, Payer, own_key_given, payer_for
from dalle3.studio.previews import PreviewFolder
from dalle3.studio.recall import Recall


class Studio:
    """Long-lived: one per process, shared by every session (thread-safe)."""

    def __init__(self, settings: Settings, client: ImagesClient | None = None, cache_size: int = 256,
                 library: Library | None = None) -> None:
        self.settings = settings
        use_deployments(as_mapping(settings.deployments))  # deployment names resolve to their models' rules
        self.client = client or ImagesClient(settings)
        self.output_dir = settings.output_dir or Path(tempfile.gettempdir()) / "dalle3-studio"
        self.ledger = SpendLedger(self.output_dir / LEDGER_NAME, settings.max_spend_usd)
        self.references = ReferenceIndex(self.output_dir)
        self.discovery = Discovery(self.client)  # what the endpoint offers, asked only when needed
        self.recall = Recall(cache_size)
        self.previews = PreviewFolder(Path(tempfile.gettempdir()) / "dalle3-previews")
        self.saver = saving.Saver(self.output_dir, library)
        self.calls = Calls(settings, self.client, self.ledger)
        self.moves = ModelMoves(self.discovery)

    @property
    def library(self) -> Library | None:
        """The library told about every image saved (None: no library)."""
        return self.saver.library

    def backend_for(self, own_key: str | None) -> str:
        """Which backend a call with ``own_key`` (maybe None) would use."""
        return payer_for(self.settings, own_key).backend

    def payer(self, own_key: str | None) -> str:
        """Who pays for a call with ``own_key``: "simulator", "server", or "own:" + a salted hash of the key."""
        return payer_for(self.settings, own_key).id

    def streams(self, request: GenerationRequest, own_key: str | None = None) -> bool:
        """Whether ``generate`` with previews would show any (one image of a streaming model, on an
        endpoint that streams)."""
        return (self.backend_for(own_key) == OPENAI and request.n == 1
                and self.client.streams(request.model))

    def generate(self, request: GenerationRequest, own_key: str | None = None, previews: int = 0,
                 on_preview: Callable[[Preview], None] | None = None, *,
                 job: Mapping[str, Any] | None = None) -> GenerationResult:
        """Make (or recall) the ``request.n`` images for ``request``; raises DalleError subclasses.

        ``job`` (``{"job_id": ..., "job_row": ...}``) is stored in each image's parameters.

        With ``previews`` 1-3 and ``on_preview``, a model that streams sends that many rough
        images first (one image, ``n`` 1); ``on_preview`` is called (on this thread) with each,
        its ``path`` a temporary file. A request whose model was not named that the endpoint
        refuses as not offered runs on the model's successor (:mod:`dalle3.studio.moves`).
        """
        payer = payer_for(self.settings, own_key)
        return self.moves.run(request, payer, lambda r: self._run(r, None, payer, previews, on_preview, job))

    def edit(self, request: GenerationRequest, inputs: EditInputs, own_key: str | None = None, *,
             job: Mapping[str, Any] | None = None) -> GenerationResult:
        """Edit ``inputs`` (prepared by :func:`dalle3.edits.inputs.prepare_edit`) as ``request`` says;
        ``job`` as for :meth:`generate`."""
        return self._run(for_edit(request), inputs, payer_for(self.settings, own_key), 0, None, job)

    def admit(self, request: GenerationRequest, reference_sizes: Sequence[tuple[int, int]],
              own_key: str | None = None, input_fidelity: str | None = None) -> None:
        """Refuse an edit nobody may pay for before any of its pixels is decoded.

        ``reference_sizes`` come from the files' headers. A visitor's own key must be one that
        can be sent; on the server key the spend cap must allow the worst case (the same figure
        the call reserves, from the sizes as the API counts them). :meth:`edit` decides again
        at the call: this only makes sure no work is done for a call that cannot happen.
        """
        own = own_key_given(own_key)
        if own is not None and (problem := own_key_problem(own)):
            raise AuthenticationError(problem)
        if payer_for(self.settings, own).id != SERVER_PAYER:
            return
        tokens = sum(pricing.input_image_tokens(w, h, input_fidelity) for w, h in reference_sizes)
        self.ledger.check(worst_case(for_edit(request), tokens))

    def find_references(self, parameters: dict[str, Any] | None,
                        within: Sequence[Path] | None = None) -> FoundReferences:
        """The reference images an edited PNG's parameters name, found by hash in the outputs folder
        (``within``: only among those files, e.g. what one visitor made or added)."""
        return self.references.restore(parameters, within)

    def save(self, image: bytes, request: GenerationRequest, parameters: dict[str, Any], index: int = 0) -> SavedImage:
        """Save one image of ``request`` with ``parameters`` embedded, and tell the library (a Batch's rows)."""
        return self.saver.save(image, request, parameters, index)

    @staticmethod
    def parameters_for(request: GenerationRequest, image: ApiImage, backend: str, cost: Price) -> dict[str, Any]:
        """What each image of ``image`` stores: the request, the revised prompt, its share of ``cost``."""
        return saving.parameters_for(request, image, backend, cost=cost)

    def _run(self, request: GenerationRequest, inputs: EditInputs | None, payer: Payer, previews: int,
             on_preview: Callable[[Preview], None] | None, job: Mapping[str, Any] | None) -> GenerationResult:
        """The result for ``request`` from the cache, or made, saved and kept there."""
        base_url = self.settings.base_url if payer.backend == OPENAI else ""
        key = (payer.id, base_url, request, inputs)

        def make(started: float) -> GenerationResult:
            on_partial = (self.previews.writer(request.seed, on_preview)
                          if on_preview and payer.backend == OPENAI else None)
            image, cost = self.calls.make(request, inputs, payer, previews=previews, on_partial=on_partial)
            share = Price(cost.usd / len(image.pngs), cost.estimate)
            parameters = saving.parameters_for(request, image, payer.backend, inputs=inputs, cost=share)
            parameters.update(job or {})
            saved = self.saver.save_all(image.pngs, request, parameters)
            return GenerationResult(
                request=request, path=saved[0].path, size=saved[0].size, file_bytes=saved[0].file_bytes,
                revised_prompt=image.revised_prompt, request_id=image.request_id,
                elapsed_s=time.perf_counter() - started, cost=cost, backend=payer.backend, attempts=image.attempts,
                created=time.time(), previews=image.partials, note=image.note, images=saved, inputs=inputs)

        return self.recall.get_or_make(key, make)
