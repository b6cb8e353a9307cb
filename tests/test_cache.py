"""The bounded result cache."""

from dalle3.cache import LRUCache


def test_lru_cache_is_bounded():
    cache = LRUCache(maxsize=3)
    for i in range(5):
        cache.put(i, str(i))
    assert len(cache) == 3 and cache.get(0) is None and cache.get(4) == "4"
