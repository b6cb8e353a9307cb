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


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    """One fake per test module, shared by its app; tests reset or script it as they need."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def shared_client(served):
    """One gradio_client session for a module's ``served`` app (modules define ``served``)."""
    with served.connected() as client:
        yield client


@pytest.fixture
def client(shared_client, fake):
    """The module's client, with the fake back to plain success and no recorded requests."""
    fake.reset()
    fake.retired_models = set()
    fake.default_delay_s = 0.0
    fake.rendezvous = None
    return shared_client


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (``item.rep_call``) so fixtures can see a test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, once per browser test module (tests/browser_support.py says how it is started)."""
    from tests.browser_support import launched_chromium

    with launched_chromium() as chromium:
        yield chromium
