"""Discovery: what the endpoint offers marks the table; a failed listing changes nothing."""

from __future__ import annotations

from dalle3.http.client import ImagesClient
from dalle3.http.discovery import Discovery
from dalle3.settings import Settings
from tests.fake_openai import Outcome

KEY = "sk-discovery-test-0000"


def discovery_for(fake) -> Discovery:
    return Discovery(ImagesClient(Settings(api_key=KEY, base_url=fake.base_url, timeout_s=2, connect_timeout_s=1)))


def test_listing_keeps_image_models_with_shutdown_dates(fake_api):
    listing = discovery_for(fake_api).listing(KEY)
    assert listing.problem is None
    assert listing.offered["gpt-image-1.5"]["shutdown_date"] == "2026-12-01"
    assert "gpt-image-2.6-flare" in listing.offered and "gpt-5" not in listing.offered


def test_listing_is_cached_per_key(fake_api):
    discovery = discovery_for(fake_api)
    discovery.listing(KEY)
    discovery.listing(KEY)
    assert len(fake_api.model_requests) == 1
    assert discovery.peek(KEY) is not None and discovery.peek("sk-other") is None
    discovery.listing("sk-other")
    assert len(fake_api.model_requests) == 2


def test_refused_listing_keeps_the_table_and_says_so(fake_api):
    fake_api.models_outcome = Outcome.invalid_key()
    listing = discovery_for(fake_api).listing(KEY)
    assert listing.offered is None and "showing the built-in table unchanged" in listing.problem
    assert KEY not in listing.problem and "0000" not in listing.problem


def test_the_listing_cache_is_bounded_in_size_and_age(fake_api, monkeypatch):
    from dalle3.http import discovery as module

    monkeypatch.setattr(module, "MAX_KEYS", 16)  # the rule, not the production size: 36 listings, not 276
    found = Discovery(ImagesClient(Settings(api_key="sk-x", base_url=fake_api.base_url)))
    for i in range(module.MAX_KEYS + 20):
        found.listing(f"sk-visitor-{i}")
    assert len(found._cache) == module.MAX_KEYS
    assert found.peek("sk-visitor-0") is None and found.peek(f"sk-visitor-{module.MAX_KEYS + 19}") is not None
    monkeypatch.setattr(module, "TTL_S", 0.0)
    assert found.peek(f"sk-visitor-{module.MAX_KEYS + 19}") is None
    assert len(found._cache) == module.MAX_KEYS - 1  # an expired entry is dropped, not kept
