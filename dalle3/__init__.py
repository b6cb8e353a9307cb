"""dalle3 studio: drive OpenAI's image generation by hand (no Gradio in here).

The package is usable from a script, the CLI or the page alike::

    from dalle3 import Studio, from_env, validate
    studio = Studio(from_env())
    result = studio.generate(validate("a lighthouse at dawn", seed=7))

The names below are loaded on first use (PEP 562), so ``import dalle3.models`` or
``import dalle3.views.status`` does not pull in the HTTP client, Pillow and SQLite.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from dalle3.version import __version__

_LAZY = {
    "DalleError": "dalle3.errors", "ValidationError": "dalle3.errors",
    "GenerationRequest": "dalle3.params", "validate": "dalle3.params",
    "Settings": "dalle3.settings", "from_env": "dalle3.settings",
    "GenerationResult": "dalle3.results", "Studio": "dalle3.studio",
}

__all__ = ["DalleError", "GenerationRequest", "GenerationResult", "Settings", "Studio",
           "ValidationError", "__version__", "from_env", "validate"]

if TYPE_CHECKING:
    from dalle3.errors import DalleError, ValidationError
    from dalle3.params import GenerationRequest, validate
    from dalle3.results import GenerationResult
    from dalle3.settings import Settings, from_env
    from dalle3.studio import Studio


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dalle3' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
