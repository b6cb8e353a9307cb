"""Benchmarks for dalle3 studio: run ``python -m bench`` (``--quick`` for a short run).

Not part of the test suite (pytest's ``testpaths`` is ``tests``).
"""
