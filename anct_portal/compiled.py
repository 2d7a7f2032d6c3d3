"""Querysets whose SQL the ORM writes once per process, for the few hot reads where building
the query costs more CPU (0.2–0.4 ms each) than the database spends running it.

    DELEGATES = CompiledQuery(
        User,
        lambda departement: User.objects.filter(delegate_assignments__departement_id=departement),
    )
    DELEGATES.fetch(departement=12)   # a list of User, as list(queryset) would give

``build`` gets a marker for each value and must return a queryset of one model's instances
(no ``select_related``, ``only``, annotations or ``values``). The ORM compiles it once per
database alias (and per length of each list value); each call runs that SQL with the real
values in the markers' places and builds the instances as the ORM does (``from_db``, with the
backend's converters). Integer and list-of-integer values only: markers must stay themselves
through the fields' ``get_prep_value``.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections, router

_MARKER_BASE = -(10**15)  # never an id


class CompiledQuery:
    def __init__(self, model, build):
        self.model, self.build = model, build
        self._compiled: dict = {}

    def _markers(self, values: dict) -> tuple[dict, dict]:
        """A marker (or a list of markers) per value, and where each marker's value comes from:
        ``(name, None)`` for a value, ``(name, index)`` for an item of a list."""
        markers, meaning = {}, {}
        for name, value in sorted(values.items()):
            positions = range(len(value)) if isinstance(value, list | tuple) else [None]
            items = []
            for position in positions:
                marker = _MARKER_BASE - len(meaning) - 1
                meaning[marker] = (name, position)
                items.append(marker)
            markers[name] = items if isinstance(value, list | tuple) else items[0]
        return markers, meaning

    def _compile(self, alias: str, values: dict):
        markers, meaning = self._markers(values)
        queryset = self.build(**markers).using(alias)
        if queryset.model is not self.model:
            raise ValueError("CompiledQuery: the queryset is not of the model given")
        compiler = queryset.query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # e.g. an empty list: the ORM would not query either
            return None
        klass_info = compiler.klass_info
        if (
            klass_info is None
            or klass_info.get("related_klass_infos")
            or compiler.annotation_col_map
            or len(klass_info["select_fields"]) != len(compiler.select)
        ):
            raise ValueError("CompiledQuery: one model's columns only")
        columns = [column[0] for column in compiler.select]
        init_list = [column.target.attname for column in columns]
        # The backend's converters, applied as the ORM does (booleans and dates on SQLite…).
        converters = list(compiler.get_converters(columns).items())
        # Where each value goes in the parameters; other parameters stay as compiled.
        slots = [meaning.get(param) if isinstance(param, int) else None for param in params]
        if sum(slot is not None for slot in slots) != len(meaning):
            raise ValueError("CompiledQuery: a value did not reach the SQL as a parameter")
        return sql, list(params), slots, init_list, converters

    def fetch(self, *, using: str | None = None, **values) -> list:
        """The instances ``list(build(**values))`` gives, in its order."""
        alias = using or router.db_for_read(self.model)
        shape = (alias, tuple((k, len(v) if isinstance(v, list | tuple) else None)
                              for k, v in sorted(values.items())))  # fmt: skip
        if shape not in self._compiled:
            self._compiled[shape] = self._compile(alias, values)
        compiled = self._compiled[shape]
        if compiled is None:
            return []
        sql, params, slots, init_list, converters = compiled
        params = list(params)
        for index, slot in enumerate(slots):
            if slot is not None:
                name, position = slot
                params[index] = values[name] if position is None else values[name][position]
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for position, (functions, expression) in converters:
                    for function in functions:
                        row[position] = function(row[position], expression, connection)
        return [self.model.from_db(alias, init_list, row) for row in rows]
