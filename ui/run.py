"""One generate path for the page and the API: validate, generate, map errors once."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from dalle3 import DalleError, Studio, validate
from dalle3.errors import UnexpectedError
from dalle3.status import UNEXPECTED
from dalle3.studio import GenerationResult

log = logging.getLogger("dalle3")


def run_generation(studio: Studio, values: Mapping[str, Any], extras: Mapping[str, Any],
                   own_key: str | None) -> GenerationResult | DalleError:
    """The result, or the error to show: never raises, so no caller can leak a traceback."""
    try:
        request = validate(values.get("prompt"), values.get("seed"), values.get("quality"), values.get("style"),
                           values.get("size"), values.get("model"), extras)
        return studio.generate(request, own_key)
    except DalleError as exc:
        return exc
    except Exception:  # a bug must not take the page down or show a traceback
        log.exception("unexpected error while generating")
        return UnexpectedError(UNEXPECTED)
