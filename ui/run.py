"""One generate path for the page and the API: validate, generate, map errors once."""

from __future__ import annotations

import logging
from typing import Any, Iterator, Mapping

from dalle3 import DalleError, Studio, validate
from dalle3.errors import UnexpectedError
from dalle3.live import live
from dalle3.status import UNEXPECTED
from dalle3.studio import GenerationResult, Preview

log = logging.getLogger("dalle3")


def run_live(studio: Studio, values: Mapping[str, Any], extras: Mapping[str, Any], own_key: str | None,
             previews: int = 0, safety_identifier: str | None = None,
             ) -> Iterator[Preview | GenerationResult | DalleError]:
    """Previews as they arrive, then the result or the error to show; never raises.

    ``previews`` is a wish: a model or endpoint that does not stream simply sends none.
    """
    try:
        request = validate(values.get("prompt"), values.get("seed"), values.get("quality"), values.get("style"),
                           values.get("size"), values.get("model"), extras, values.get("output_format"),
                           values.get("output_compression"), safety_identifier)
        if previews and studio.streams(request, own_key):
            yield from live(studio, request, own_key, previews)
        else:
            yield studio.generate(request, own_key)
    except DalleError as exc:
        yield exc
    except Exception:  # a bug must not take the page down or show a traceback
        log.exception("unexpected error while generating")
        yield UnexpectedError(UNEXPECTED)


def run_generation(studio: Studio, values: Mapping[str, Any], extras: Mapping[str, Any],
                   own_key: str | None, safety_identifier: str | None = None) -> GenerationResult | DalleError:
    """The result, or the error to show (no previews): what API callers get."""
    *_, outcome = run_live(studio, values, extras, own_key, 0, safety_identifier)
    return outcome  # type: ignore[return-value]
