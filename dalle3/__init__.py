"""dalle3 studio: drive OpenAI's image generation by hand (no Gradio in here).

The package is usable from a script, the CLI or the page alike::

    from dalle3 import Studio, from_env, validate
    studio = Studio(from_env())
    result = studio.generate(validate("a lighthouse at dawn", seed=7))
"""

from dalle3.version import __version__  # noqa: E402
from dalle3.errors import DalleError, ValidationError  # noqa: E402
from dalle3.params import GenerationRequest, validate  # noqa: E402
from dalle3.settings import Settings, from_env  # noqa: E402
from dalle3.studio import GenerationResult, Studio  # noqa: E402

__all__ = ["DalleError", "GenerationRequest", "GenerationResult", "Settings", "Studio",
           "ValidationError", "from_env", "validate", "__version__"]
