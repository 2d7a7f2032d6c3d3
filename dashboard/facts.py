# ruff: noqa: S608 - SQL built from the constant table and column names below, never from input
"""Keeping ``RequestFact`` (dashboard.models) equal to the requests table.

Triggers on the requests table copy each request (or remove it) in the same transaction as the
write: on PostgreSQL one PL/pgSQL function, on SQLite three triggers (the development database).
``rebuild()`` recomputes every row from the requests table: the migration calls it, and so must
anything that writes requests with the triggers disabled (the benchmark's COPY).

The column expressions below are the only definition of a fact. Delays are in days, as floats:
``date_part('epoch', end - start) / 86400`` on PostgreSQL (a double; EXTRACT returns numeric,
much slower to sort), the difference of ``julianday`` on SQLite.
"""

from django.db import connection, connections, transaction

REQUESTS = "engineering_requests_engineeringrequest"
FACTS = "dashboard_requestfact"
TRIGGER = "dashboard_request_fact_sync"

COLUMNS = [
    "request_id",
    "state",
    "departement_id",
    "programme_id",
    "intervention_form",
    "national_instrument",
    "operator_id",
    "granted_amount",
    "submitted_at",
    "review_started_at",
    "resolved_locally_at",
    "escalated_at",
    "decided_at",
    "decision_at",
    "ground_fragility",
    "ground_innovative",
    "rare_expertise",
    "national_scope",
    "review_days",
    "decision_days",
]


def _days(vendor: str, start: str, end: str) -> str:
    if vendor == "postgresql":
        return f"(date_part('epoch', {end} - {start}) / 86400.0)"
    return f"(julianday({end}) - julianday({start}))"


def _values(vendor: str, row: str) -> list[str]:
    """SQL of each column of COLUMNS, reading the request ``row`` (a table alias or NEW)."""
    decision_at = f"COALESCE({row}.resolved_locally_at, {row}.decided_at)"
    return [
        f"{row}.id",
        f"{row}.state",
        f"{row}.departement_id",
        f"{row}.programme_id",
        f"{row}.intervention_form",
        f"{row}.national_instrument",
        f"{row}.operator_id",
        f"{row}.granted_amount",
        f"{row}.submitted_at",
        f"{row}.review_started_at",
        f"{row}.resolved_locally_at",
        f"{row}.escalated_at",
        f"{row}.decided_at",
        decision_at,
        f"({row}.fragility_rationale <> '' AND {row}.insufficient_resources_rationale <> '')",
        f"({row}.innovative_rationale <> '')",
        f"{row}.rare_expertise",
        f"{row}.national_scope",
        _days(vendor, f"{row}.submitted_at", f"{row}.review_started_at"),
        _days(vendor, f"{row}.submitted_at", decision_at),
    ]


def _select(vendor: str, row: str) -> str:
    return "SELECT " + ", ".join(_values(vendor, row))


def _insert(vendor: str, row: str) -> str:
    return f"INSERT INTO {FACTS} ({', '.join(COLUMNS)}) {_select(vendor, row)}"


def install_sql(vendor: str) -> list[str]:
    """Statements creating the triggers (replacing older versions)."""
    if vendor == "postgresql":
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
        return [
            f"""
            CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' OR NEW.state = 'draft' THEN
                    DELETE FROM {FACTS} WHERE request_id = OLD.id;
                END IF;
                IF TG_OP = 'UPDATE' AND NEW.id <> OLD.id THEN
                    DELETE FROM {FACTS} WHERE request_id = OLD.id;
                END IF;
                IF TG_OP <> 'DELETE' AND NEW.state <> 'draft' THEN
                    {_insert(vendor, "NEW")}
                    ON CONFLICT (request_id) DO UPDATE SET {updates};
                END IF;
                RETURN NULL;
            END
            $$
            """,
            f"DROP TRIGGER IF EXISTS {TRIGGER} ON {REQUESTS}",
            f"""
            CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {REQUESTS}
            FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()
            """,
        ]
    statements = []
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        name = f"{TRIGGER}_{event.lower()}"
        body = f"DELETE FROM {FACTS} WHERE request_id = OLD.id;" if event != "INSERT" else ""
        if event != "DELETE":
            body += f"{_insert(vendor, row)} WHERE NEW.state <> 'draft';"
        statements += [
            f"DROP TRIGGER IF EXISTS {name}",
            f"CREATE TRIGGER {name} AFTER {event} ON {REQUESTS} FOR EACH ROW BEGIN {body} END",
        ]
    return statements


def uninstall_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {TRIGGER} ON {REQUESTS}",
            f"DROP FUNCTION IF EXISTS {TRIGGER}()",
        ]
    return [f"DROP TRIGGER IF EXISTS {TRIGGER}_{event}" for event in ("insert", "update", "delete")]


def rebuild_sql(vendor: str) -> list[str]:
    return [
        f"DELETE FROM {FACTS}",
        f"{_insert(vendor, 'r')} FROM {REQUESTS} AS r WHERE r.state <> 'draft'",
    ]


def rebuild(using=None, *, reinstall: bool = False) -> int:
    """Recompute every fact from the requests table, in one transaction (``reinstall``: the
    triggers too, in case they were dropped or disabled); the number of facts."""
    conn = connection if using is None else connections[using]
    statements = (install_sql(conn.vendor) if reinstall else []) + rebuild_sql(conn.vendor)
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f"SELECT COUNT(*) FROM {FACTS}")
        count = cursor.fetchone()[0]
    if conn.vendor == "postgresql" and conn.get_autocommit():
        with conn.cursor() as cursor:
            # Fresh statistics and visibility map: index-only scans and good plans at once.
            cursor.execute(f"VACUUM ANALYZE {FACTS}")
    return count


def values_at_offsets_sql(column: str) -> list[str]:
    """Two SELECTs of (metric, département or NULL, offset, the two values of ``column`` from
    that offset in ascending order), read by index-only scans on the delay indexes. Parameters:
    the metric's name, the départements and offsets (two arrays), the metric's name again, the
    offsets for all of France (an array)."""
    pair = f"ARRAY(SELECT f.{column} FROM {FACTS} f WHERE f.{column} IS NOT NULL"
    window = f"ORDER BY f.{column} OFFSET t.off LIMIT 2)"
    return [
        f"SELECT %s, t.dep, t.off, {pair} AND f.departement_id = t.dep {window} "
        "FROM unnest(%s::bigint[], %s::bigint[]) AS t(dep, off)",
        f"SELECT %s, NULL::bigint, t.off, {pair} {window} FROM unnest(%s::bigint[]) AS t(off)",
    ]
