"""What the scripts that run the whole stack share: a throwaway database, a free port, waiting
for something to come up. Used by bench.py, bench_dashboard.py and load_faults.py."""

import re
import socket
import time
from urllib.parse import urlparse


def recreate_database(url: str, *, allowed: str, rule: str) -> None:
    """Drop and create the database named in ``url``, only if its name fully matches the
    ``allowed`` pattern (never point a script at real data); ``rule`` explains the pattern."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not re.fullmatch(allowed, name):
        raise SystemExit(f"Refusing to drop {name!r}: {rule}.")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
