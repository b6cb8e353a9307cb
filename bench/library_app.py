"""``python app.py`` plus what the Library tab adds at start, for bench row L3 until the page wires it.

Opens the index beside the images and reconciles it in a background thread
(as :meth:`dalle3.library.Library.start` does for the page) when
:func:`~dalle3.library.library_access` allows, then runs the page as usual; with
``DALLE3_LIBRARY=0`` it is plain ``python app.py``, so the pair differs by the library alone.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dalle3 import from_env  # noqa: E402
from dalle3.library import Library, library_access  # noqa: E402

settings = from_env()
if library_access(settings, "127.0.0.1").enabled and settings.output_dir is not None:
    Library(settings.output_dir).start()

import app  # noqa: E402

app.main([])
