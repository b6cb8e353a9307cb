"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_openai import FakeOpenAI


@pytest.fixture
def fake_api() -> Iterator[FakeOpenAI]:
    """A running fake OpenAI Images server, stopped after the test."""
    with FakeOpenAI() as fake:
        yield fake
