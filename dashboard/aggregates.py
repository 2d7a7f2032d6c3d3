"""SQL building blocks of the indicators: day counts between two timestamps and percentiles.

PostgreSQL computes percentiles with the ordered-set aggregate ``percentile_cont`` (see
``selectors._percentiles``). SQLite has none: ``percentile_cont`` below gives the same
interpolation on a list of numbers, for the SQLite fallback (development databases).
"""

import math

from django.db.models import FloatField, Func


class DaysBetween(Func):
    """(end - start) in days, as a float; NULL when either is NULL."""

    output_field = FloatField()
    arity = 2

    def __init__(self, start, end, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):  # pragma: no cover - per vendor
        raise NotImplementedError(connection.vendor)

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            # date_part returns a double; EXTRACT returns numeric, much slower to sort.
            template="(date_part('epoch', %(expressions)s) / 86400.0)",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def percentile_cont(values, fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, exactly as PostgreSQL's
    ``percentile_cont``: position = fraction × (n − 1) in the sorted values."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (position - lower) * (ordered[upper] - ordered[lower])
