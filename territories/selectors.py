"""Read-side queries on territories."""

import re
import unicodedata
from collections.abc import Iterable

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from territories.enums import CollectivityKind
from territories.models import Collectivity
from territories.text import normalize

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
MAX_LIMIT = 50

_SPACES = re.compile(r"\s+")


def _printable(text: str) -> str:
    # Control and unassigned characters (NUL above all, which PostgreSQL rejects) are dropped.
    return "".join(c for c in text if not unicodedata.category(c).startswith("C"))


def search_collectivities(
    query: str, *, kinds: Iterable[str] | None = None, limit: int = 20
) -> QuerySet[Collectivity]:
    """Collectivités matching a name or a code, best first.

    Names are compared through ``territories.text.normalize``, so case, accents, punctuation and
    "St"/"Ste" do not matter: "saint etienne", "ST-ETIENNE" and "Saint-Étienne" are the same.
    Codes are the INSEE code (commune, département, région) or the SIREN (EPCI).

    Ranking: exact code, then exact name, then names starting with the query, then names
    containing it; within a rank, larger population first.
    """
    query = _printable(query or "")[:MAX_QUERY_LENGTH]
    term = normalize(query)
    code = _SPACES.sub("", query).upper()
    queryset = Collectivity.objects.select_related("departement")
    if len(term) < MIN_QUERY_LENGTH and len(code) < MIN_QUERY_LENGTH:
        return queryset.none()
    if kinds is not None:
        queryset = queryset.filter(kind__in=[k for k in kinds if k in CollectivityKind.values])

    matches = Q(code=code)
    if len(term) >= MIN_QUERY_LENGTH:
        matches |= Q(search_name__contains=term)
    rank = Case(
        When(code=code, then=Value(0)),
        When(search_name=term, then=Value(1)),
        When(search_name__startswith=term, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    limit = max(1, min(int(limit), MAX_LIMIT))
    return (
        queryset.filter(matches)
        .annotate(rank=rank)
        .order_by("rank", F("population").desc(nulls_last=True), "name", "id")[:limit]
    )
