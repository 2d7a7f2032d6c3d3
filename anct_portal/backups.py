"""Backups of the PostgreSQL database: dump (custom format), restore into another database, and
fingerprints to prove a restored copy holds the same data (see README, "Operations").

The fingerprint of a database is the exact row count of every table of the public schema, the
position of every sequence (a restore that forgot them would hand out ids already taken), and
an MD5 checksum of the full content of the tables that carry the record of the service:
requests, their transition logs, messages, attachments, notifications and accounts.
"""

import os
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

CHECKSUM_TABLES = (
    "accounts_user",
    "engineering_requests_engineeringrequest",
    "engineering_requests_transitionlog",
    "engineering_requests_requestmessage",
    "engineering_requests_attachment",
    "notifications_notification",
)


class BackupError(Exception):
    pass


def _database(alias: str = "default") -> dict:
    database = settings.DATABASES[alias]
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise BackupError("Backups need PostgreSQL (set DATABASE_URL=postgres://...).")
    return database


def _client_env(database: dict) -> dict:
    env = dict(os.environ)
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = database["PASSWORD"]
    return env


def _client_args(database: dict) -> list[str]:
    args = []
    if database.get("HOST"):
        args += ["--host", database["HOST"]]
    if database.get("PORT"):
        args += ["--port", str(database["PORT"])]
    if database.get("USER"):
        args += ["--username", database["USER"]]
    return args


def _run(argv: list[str], env: dict) -> None:
    binary = shutil.which(argv[0])
    if binary is None:
        raise BackupError(f"{argv[0]} is not installed (Debian: postgresql-client).")
    result = subprocess.run([binary, *argv[1:]], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {result.stderr.strip()[:2000]}")


def create_database(name: str, *, alias: str = "default") -> None:
    database = _database(alias)
    _run(["createdb", *_client_args(database), name], _client_env(database))


def drop_database(name: str, *, alias: str = "default") -> None:
    database = _database(alias)
    _run(["dropdb", *_client_args(database), "--if-exists", "--force", name],
         _client_env(database))  # fmt: skip


def restore(path: Path, *, target: str, alias: str = "default") -> None:
    """``pg_restore`` of a custom-format dump into the existing, empty database ``target``;
    stops at the first error (a partial restore must not pass for a good one)."""
    database = _database(alias)
    _run(
        ["pg_restore", *_client_args(database), "--no-owner", "--no-privileges",
         "--exit-on-error", "--single-transaction", "--dbname", target, str(path)],
        _client_env(database),
    )  # fmt: skip


def connect(name: str | None = None, *, alias: str = "default"):
    """A direct psycopg connection to database ``name`` (by default the one Django uses)."""
    import psycopg

    database = _database(alias)
    params = {
        "dbname": name or database["NAME"],
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v is not None})


def fingerprint(conn) -> dict:
    """Row counts of every table, content checksums of the tables of record, and the tables
    whose id sequence is behind their largest id (the next insert would fail)."""
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    counts = {
        table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
        for table in tables
    }
    checksums = {}
    for table in CHECKSUM_TABLES:
        if table in counts:
            checksums[table] = conn.execute(
                "SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '')) "  # noqa: S608
                f'FROM "{table}" t'
            ).fetchone()[0]
    behind = []
    for table, sequence in conn.execute(
        "SELECT c.table_name, pg_get_serial_sequence(quote_ident(c.table_name), 'id') "
        "FROM information_schema.columns c WHERE c.table_schema = 'public' "
        "AND c.column_name = 'id' ORDER BY c.table_name"
    ).fetchall():
        if sequence is None:
            continue
        last = conn.execute(f"SELECT last_value FROM {sequence}").fetchone()[0]  # noqa: S608
        largest = conn.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()[0]  # noqa: S608
        if last < largest:
            behind.append(table)
    return {"tables": counts, "checksums": checksums, "sequences_behind": behind}


def dump_with_fingerprint(path: Path, *, alias: str = "default") -> dict:
    """Dump the database and fingerprint it from the same snapshot, so that the check also
    holds on a database in use: the dump and the figures see exactly the same rows."""
    database = _database(alias)
    with connect(alias=alias) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        expected = fingerprint(conn)
        _run(
            ["pg_dump", *_client_args(database), "--format=custom", "--no-owner",
             "--no-privileges", f"--snapshot={snapshot}", "--file", str(path), database["NAME"]],
            _client_env(database),
        )  # fmt: skip
        conn.rollback()
    return expected


def differences(expected: dict, actual: dict) -> list[str]:
    """What differs between the original's fingerprint and the restored copy's, in words
    (empty when the copy is faithful)."""
    found = []
    for part in ("tables", "checksums"):
        left, right = expected.get(part, {}), actual.get(part, {})
        for key in sorted(set(left) | set(right)):
            if left.get(key) != right.get(key):
                found.append(f"{part} {key}: {left.get(key)!r} → {right.get(key)!r}")
    for table in actual.get("sequences_behind", []):
        found.append(f"sequence of {table} is behind its largest id")
    return found
