"""Saving a batch: the parameters each image carries, embedded without re-encoding, the file
written under a name never overwritten (each image of a batch with its own index), and the
library told.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Sequence

from dalle3.edits.inputs import EditInputs
from dalle3.files import metadata
from dalle3.files.containers import EXTENSIONS
from dalle3.files.storage import save_image
from dalle3.http.client import ApiImage
from dalle3.library import Library
from dalle3.models.pricing import Price
from dalle3.params import GenerationRequest
from dalle3.results import SavedImage
from dalle3.version import __version__


def parameters_for(request: GenerationRequest, image: ApiImage, backend: str, *,
                   inputs: EditInputs | None = None, cost: Price | None = None) -> dict[str, Any]:
    """What each image of ``image`` stores: the request (and an edit's inputs), the revised prompt,
    its share of the bill (``cost``, one image's), the backend, when and by what it was made."""
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


class Saver:
    """Writes images into ``output_dir`` (dated folders) and tells ``library``, if any, about each."""

    def __init__(self, output_dir: Path, library: Library | None = None) -> None:
        self.output_dir = output_dir
        self.library = library

    def save(self, image: bytes, request: GenerationRequest, parameters: dict[str, Any], index: int = 0) -> SavedImage:
        """Save image ``index`` of ``request``'s batch (PNG, JPEG or WebP) with ``parameters`` embedded.

        Raises ValueError when the parameters cannot be embedded (the bytes are not the image
        they claim to be).
        """
        if request.n > 1:
            parameters = {**parameters, "batch_index": index}
        data = metadata.embed(image, parameters)
        suffix = EXTENSIONS.get(metadata.image_format(data) or "png", ".png")
        path = save_image(data, self.output_dir, request.prompt, request.seed, suffix=suffix,
                          batch=(index, request.n) if request.n > 1 else None)
        if self.library is not None:
            self.library.record(path, parameters)
        return SavedImage(path, metadata.image_size_or_none(data) or (0, 0), index, len(data))

    def save_all(self, images: Sequence[bytes], request: GenerationRequest,
                 parameters: dict[str, Any]) -> tuple[SavedImage, ...]:
        """Every image of a batch, in the API's order."""
        return tuple(self.save(image, request, parameters, index) for index, image in enumerate(images))
