"""Querysets compiled by the ORM once per process, then run with other values (issue 10, speed).

Building a queryset (filters, ``select_related``) and compiling it to SQL costs 0.3–1 ms of
Python per query, often more than PostgreSQL takes to answer. A page whose queries always
have the same shape and only their values change can compile each once: ``Prepared`` builds
the queryset with placeholder values (distinct negative integers, never a real id), keeps
Django's SQL and the compiler, and at each run passes the real values in their places. Rows
become what the queryset would give: model instances with their ``select_related`` objects
(as ``ModelIterable`` builds them, the database's converters applied), or ``values_list``
tuples.

``run_together`` reads several of them in one round trip on PostgreSQL (each one's SQL as a
``json_agg`` column of a single ``SELECT``), one query each elsewhere.

Both run through ``prepared_cursor``: on PostgreSQL their statements are also kept prepared by
the database, so that it plans each once per connection instead of at every page (0.4-1 ms of
the database's CPU for the request page's and the admin's reads, more than running them).
"""

import itertools
import json
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.backends.utils import CursorDebugWrapper
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.utils.dateparse import parse_date, parse_datetime

_SENTINEL_BASE = -1_987_000_000


def prepared_cursor(alias: str):
    """A cursor of ``connections[alias]`` whose statements PostgreSQL keeps prepared on the
    connection: parsed and planned on their first run, then planned again only if a custom plan
    would be cheaper than the generic one (PostgreSQL checks that over the first five runs).

    For statements whose text never changes and whose values are ids, dates or states, where
    one plan fits every value. The ORM's own statements (values inlined in the text, which
    lets PostgreSQL match an expression index, e.g. "what waits first" in "Mes demandes") stay
    on ordinary cursors. Values travel apart from the text (server-side binding): the SQL uses
    ``%s`` placeholders as usual. Elsewhere (SQLite, or ``DATABASE_PREPARED_STATEMENTS=false``
    behind a pooler in transaction mode), an ordinary cursor. Queries are logged as usual."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    # Django's own cursor set-up (its time zone loader), with the server-binding class.
    factory = raw.cursor_factory
    raw.cursor_factory = ServerBindingCursor
    try:
        with connection.wrap_database_errors:
            cursor = connection.create_cursor()
    finally:
        raw.cursor_factory = factory
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return _LoggedCursor(cursor, connection)
    return connection.make_cursor(cursor)


class _LoggedCursor(CursorDebugWrapper):
    """Logs a statement with its values in it, as for the ORM's statements (Django reads the
    text from the driver, which has none for a prepared statement)."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


class _Placeholders:
    """``p.name`` is a distinct placeholder integer per name, in the order first asked, or a
    list of them for a name given a list of values (``lengths``: its length)."""

    def __init__(self, lengths=None):
        self.lengths = dict(lengths or {})
        # placeholder -> (name, None) for a value, (name, index) for an item of a list
        self.names: dict[int, tuple[str, int | None]] = {}
        self._numbers = itertools.count(_SENTINEL_BASE, -1)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self.lengths:
            value = next(self._numbers)
            self.names[value] = (name, None)
            return value
        items = [next(self._numbers) for _ in range(self.lengths[name])]
        self.names.update({value: (name, index) for index, value in enumerate(items)})
        return items


# How a column of each field type comes back in JSON, as the database driver would give it
# (the compiler's converters then run on it as on a driver's value).
_IDENTITY = (
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "ForeignKey",
    "OneToOneField",
    "CharField",
    "TextField",
    "SlugField",
    "EmailField",
    "URLField",
    "FileField",
    "BooleanField",
)
FROM_JSON = {
    **dict.fromkeys(_IDENTITY),
    "DateTimeField": parse_datetime,
    "DateField": parse_date,
    "DecimalField": Decimal,
    "FloatField": float,
}


def positional(pairs):
    """``object_pairs_hook`` for ``json.loads``: a JSON row as a list of its values."""
    return [value for _key, value in pairs]


def aggregate_order(compiler) -> list[str] | None:
    """The compiled queryset's ORDER BY as terms over its columns renamed c0, c1… (its rows as
    a derived table), or None if a term is not one of its columns. For ``json_agg(… ORDER BY
    …)``: PostgreSQL does not promise to keep a subquery's order inside an aggregate."""
    select_sql = [sql for _expression, (sql, _params), _alias in compiler.select]
    terms = []
    for order_by, (sql, params, is_ref) in compiler.get_order_by():
        if params:
            return None
        if is_ref:  # a selected column, by its position ("1 ASC")
            position = sql.split(" ", 1)[0]
            if not position.isdigit():
                return None
            index = int(position) - 1
        else:
            column_sql, column_params = compiler.compile(order_by.expression)
            if column_params or column_sql not in select_sql:
                return None
            index = select_sql.index(column_sql)
        term = f"c{index}"
        if order_by.descending:
            term += " DESC"
        if order_by.nulls_first:
            term += " NULLS FIRST"
        elif order_by.nulls_last:
            term += " NULLS LAST"
        terms.append(term)
    return terms


