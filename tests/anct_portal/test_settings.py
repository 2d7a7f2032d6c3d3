import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from anct_portal import env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("YES", True), ("on", True), ("false", False), ("0", False)],
)
def test_env_bool_parses_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env.env_bool("SOME_FLAG") is expected


def test_env_bool_rejects_typos(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env.env_bool("SOME_FLAG")


def test_env_int_and_list(monkeypatch):
    monkeypatch.setenv("SOME_INT", "42")
    monkeypatch.setenv("SOME_LIST", " a.example , b.example,, ")
    assert env.env_int("SOME_INT", 1) == 42
    assert env.env_list("SOME_LIST") == ["a.example", "b.example"]
    monkeypatch.setenv("SOME_INT", "forty")
    with pytest.raises(ImproperlyConfigured, match="SOME_INT"):
        env.env_int("SOME_INT", 1)


# Set by anct_portal.settings_test in this process: a child process must not inherit them.
_TEST_ONLY = {
    "SECRET_KEY",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
}


def _clean_env(**extra) -> dict:
    env_vars = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY}
    return {**env_vars, "DJANGO_SETTINGS_MODULE": "anct_portal.settings", **extra}


def _run_django(extra_env: dict, code: str, unset=()) -> subprocess.CompletedProcess:
    clean_env = _clean_env(**extra_env)
    for name in unset:
        clean_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_secret_key_in_production_is_a_clear_startup_error():
    result = _run_django({"DEBUG": "false"}, "")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_settings_read_from_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.TIME_ZONE, s.LANGUAGE_CODE, "
        "s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)"
    )
    result = _run_django(
        {
            "DEBUG": "false",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "portail.example,admin.example",
            "DATABASE_URL": "postgres://u:p@db.example:5432/anct",
            "CELERY_BROKER_URL": "redis://cache.example:6379/0",
        },
        code,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "['portail.example',",
        "'admin.example']",
        "Europe/Paris",
        "fr",
        "django.db.backends.postgresql",
        "redis://cache.example:6379/0",
    ]


def test_defaults_are_zero_setup():
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND)"
    )
    result = _run_django({"DEBUG": "true", "DATABASE_URL": "", "CELERY_BROKER_URL": ""}, code)
    assert result.returncode == 0, result.stderr
    engine, broker, mail = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert mail == "django.core.mail.backends.filebased.EmailBackend"


def test_cache_is_redis_with_redis_url_and_memory_of_each_process_without():
    code = (
        "from django.conf import settings as s; "
        "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'])"
    )
    result = _run_django({"DEBUG": "true", "REDIS_URL": "redis://cache.example:6379/3"}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://cache.example:6379/3",
    ]
    result = _run_django({"DEBUG": "true", "REDIS_URL": ""}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.core.cache.backends.locmem.LocMemCache"


def test_check_deploy_passes_with_production_values():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_clean_env(
            DEBUG="false",
            SECRET_KEY="a-long-random-production-secret-" + "k7Qz" * 10,
            ALLOWED_HOSTS="ingenierie.anct.gouv.fr",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_requests_is_not_a_project_package():
    assert not (ROOT / "requests").exists()
    assert not (ROOT / "requests.py").exists()
    spec = importlib.util.find_spec("requests")
    if spec is not None:  # the PyPI library, when installed, must come from site-packages
        assert "site-packages" in Path(spec.origin).resolve().parts


@pytest.mark.parametrize(("raw", "threshold"), [(None, "0"), ("true", "0"), ("false", "None")])
def test_prepared_statements_can_be_turned_off_for_a_pooler(raw, threshold):
    """``DATABASE_PREPARED_STATEMENTS=false``: psycopg prepares nothing (a pooler in
    transaction mode cannot keep a connection's prepared statements)."""
    extra = {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "DATABASE_URL": "postgres://u:p@db.example:5432/anct",
        **({} if raw is None else {"DATABASE_PREPARED_STATEMENTS": raw}),
    }
    code = "from django.conf import settings as s; print(s.DATABASES['default']['OPTIONS'])"
    result = _run_django(extra, code, unset=() if raw else ("DATABASE_PREPARED_STATEMENTS",))
    assert result.returncode == 0, result.stderr
    assert f"'prepare_threshold': {threshold}" in result.stdout
