"""The page, in parts: ``layout`` builds components, ``wiring``/``api`` connect one concern each.

``app.py`` is the entry point (the Space runs it); it imports this package only once it is
about to serve, so ``python app.py --help`` and a bad setting answer before Gradio loads.
All logic lives in :mod:`dalle3`, which never imports Gradio.
"""