class _Compiled:
    def __init__(self, queryset, placeholders: _Placeholders):
        self.alias = queryset.db
        self.compiler = queryset.query.get_compiler(using=self.alias)
        try:
            sql, params = self.compiler.as_sql()
        except EmptyResultSet:  # e.g. ``pk__in`` an empty list: the ORM would not query either
            self.empty = True
            return
        self.empty = False
        self.sql = sql
        self.params = list(params)
        self.slots = [
            (index, placeholders.names[value])
            for index, value in enumerate(self.params)
            if isinstance(value, int) and value in placeholders.names
        ]
        if {slot for _index, slot in self.slots} != set(placeholders.names.values()):
            # A value the ORM transformed (or a placeholder not used): it cannot be replaced.
            raise ValueError(f"placeholders not found as parameters in: {sql}")
        self.iterable = queryset._iterable_class
        if self.iterable not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
            raise ValueError(f"unsupported iterable: {self.iterable}")
        select = self.compiler.select
        # The database's converters, found once (the ORM looks them up for every query).
        columns = [column[0] for column in select[: self.compiler.col_count]]
        if self.compiler.has_composite_fields(columns):
            raise ValueError(f"composite fields are not supported: {sql}")
        self.converters = self.compiler.get_converters(columns)
        self.decoders = []
        for expression, _sql, _alias in select:
            internal_type = expression.output_field.get_internal_type()
            self.decoders.append(FROM_JSON.get(internal_type, KeyError))
        self.order = aggregate_order(self.compiler)
        self.jsonable = KeyError not in self.decoders and self.order is not None
        if self.iterable is ModelIterable:
            klass_info = self.compiler.klass_info
            self.model = klass_info["model"]
            fields = klass_info["select_fields"]
            self.start, self.end = fields[0], fields[-1] + 1
            self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
            self.populators = get_related_populators(klass_info, select, self.alias)
            self.annotations = tuple((self.compiler.annotation_col_map or {}).items())

    def bind(self, values: dict) -> list:
        params = list(self.params)
        for index, (name, position) in self.slots:
            params[index] = values[name] if position is None else values[name][position]
        return params

    def results(self, rows) -> list:
        """What the queryset gives for these rows of its SQL."""
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        if self.iterable is FlatValuesListIterable:
            return [row[0] for row in rows]
        if self.iterable is ValuesListIterable:
            return [tuple(row) for row in rows]
        instances = []
        for row in rows:
            obj = self.model.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            instances.append(obj)
        return instances

    def from_json(self, text) -> list:
        rows = json.loads(text, parse_float=Decimal, object_pairs_hook=positional) if text else []
        decoders = self.decoders
        return self.results(
            [
                [
                    value if decode is None or value is None else decode(value)
                    for value, decode in zip(row, decoders, strict=True)
                ]
                for row in rows
            ]
        )


class Prepared:
    """``build(p)`` returns a queryset using ``p.<name>`` placeholders for its integer values
    (ids); ``run(name=value, …)`` gives what ``list(queryset)`` would with those values.

    Only integers, or lists of integers (``pk__in=p.ids``: compiled once per length), can be
    placeholders (they reach the SQL unchanged); ``None`` may be passed for one (``= NULL``
    then matches nothing, like a missing row)."""

    def __init__(self, build):
        self.build = build
        self._model = None
        self._compiled: dict[tuple, _Compiled] = {}

    def compiled(self, alias=None, values=None) -> _Compiled:
        lengths = tuple(
            sorted((k, len(v)) for k, v in (values or {}).items() if isinstance(v, list | tuple))
        )
        if alias is None:
            if self._model is None:
                self._model = self.build(_Placeholders(lengths)).model
            alias = router.db_for_read(self._model)
        found = self._compiled.get((alias, lengths))
        if found is None:
            placeholders = _Placeholders(lengths)
            found = _Compiled(self.build(placeholders).using(alias), placeholders)
            self._compiled[alias, lengths] = found
        return found

    def run(self, **values) -> list:
        compiled = self.compiled(values=values)
        if compiled.empty:
            return []
        with prepared_cursor(compiled.alias) as cursor:
            cursor.execute(compiled.sql, compiled.bind(values))
            rows = cursor.fetchall()
        return compiled.results(rows)


def run_together(runs) -> list[list]:
    """``[prepared.run(**values) for prepared, values in runs]`` in one query on PostgreSQL."""
    compiled = [prepared.compiled(values=values) for prepared, values in runs]
    together = [
        index
        for index, item in enumerate(compiled)
        if not item.empty
        and item.jsonable
        and item.alias == compiled[0].alias
        and connections[item.alias].vendor == "postgresql"
    ]
    if len(together) < 2:
        return [prepared.run(**values) for prepared, values in runs]
    # The others (a column or an order the JSON path does not read) in queries of their own.
    results = [
        None if index in together else run[0].run(**run[1]) for index, run in enumerate(runs)
    ]
    columns, params = [], []
    for position, index in enumerate(together):
        item, values = compiled[index], runs[index][1]
        # Django's SQL for each queryset, its values passed as parameters; its rows aggregated
        # in its own order, written over the derived table's columns.
        alias = f"q{position}"
        names = ", ".join(f"c{column}" for column in range(len(item.decoders)))
        order = ", ".join(f"{alias}.{term}" for term in item.order)
        order = f" ORDER BY {order}" if order else ""
        columns.append(
            f"(SELECT json_agg({alias}{order})::text FROM ({item.sql}) {alias}({names}))"  # noqa: S608
        )
        params.extend(item.bind(values))
    with prepared_cursor(compiled[0].alias) as cursor:
        cursor.execute("SELECT " + ", ".join(columns), params)
        texts = cursor.fetchone()
    for index, text in zip(together, texts, strict=True):
        results[index] = compiled[index].from_json(text)
    return results
