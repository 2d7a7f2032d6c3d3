import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached figures of one test must never answer another."""
    cache.clear()
    yield
    cache.clear()
