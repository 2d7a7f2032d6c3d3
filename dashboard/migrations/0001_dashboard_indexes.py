"""Indexes the dashboard queries need on the requests table (checked with EXPLAIN ANALYZE on
200,000 requests, see scripts/bench_dashboard.py).

They are partial or expression indexes that only the dashboard uses, so they live in the
dashboard app as SQL (PostgreSQL only; the SQLite development database does without) rather
than in the requests model.
"""

from django.db import migrations

TABLE = "engineering_requests_engineeringrequest"
INDEXES = {
    # data_version(): MAX(last_transition_at) by one index probe.
    "dashboard_req_last_transition_idx": "(last_transition_at)",
    # Monthly trend: submissions of the last 12 months.
    "dashboard_req_submitted_idx": "(submitted_at) WHERE submitted_at IS NOT NULL",
    # Monthly trend: decisions (local or national) by decision date.
    "dashboard_req_decision_date_idx": "((COALESCE(resolved_locally_at, decided_at)))",
    # National decisions by instrument and operator: a few percent of the rows.
    "dashboard_req_decided_idx": (
        "(decided_at) INCLUDE (national_instrument, operator_id, granted_amount) "
        "WHERE decided_at IS NOT NULL"
    ),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("engineering_requests", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
