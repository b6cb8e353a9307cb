"""One generate path for the doors' raw values (page, API, MCP, command line): validate, generate or edit,
map errors once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from dalle3 import DalleError, Studio, validate
from dalle3.edits.inputs import prepare_edit
from dalle3.errors import UnexpectedError
from dalle3.views.live import MIN_INTERVAL_S, live
from dalle3.params import GenerationRequest, profile_for
from dalle3.edits.references import read_file
from dalle3.views.status import UNEXPECTED
from dalle3.results import GenerationResult, Preview

log = logging.getLogger("dalle3")

Source = bytes | Path  # bytes as given (a data URL, a painted mask) or a file Gradio received


@dataclass(frozen=True)
class EditSources:
    """What a person or caller gave for an edit, read and checked only inside the generate path.

    Paths are files Gradio took in (its upload cache) or files named on the command line, never a
    path a remote caller named.
    """

    images: tuple[Source, ...]
    mask: Source | None = None
    markup: Source | None = None
    input_fidelity: str | None = None

    def __bool__(self) -> bool:  # no references: an ordinary generation
        return bool(self.images) or self.mask is not None or self.markup is not None

    def file_names(self) -> tuple[str, ...]:
        """The files as the person named them (an upload keeps its name in Gradio's cache), then the
        mask or markup; given bytes (a data URL, a painted mask) get a plain name."""
        names = [s.name if isinstance(s, Path) else f"reference-{i + 1}.png" for i, s in enumerate(self.images)]
        for source, plain in ((self.mask, "mask.png"), (self.markup, "markup.png")):
            if source is not None:
                names.append(source.name if isinstance(source, Path) else plain)
        return tuple(names)

    @staticmethod
    def _read(source: Source | None, what: str) -> bytes | None:
        return read_file(source, what) if isinstance(source, Path) else source

    def prepare(self, model: str, before_decoding: Callable[[tuple[tuple[int, int], ...]], None] | None = None):
        """The prepared :class:`~dalle3.edits.inputs.EditInputs`; raises ValidationError with a plain message.

        ``before_decoding`` gets the references' sizes from their headers, before any pixel is
        decoded (see :func:`dalle3.edits.inputs.prepare_edit`).
        """
        images, mask, names = self.read()
        return prepare_edit(profile_for(model), images, mask=mask, markup=self._read(self.markup, "markup"),
                            input_fidelity=self.input_fidelity, before_decoding=before_decoding, names=names)

    def read(self) -> tuple[list[bytes], bytes | None, list[str]]:
        """The references' bytes, the mask's, and the references' file names ("" where none is known);
        a file larger than an upload may be is refused unread."""
        images = [self._read(s, "reference image") or b"" for s in self.images]
        names = [s.name if isinstance(s, Path) else "" for s in self.images]  # Gradio keeps the upload's name
        return images, self._read(self.mask, "mask"), names


def checked_request(values: Mapping[str, Any], extras: Mapping[str, Any], safety_identifier: str | None = None,
                    *, model_named: bool = True) -> GenerationRequest:
    """The raw values checked against the model's rules; raises ValidationError with a plain message.

    ``model_named`` false: the model is the configured default, not one the person chose, so on an
    endpoint without it the studio runs its successor (the command line without ``--model``).
    """
    request = validate(values.get("prompt"), seed=values.get("seed"), quality=values.get("quality"),
                       style=values.get("style"), size=values.get("size"), model=values.get("model"),
                       extras=extras, output_format=values.get("output_format"),
                       output_compression=values.get("output_compression"),
                       safety_identifier=safety_identifier, n=values.get("n", 1))
    return request if model_named else replace(request, model_named=False)


Outcome = Preview | GenerationResult | DalleError


def _guarded(outcomes: Callable[[], Iterator[Preview | GenerationResult]]) -> Iterator[Outcome]:
    """``outcomes()``'s previews and result, or the error to show; never raises."""
    try:
        yield from outcomes()
    except DalleError as exc:
        yield exc
    except Exception:  # a bug must not take the page down or show a traceback
        log.exception("unexpected error while generating")
        yield UnexpectedError(UNEXPECTED)


def _outcomes(studio: Studio, request: GenerationRequest, own_key: str | None, previews: int,
              edit: EditSources | None, min_interval_s: float) -> Iterator[Preview | GenerationResult]:
    if edit:
        def admit(sizes: tuple[tuple[int, int], ...]) -> None:  # who pays, and may they: before decoding
            studio.admit(request, sizes, own_key, edit.input_fidelity)

        yield studio.edit(request, edit.prepare(request.model, admit), own_key)
    elif previews and studio.streams(request, own_key):
        yield from live(studio, request, own_key, previews, min_interval_s)
    else:
        yield studio.generate(request, own_key)


def run_request(studio: Studio, request: GenerationRequest, own_key: str | None = None, *, previews: int = 0,
                edit: EditSources | None = None, min_interval_s: float = MIN_INTERVAL_S) -> Iterator[Outcome]:
    """:func:`run_live` for a request already checked (the command line checks first, to say what it
    waits for). ``min_interval_s`` 0 passes on every preview (a terminal prints each as a line)."""
    return _guarded(lambda: _outcomes(studio, request, own_key, previews, edit, min_interval_s))


def run_live(studio: Studio, values: Mapping[str, Any], extras: Mapping[str, Any], own_key: str | None,
             previews: int = 0, safety_identifier: str | None = None, edit: EditSources | None = None,
             ) -> Iterator[Outcome]:
    """Previews as they arrive, then the result or the error to show; never raises.

    ``previews`` is a wish: a model or endpoint that does not stream, a batch (``n`` > 1) and
    an edit simply send none. With ``edit`` sources, the request edits them.
    """
    return _guarded(lambda: _outcomes(studio, checked_request(values, extras, safety_identifier), own_key,
                                      previews, edit, MIN_INTERVAL_S))


def run_generation(studio: Studio, values: Mapping[str, Any], extras: Mapping[str, Any],
                   own_key: str | None, safety_identifier: str | None = None,
                   edit: EditSources | None = None) -> GenerationResult | DalleError:
    """The result, or the error to show (no previews): what API callers get."""
    *_, outcome = run_live(studio, values, extras, own_key, 0, safety_identifier, edit)
    return outcome  # type: ignore[return-value]
