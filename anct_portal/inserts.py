"""Several INSERTs in one statement on PostgreSQL (issue 10, speed).

A write that inserts into several tables (a submission: the request, its domains, its log
row, its notifications, the form's token) paid a round trip per table and the ORM's
compilation of each INSERT (and psycopg's parsing of a long statement with ~50 parameters),
for rows of a few hundred bytes. ``Inserts`` sends them as the data-modifying CTEs of one
statement, each table's rows as ONE JSON parameter (``INSERT … SELECT … FROM
jsonb_populate_recordset(NULL::table, %s)``): the text of the statement does not depend on the
values or the number of rows, so psycopg parses it once per process, and the values are
serialised by ``json.dumps``. They are what ``Model.save`` would send (each field's
``pre_save``: defaults, ``auto_now``), written as their text form, which PostgreSQL reads
with each column's own input function.

Every CTE runs to completion whether or not the final ``SELECT`` reads it, in one snapshot:
the rows are not visible to each other (the foreign keys are deferred to COMMIT), nothing may
insert then read back its own rows. No signals are sent (as ``bulk_create``).
"""

import datetime
import decimal
import json
import uuid

from django.db import connections

_SQL_CACHE: dict = {}


def _insert_sql(model, fields, suffix: str, connection) -> str:
    key = (connection.alias, model, tuple(f.attname for f in fields), suffix)
    sql = _SQL_CACHE.get(key)
    if sql is None:
        # Names from the model (S608: no value is written into the SQL).
        qn = connection.ops.quote_name
        table = qn(model._meta.db_table)
        if len(fields) == len(model._meta.concrete_fields):
            # Every column: the record type is the table's own, in the table's order.
            rows = f"jsonb_populate_recordset(NULL::{table}, %s)"
            sql = f"INSERT INTO {table} SELECT * FROM {rows}"  # noqa: S608
        else:  # an identity key left to its sequence
            columns = ", ".join(qn(f.column) for f in fields)
            sql = (
                f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608
                f"FROM jsonb_populate_recordset(NULL::{table}, %s)"
            )
        if suffix:
            sql += f" {suffix}"
        _SQL_CACHE[key] = sql
    return sql


def _text(value):
    """A value as JSON gives it to PostgreSQL's input function of its column."""
    if isinstance(value, datetime.date | datetime.time):  # datetime too
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _row(obj, fields) -> dict:
    row = {}
    for f in fields:
        value = f.pre_save(obj, True)
        if f.get_internal_type() != "JSONField":  # a JSON column takes the value itself
            value = _text(value)
        row[f.column] = value
    return row


def concrete_fields(model, *, with_pk: bool) -> list:
    return [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]


class Inserts:
    """``add_rows`` (and ``add``: other data-modifying statements) then ``run`` them in one
    round trip; ``run`` returns, for each name added with ``returning``, its rows."""

    def __init__(self, using: str = "default"):
        self.connection = connections[using]
        self._ctes: list[tuple[str, str, list]] = []
        self._returning: list[tuple[str, tuple]] = []

    def add_rows(self, name, objs, *, fields=None, suffix="", returning=None) -> None:
        """Insert model instances (all of one model). ``fields``: the concrete fields to
        write (default: all, but an auto primary key left empty); ``suffix``: e.g. ``ON
        CONFLICT …``; ``returning``: the columns to give back, e.g. ``("id",)``."""
        objs = list(objs)
        model = type(objs[0])
        if fields is None:
            fields = concrete_fields(model, with_pk=objs[0].pk is not None)
        rows = json.dumps([_row(obj, fields) for obj in objs], separators=(",", ":"))
        self.add(name, _insert_sql(model, fields, suffix, self.connection), [rows], returning)

    def add(self, name, sql, params, returning=None) -> None:
        """Any data-modifying statement; ``returning``: the columns it gives back."""
        if returning:
            sql += f" RETURNING {', '.join(returning)}"
        self._ctes.append((name, sql, list(params)))
        if returning:
            self._returning.append((name, tuple(returning)))

    def run(self) -> dict[str, list[tuple]]:
        with_sql = ", ".join(f"{name} AS ({sql})" for name, sql, _params in self._ctes)
        params = [param for _name, _sql, cte_params in self._ctes for param in cte_params]
        # Each CTE's rows as a JSON array of arrays: one row comes back.
        select = ", ".join(
            f"(SELECT json_agg(json_build_array({', '.join(columns)}))::text FROM {name})"  # noqa: S608
            for name, columns in self._returning
        )
        with self.connection.cursor() as cursor:
            cursor.execute(f"WITH {with_sql} SELECT {select or 1}", params)
            row = cursor.fetchone()
        return {
            name: [tuple(item) for item in json.loads(value or "[]")]
            for (name, _columns), value in zip(self._returning, row, strict=False)
        }
