# ruff: noqa: S608 - SQL built from the constant table and column names below, never from input
"""Keeping ``RequestFact`` and ``RequestCount`` (dashboard.models) equal to the requests table.

Triggers on the requests table copy each request (or remove it) in the same transaction as the
write: on PostgreSQL one PL/pgSQL function, on SQLite three triggers (the development database).
On PostgreSQL a trigger on the facts then moves each fact's contribution between the counters
per (département, state). ``rebuild()`` recomputes both from the requests table: the migrations
call it, and so must anything that writes requests with the triggers disabled (the benchmark's
COPY).

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


# The delay indexes of the percentiles read by OFFSET (selectors._indexed_percentiles), on
# PostgreSQL only (covering indexes; SQLite sorts its few rows). The columns of the filters
# are INCLUDEd so that entries are filtered without reading the table.
_FILTERS = "programme_id, intervention_form"
_REVIEW = f"review_started_at, {_FILTERS}"
_DECISION = f"resolved_locally_at, decided_at, {_FILTERS}"
INDEXES = {
    "dashboard_fact_dep_review_idx": f"(departement_id, review_days) INCLUDE ({_REVIEW})",
    "dashboard_fact_dep_dec_idx": f"(departement_id, decision_days) INCLUDE ({_DECISION})",
    "dashboard_fact_review_idx": f"(review_days) INCLUDE (departement_id, {_REVIEW})",
    "dashboard_fact_dec_days_idx": f"(decision_days) INCLUDE (departement_id, {_DECISION})",
}


def create_indexes_sql() -> list[str]:
    return [
        f"CREATE INDEX IF NOT EXISTS {name} ON {FACTS} {definition}"
        for name, definition in INDEXES.items()
    ]


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


# --- Counters per (département, state), PostgreSQL only (dashboard.models.RequestCount) ----

COUNTS = "dashboard_requestcount"
COUNT_TRIGGER = "dashboard_request_count_sync"
REBUILDING = "dashboard.rebuilding"  # a transaction-local setting: the counters trigger waits


def _counters(row: str) -> dict[str, str]:
    """What one fact ``row`` adds to each counter (the unfiltered conditions of
    ``selectors._counts``: a milestone counts when it is set)."""

    def one(condition: str) -> str:
        return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    escalated = f"{row}.escalated_at IS NOT NULL"
    decided = f"({row}.resolved_locally_at IS NOT NULL OR {row}.decided_at IS NOT NULL)"
    review = f"{row}.review_started_at IS NOT NULL"
    return {
        "submitted": one(f"{row}.submitted_at IS NOT NULL"),
        "local": one(f"{row}.resolved_locally_at IS NOT NULL"),
        "national": one(f"{row}.decided_at IS NOT NULL"),
        "escalated": one(escalated),
        "national_amount": (
            f"(CASE WHEN {row}.decided_at IS NOT NULL THEN COALESCE({row}.granted_amount, 0) "
            "ELSE 0 END)"
        ),
        "ground_fragility": one(f"{escalated} AND {row}.ground_fragility"),
        "ground_innovative": one(f"{escalated} AND {row}.ground_innovative"),
        "ground_rare_expertise": one(f"{escalated} AND {row}.rare_expertise"),
        "ground_national_scope": one(f"{escalated} AND {row}.national_scope"),
        "review_count": one(review),
        "review_values": one(f"{review} AND {row}.review_days IS NOT NULL"),
        "decision_count": one(decided),
        "decision_values": one(f"{decided} AND {row}.decision_days IS NOT NULL"),
    }


COUNTERS = list(_counters("r"))


def _apply_counters(row: str, sign: str) -> str:
    values = ", ".join(f"{sign}{expression}" for expression in _counters(row).values())
    updates = ", ".join(f"{c} = {COUNTS}.{c} + EXCLUDED.{c}" for c in COUNTERS)
    return (
        f"INSERT INTO {COUNTS} (departement_id, state, {', '.join(COUNTERS)}) "
        f"VALUES ({row}.departement_id, {row}.state, {values}) "
        f"ON CONFLICT (departement_id, state) DO UPDATE SET {updates};"
    )


def install_counts_sql() -> list[str]:
    return [
        f"""
        CREATE OR REPLACE FUNCTION {COUNT_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('{REBUILDING}', true) = 'on' THEN
                RETURN NULL;
            END IF;
            -- Counter rows are locked in (département, state) order whatever the move, so
            -- that two opposite moves in one département cannot deadlock.
            IF TG_OP = 'UPDATE'
                AND (NEW.departement_id, NEW.state) < (OLD.departement_id, OLD.state) THEN
                {_apply_counters("NEW", "")}
                {_apply_counters("OLD", "-")}
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' THEN
                {_apply_counters("OLD", "-")}
            END IF;
            IF TG_OP <> 'DELETE' THEN
                {_apply_counters("NEW", "")}
            END IF;
            RETURN NULL;
        END
        $$
        """,
        f"DROP TRIGGER IF EXISTS {COUNT_TRIGGER} ON {FACTS}",
        f"""
        CREATE TRIGGER {COUNT_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {FACTS}
        FOR EACH ROW EXECUTE FUNCTION {COUNT_TRIGGER}()
        """,
    ]


def uninstall_counts_sql() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {COUNT_TRIGGER} ON {FACTS}",
        f"DROP FUNCTION IF EXISTS {COUNT_TRIGGER}()",
    ]


def rebuild_counts_sql() -> list[str]:
    sums = ", ".join(f"SUM({expression})" for expression in _counters("r").values())
    return [
        f"DELETE FROM {COUNTS}",
        f"INSERT INTO {COUNTS} (departement_id, state, {', '.join(COUNTERS)}) "
        f"SELECT r.departement_id, r.state, {sums} FROM {FACTS} AS r GROUP BY 1, 2",
    ]


def rebuild(using=None, *, reinstall: bool = False) -> int:
    """Recompute every fact from the requests table, and on PostgreSQL the counters from the
    facts, in one transaction (``reinstall``: the triggers too, in case they were dropped or
    disabled); the number of facts."""
    conn = connection if using is None else connections[using]
    postgresql = conn.vendor == "postgresql"
    statements = install_sql(conn.vendor) if reinstall else []
    if postgresql:
        statements += install_counts_sql() if reinstall else []
        # The counters are recomputed once at the end, not row by row.
        statements.append(f"SELECT set_config('{REBUILDING}', 'on', true)")
    statements += rebuild_sql(conn.vendor)
    if postgresql:
        statements += rebuild_counts_sql()
        statements.append(f"SELECT set_config('{REBUILDING}', 'off', true)")
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f"SELECT COUNT(*) FROM {FACTS}")
        count = cursor.fetchone()[0]
    if postgresql and conn.get_autocommit():
        with conn.cursor() as cursor:
            # Fresh statistics and visibility map: index-only scans and good plans at once.
            cursor.execute(f"VACUUM ANALYZE {FACTS}")
            cursor.execute(f"ANALYZE {COUNTS}")
    return count


def values_at_offsets_sql(column: str, rows: str) -> list[str]:
    """Three SELECTs of (metric, département or NULL, descending, offset, the two values of
    ``column`` from that offset) among ``rows`` (SQL of the filtered facts, selecting
    departement_id and ``column``), read by index-only scans on the delay indexes: per
    département in ascending order, for all of them in ascending then in descending order.
    Parameters: the metric's name, the parameters of ``rows``, the départements and offsets
    (two arrays); twice: the metric's name, the parameters of ``rows``, the offsets."""
    pair = f"ARRAY(SELECT x.{column} FROM ({rows}) AS x"
    ascending = f"ORDER BY x.{column} OFFSET t.off LIMIT 2)"
    descending = f"ORDER BY x.{column} DESC OFFSET t.off LIMIT 2)"
    return [
        f"SELECT %s, t.dep, false, t.off, {pair} WHERE x.departement_id = t.dep {ascending} "
        "FROM unnest(%s::bigint[], %s::bigint[]) AS t(dep, off)",
        f"SELECT %s, NULL::bigint, false, t.off, {pair} {ascending} "
        "FROM unnest(%s::bigint[]) AS t(off)",
        f"SELECT %s, NULL::bigint, true, t.off, {pair} {descending} "
        "FROM unnest(%s::bigint[]) AS t(off)",
    ]
