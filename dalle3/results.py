"""What a generation gives back: the batch on disk, each image, and the previews on the way.

Values that cross module lines (studio, status, session, cli, the page), kept
apart from :mod:`dalle3.studio` so it stays about *making* them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dalle3.edits.inputs import EditInputs
from dalle3.params import GenerationRequest
from dalle3.models.pricing import Price

SIMULATOR = "simulator"
OPENAI = "openai"


@dataclass(frozen=True)
class Preview:
    """A rough image on the way to the final one: ``number`` (from 1) of ``total``, ``elapsed_s`` into the call.

    The stream hands it on with the ``image`` bytes; the studio writes them to a temporary file
    and hands it on again with ``path`` set, for views that show a file.
    """

    number: int
    total: int
    elapsed_s: float
    image: bytes = field(repr=False)
    path: Path | None = None

    @property
    def label(self) -> str:
        """``preview 2 of 3 · 41 s``: the status line while the image is being made."""
        return f"preview {self.number} of {self.total} · {self.elapsed_s:.0f} s"


@dataclass(frozen=True)
class SavedImage:
    """One image of a batch on disk; ``index`` counts from 0 in the API's order."""

    path: Path
    size: tuple[int, int]
    index: int = 0
    file_bytes: int = 0  # size of the saved file, parameters included


@dataclass(frozen=True)
class GenerationResult:
    """A finished batch on disk and what it took to make it; ``path``/``size`` are its first image."""

    request: GenerationRequest
    path: Path
    size: tuple[int, int]
    revised_prompt: str | None
    request_id: str | None
    elapsed_s: float
    cost: Price  # the whole batch
    backend: str
    cached: bool = False
    attempts: int = 1
    file_bytes: int = 0  # size of the saved file (the first), parameters included
    created: float = 0.0  # when the image was made (Unix time); a cache hit keeps the first one's
    previews: int = 0  # previews received on the way
    note: str | None = None  # one-off news about the endpoint (e.g. it does not stream)
    images: tuple[SavedImage, ...] = ()  # every image of the batch, the first included
    inputs: EditInputs | None = None  # set for an edit

    @property
    def file_name(self) -> str:
        """The saved file as ``YYYY-MM-DD/name.png`` (or .jpg, .webp): enough to find it, no server path."""
        return f"{self.path.parent.name}/{self.path.name}"

    @property
    def simulated(self) -> bool:
        return self.backend == SIMULATOR

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(i.path for i in self.images) or (self.path,)
