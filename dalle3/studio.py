"""One generation from request to saved image: the piece the page, CLI and API share.

Chooses the backend (the visitor's own key, the server key, or the offline
simulator), answers repeats from the cache for free, makes identical
concurrent requests pay once, holds the spend cap on the server key (a batch
of ``n`` reserves all ``n`` images and its reference images at once), embeds
the parameters into each image (PNG, JPEG or WebP) without re-encoding it, and
saves every image of the batch with its own index.

The cache and the single-flight are keyed by who pays: "server", "simulator",
or an opaque id of the visitor's own key (:func:`dalle3.safety.opaque_id`). A
visitor with no key or a bad key never receives an image another payer made,
nor learns ("returned from cache") which prompts they ran. The key itself is
never kept, and its id means nothing outside this process.

The values it returns live in :mod:`dalle3.results` (re-exported here).
Previews (partial images of a streamed call) are written to a temporary
folder for the caller to show, never to the outputs folder and never as the
result: only the final image is saved, with its parameters.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Hashable, Iterator, Mapping
from typing import Sequence

from dalle3 import simulator
from dalle3.models import lifecycle, pricing
from dalle3.files import metadata
from dalle3.cache import LRUCache
from dalle3.http.answers import model_unavailable
from dalle3.http.client import ApiImage, ImagesClient
from dalle3.files.containers import EXTENSIONS
from dalle3.edits.inputs import EditInputs
from dalle3.errors import AuthenticationError, DalleError
from dalle3.keys import own_key_problem
from dalle3.http.deployments import as_mapping
from dalle3.models import choice as model_choice
from dalle3.http.discovery import Discovery
from dalle3.errors import ModelUnavailableError
from dalle3.ledger import LEDGER_NAME, SpendLedger
from dalle3.library import Library
from dalle3.models import use_deployments
from dalle3.params import GenerationRequest, for_edit, profile_for
from dalle3.models.pricing import Price
from dalle3.edits.index import FoundReferences, ReferenceIndex
from dalle3.results import OPENAI, SIMULATOR, GenerationResult, Preview, SavedImage
from dalle3.safety import opaque_id
from dalle3.settings import Settings
from dalle3.files.storage import atomic_write_new, save_image
from dalle3.http.stream import Partial
from dalle3.version import __version__

log = logging.getLogger("dalle3")
SERVER_PAYER = "server"

PREVIEW_MAX_AGE_S = 15 * 60  # preview files older than this are removed when new ones are written


class Studio:
    """Long-lived: one per process, shared by every session (thread-safe)."""

    def __init__(self, settings: Settings, client: ImagesClient | None = None, cache_size: int = 256,
                 library: Library | None = None) -> None:
        self.settings = settings
        use_deployments(as_mapping(settings.deployments))  # deployment names resolve to their models' rules
        self.library = library  # told about every image saved
        self.client = client or ImagesClient(settings)
        self.cache: LRUCache[GenerationResult] = LRUCache(cache_size)
        self.output_dir = settings.output_dir or Path(tempfile.gettempdir()) / "dalle3-studio"
        self.ledger = SpendLedger(self.output_dir / LEDGER_NAME, settings.max_spend_usd)
        self.references = ReferenceIndex(self.output_dir)
        self._guard = threading.Lock()
        self._inflight: dict[Hashable, threading.Lock] = {}
        self.preview_dir = Path(tempfile.gettempdir()) / "dalle3-previews"
        self.discovery = Discovery(self.client)  # what the endpoint offers, asked only when needed
        self._moved: LRUCache[str] = LRUCache(64)  # (payer, model not offered) -> the model used instead

    def backend_for(self, own_key: str | None) -> str:
        """Which backend a call with ``own_key`` (maybe None) would use."""
        if self.settings.offline or not (own_key or self.settings.api_key):
            return SIMULATOR
        return OPENAI

    def payer(self, own_key: str | None) -> str:
        """Who pays for a call with ``own_key``: "simulator", "server", or "own:" + a salted hash of the key."""
        own_key = (own_key or "").strip() or None
        if self.backend_for(own_key) == SIMULATOR:
            return SIMULATOR
        if own_key is None:
            return SERVER_PAYER
        return "own:" + opaque_id(own_key)


    def streams(self, request: GenerationRequest, own_key: str | None = None) -> bool:
        """Whether ``generate`` with previews would show any (one image of a streaming model, on an
        endpoint that streams)."""
        return (self.backend_for((own_key or "").strip() or None) == OPENAI and request.n == 1
                and self.client.streams(request.model))

    def generate(self, request: GenerationRequest, own_key: str | None = None, previews: int = 0,
                 on_preview: Callable[[Preview], None] | None = None, *,
                 job: Mapping[str, Any] | None = None) -> GenerationResult:
        """Make (or recall) the ``request.n`` images for ``request``; raises DalleError subclasses.

        ``job`` (``{"job_id": ..., "job_row": ...}``) is stored in each image's parameters.

        With ``previews`` 1-3 and ``on_preview``, a model that streams sends that many rough
        images first (one image, ``n`` 1); ``on_preview`` is called (on this thread) with each
        as a temporary file. A request whose model was not named (``validate`` without
        ``model``) that the endpoint refuses as not offered runs on the model's successor
        (:mod:`dalle3.models.choice`), said as a warning on the ``dalle3`` log (stderr by default).
        """
        moved = self._moved.get((self.payer(own_key), request.model)) if not request.model_named else None
        if moved is not None:  # refused before: straight to the model used then
            choice = model_choice.move(request, moved)
            log.warning("%s", choice.note)
            request = choice.request
        try:
            return self._run(request, None, own_key, previews, on_preview, job)
        except ModelUnavailableError as exc:
            if request.model_named:
                raise
            listing = self.discovery.listing((own_key or "").strip() or self.settings.api_key or "")
            choice = model_choice.after_refusal(request, listing.offered, exc.successor)
            if choice.note is None:
                raise
            log.warning("%s", choice.note)
            self._moved.put((self.payer(own_key), request.model), choice.request.model)
            return self._run(choice.request, None, own_key, previews, on_preview, job)

    def edit(self, request: GenerationRequest, inputs: EditInputs, own_key: str | None = None, *,
             job: Mapping[str, Any] | None = None) -> GenerationResult:
        """Edit ``inputs`` (prepared by :func:`dalle3.edits.inputs.prepare_edit`) as ``request`` says;
        ``job`` as for :meth:`generate`."""
        return self._run(for_edit(request), inputs, own_key, 0, None, job)

    def admit(self, request: GenerationRequest, reference_sizes: Sequence[tuple[int, int]],
              own_key: str | None = None, input_fidelity: str | None = None) -> None:
        """Refuse an edit nobody may pay for before any of its pixels is decoded.

        ``reference_sizes`` come from the files' headers. A visitor's own key must be one that
        can be sent; on the server key the spend cap must allow the worst case (the same figure
        the call reserves, from the sizes as the API counts them). :meth:`edit` decides again
        at the call: this only makes sure no work is done for a call that cannot happen.
        """
        own_key = (own_key or "").strip() or None
        if own_key is not None and (problem := own_key_problem(own_key)):
            raise AuthenticationError(problem)
        if self.backend_for(own_key) != OPENAI or own_key is not None:
            return
        request = for_edit(request)
        tokens = sum(pricing.input_image_tokens(w, h, input_fidelity) for w, h in reference_sizes)
        self.ledger.check(pricing.worst_case(profile_for(request.model), request.quality, request.size,
                                             request.prompt, request.n, tokens))

    def find_references(self, parameters: dict[str, Any] | None,
                        within: Sequence[Path] | None = None) -> FoundReferences:
        """The reference images an edited PNG's parameters name, found by hash in the outputs folder
        (``within``: only among those files, e.g. what one visitor made or added)."""
        return self.references.restore(parameters, within)

    def _run(self, request: GenerationRequest, inputs: EditInputs | None, own_key: str | None, previews: int,
             on_preview: Callable[[Preview], None] | None, job: Mapping[str, Any] | None = None) -> GenerationResult:
        own_key = (own_key or "").strip() or None
        backend = self.backend_for(own_key)
        key = (self.payer(own_key), self.settings.base_url if backend == OPENAI else "", request, inputs)
        started = time.perf_counter()
        if hit := self._cached(key, started):
            return hit
        with self._single_flight(key):
            if hit := self._cached(key, started):
                return hit
            image, cost = self._make(request, inputs, backend, own_key, previews, on_preview)
            parameters = self._parameters_for(request, image, backend, inputs,
                                             Price(cost.usd / len(image.pngs), cost.estimate))
            parameters.update(job or {})
            saved = tuple(self._save(png, request, parameters, index) for index, png in enumerate(image.pngs))
            result = GenerationResult(
                request=request, path=saved[0].path, size=saved[0].size, file_bytes=saved[0].file_bytes,
                revised_prompt=image.revised_prompt, request_id=image.request_id,
                elapsed_s=time.perf_counter() - started, cost=cost, backend=backend, attempts=image.attempts,
                created=time.time(), previews=image.partials, note=image.note, images=saved, inputs=inputs)
            self.cache.put(key, result)
            return result

    def save(self, image: bytes, request: GenerationRequest, parameters: dict[str, Any], index: int = 0) -> SavedImage:
        """Save one image of ``request`` with ``parameters`` embedded, and tell the library (a Batch's rows)."""
        return self._save(image, request, parameters, index)

    def _save(self, image: bytes, request: GenerationRequest, parameters: dict[str, Any], index: int) -> SavedImage:
        if request.n > 1:
            parameters = {**parameters, "batch_index": index}
        data = metadata.embed(image, parameters)
        suffix = EXTENSIONS.get(metadata.image_format(data) or "png", ".png")
        path = save_image(data, self.output_dir, request.prompt, request.seed, suffix=suffix,
                          batch=(index, request.n) if request.n > 1 else None)
        if self.library is not None:
            self.library.record(path, parameters)
        return SavedImage(path, metadata.image_size_or_none(data) or (0, 0), index, len(data))

    def _make(self, request: GenerationRequest, inputs: EditInputs | None, backend: str, own_key: str | None,
              previews: int, on_preview: Callable[[Preview], None] | None) -> tuple[ApiImage, Price]:
        if backend == SIMULATOR:
            pngs = simulator.render_batch(request, inputs)
            return ApiImage(pngs[0], None, None, None, 0, others=pngs[1:]), Price(0.0)
        if lifecycle.calendar_decides(self.settings) and lifecycle.is_shut_down(request.model):
            raise model_unavailable(request.model)  # OpenAI's API: its shutdown day has come, no call
        profile = profile_for(request.model)
        on_partial = self._preview_writer(request, on_preview) if on_preview else None
        tokens = inputs.input_tokens() if inputs else 0

        def call(key: str, retry_after_send: bool) -> tuple[ApiImage, Price]:
            if inputs is not None:
                image = self.client.edit(request, inputs, key, retry_after_send=retry_after_send)
            else:
                image = self.client.generate(request, key, previews, on_partial, retry_after_send=retry_after_send)
            made = len(image.pngs)
            return image, pricing.charged(profile, request.quality, request.size, image.usage, made, tokens)

        if own_key:
            return call(own_key, True)
        reserved = pricing.worst_case(profile, request.quality, request.size, request.prompt, request.n, tokens)
        with self.ledger.hold(reserved, images=request.n) as charge:
            try:
                # under a cap, a retry after a timed-out send could pay twice for one reservation
                image, cost = call(self.settings.api_key or "", self.ledger.cap is None)
            except DalleError as exc:
                if exc.abandoned:  # sent, then given up on: it may be billed, so it counts
                    charge.usd, charge.abandoned = reserved, True
                raise
            bill = pricing.from_usage(profile, image.usage)
            # settle at the real bill; without a readable one, only DALL·E's flat price is exact
            charge.usd = bill.usd if bill else (cost.usd if profile.billing == "image" else reserved)
            charge.images = len(image.pngs)
        return image, cost

    def _preview_writer(self, request: GenerationRequest,
                        on_preview: Callable[[Preview], None]) -> Callable[[Partial], None]:
        """Write each partial image to the preview folder and hand on its path."""
        self._sweep_previews()
        stem = f"preview-{os.getpid()}-{threading.get_ident()}-{request.seed}"

        def write(partial: Partial) -> None:
            path = atomic_write_new(self.preview_dir, f"{stem}-{partial.number}", partial.image)
            on_preview(Preview(partial.number, partial.total, path, partial.elapsed_s))

        return write

    def _sweep_previews(self) -> None:
        """Previews are shown once; remove the old ones so the folder stays small."""
        cutoff = time.time() - PREVIEW_MAX_AGE_S
        try:
            entries = list(os.scandir(self.preview_dir))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                pass

    def _cached(self, key: Hashable, started: float) -> GenerationResult | None:
        hit = self.cache.get(key)
        if hit is None:
            return None
        if not hit.path.exists():
            self.cache.pop(key)
            return None
        return replace(hit, cached=True, cost=Price(0.0), elapsed_s=time.perf_counter() - started, attempts=0)

    @contextmanager
    def _single_flight(self, key: Hashable) -> Iterator[None]:
        """Identical requests in flight at once wait for the first instead of paying again."""
        with self._guard:
            lock = self._inflight.setdefault(key, threading.Lock())
        try:
            with lock:
                yield
        finally:
            with self._guard:
                if self._inflight.get(key) is lock and not lock.locked():
                    del self._inflight[key]

    @staticmethod
    def parameters_for(request: GenerationRequest, image: ApiImage, backend: str, cost: Price) -> dict[str, Any]:
        """What each image of ``image`` stores: the request, the revised prompt, its share of ``cost``."""
        return Studio._parameters_for(request, image, backend, None, cost)

    @staticmethod
    def _parameters_for(request: GenerationRequest, image: ApiImage, backend: str,
                        inputs: EditInputs | None, cost: Price | None = None) -> dict[str, Any]:
        data = request.parameters()
        if inputs is not None:
            data.update(inputs.parameters())
        if image.revised_prompt:
            data["revised_prompt"] = image.revised_prompt
        if cost is not None:  # one image's share of the bill: the library's totals read it back
            data.update(cost_usd=round(cost.usd, 6), cost_exact=not cost.estimate)
        data.update(backend=backend, created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    app=f"dalle3-studio {__version__}")
        return data
