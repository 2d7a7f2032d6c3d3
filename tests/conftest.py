"""Project-wide test set-up.

Tests that need a real PostgreSQL or Redis are marked ``postgres`` / ``redis``. Without the
service they are skipped with the reason shown in the summary; with ``CI=true`` a missing
service is a failure, so CI never passes by skipping.
"""

import os
import socket
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _redis_url() -> str | None:
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = os.environ.get(name, "")
        if url.startswith("redis://"):
            return url
    return None


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 1):
            return True
    except OSError:
        return False


CHROMIUM = "/usr/bin/chromium"


def _missing_service(item) -> str | None:
    if item.get_closest_marker("browser"):
        import importlib.util

        if importlib.util.find_spec("playwright") is None:
            return "needs the playwright package (pip install -e '.[dev]')"
        if not os.path.exists(CHROMIUM):
            return f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    if item.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if item.get_closest_marker("redis"):
        url = _redis_url()
        if not url:
            return "needs Redis: set CELERY_BROKER_URL=redis://..."
        if not _reachable(url):
            return f"needs Redis: {url} is not reachable"
    return None


def pytest_runtest_setup(item):
    reason = _missing_service(item)
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true and a service is missing: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploaded files of a test go to a temporary folder, never under var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached figures and pages of one test never answer another (memory cache, see
    anct_portal/settings_test.py)."""
    from django.core.cache import cache

    from dashboard.selectors import clear_local_cache
    from engineering_requests.admin.requests import _common_words

    cache.clear()
    clear_local_cache()
    _common_words.clear()
    yield
    cache.clear()
    clear_local_cache()
    _common_words.clear()
