"""Discovery: what the endpoint offers marks the table; a failed listing changes nothing."""

from __future__ import annotations

from dalle3.client import ImagesClient
from dalle3.discovery import Discovery
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
