"""Settings for the test suite: the production settings with test-only shortcuts."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from anct_portal.settings import *  # noqa: F403
from anct_portal.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Memory of the test process, emptied around every test (tests/conftest.py), even when
# REDIS_URL is set for the Redis tests: a test never reads another's cached pages, and never
# flushes the broker's database.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Whitenoise warns when STATIC_ROOT is missing; tests serve static files from the apps.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
