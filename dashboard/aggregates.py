"""Percentiles of the indicators (the day counts themselves are columns of the dashboard facts,
computed by the database: see ``dashboard.facts``).

PostgreSQL computes percentiles with the ordered-set aggregate ``percentile_cont`` (see
``selectors._percentiles``), or reads the two values around the rank in the delay indexes
(``selectors._indexed_percentiles``, same interpolation via ``percentile_rank`` and
``interpolate``). SQLite has no ``percentile_cont``: ``percentile_cont`` below gives the same
interpolation on a list of numbers, for the SQLite fallback (development databases).
"""

import math


def percentile_rank(count: int, fraction: float) -> tuple[int, float]:
    """Where ``percentile_cont(fraction)`` reads among ``count`` sorted values: the 0-based
    offset of the lower value and the weight of the next one, computed exactly as PostgreSQL
    does (``percentile_cont_final_common``: ``fraction × (count − 1)``, its floor, and the
    difference), so that the floats are bit for bit the same."""
    position = fraction * (count - 1)
    first = math.floor(position)
    return first, position - first


def interpolate(lower: float, upper: float | None, proportion: float) -> float:
    """The value between two consecutive sorted values, as PostgreSQL's ``float8_lerp``."""
    if upper is None or proportion == 0:
        return lower
    return lower + (upper - lower) * proportion


def percentile_cont(values, fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, exactly as PostgreSQL's
    ``percentile_cont``: position = fraction × (n − 1) in the sorted values."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    offset, proportion = percentile_rank(len(ordered), fraction)
    upper = ordered[offset + 1] if offset + 1 < len(ordered) else None
    return interpolate(ordered[offset], upper, proportion)
