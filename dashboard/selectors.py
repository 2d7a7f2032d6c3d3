"""Indicators of the dashboards, all computed in the database.

Every figure is an aggregate: conditional counts (``COUNT(*) FILTER (WHERE …)``), sums,
``GROUP BY`` département / instrument / month, and ``percentile_cont`` on PostgreSQL. Python
only merges the few aggregate rows (one per département, month or instrument), never a row per
request. A page runs a fixed number of queries whatever the number of requests.

Definitions (also on the pages and in the README, "Dashboards"):

- a request is *decided* when it was resolved locally (``resolved_locally_at``) or granted
  national support (``decided_at``): the milestones stay set after completion, so completed
  requests count on the side they were decided on. Its decision date is that milestone;
- *local resolution rate* = resolved locally / decided, for the decisions of the period,
  against the 90 % target of the roadmap;
- requests by state: requests *submitted* in the period, by their current state;
- escalation grounds: requests *escalated* in the period (``escalated_at``), by ground;
- national decisions: approvals of the period (``decided_at``), by instrument and operator;
- delays, in days: submission → review start (reviews started in the period), submission →
  decision (decisions of the period), median and 90th percentile;
- backlog: requests open *today* (submitted, in review, info requested, escalated) by age since
  submission — a snapshot, the period does not apply;
- monthly trend: the 12 calendar months ending with the period's last month (or this month).

Drafts are never counted: they are not requests yet.
"""

import datetime
import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts import roles
from dashboard import facts
from dashboard.aggregates import interpolate, percentile_cont, percentile_rank
from dashboard.models import RequestCount, RequestFact
from engineering_requests.enums import RequestState
from engineering_requests.models import EngineeringRequest
from programmes.enums import NationalInstrument
from programmes.models import PriorityDomain, Programme
from territories.models import Departement, Region

TARGET_RATE = 90  # % of requests answered in the local ecosystem (roadmap 2020)
TREND_MONTHS = 12

S = RequestState
# Every state but draft, in the order of the workflow.
COUNTED_STATES = [state for state in S if state != S.DRAFT]
OPEN_STATES = S.open_states()

# Backlog age bands, in days since submission: [lower, upper).
AGE_BANDS = [
    ("lt7", _("moins de 7 jours"), 0, 7),
    ("7to30", _("7 à 30 jours"), 7, 30),
    ("30to90", _("30 à 90 jours"), 30, 90),
    ("gt90", _("plus de 90 jours"), 90, None),
]

ESCALATION_GROUNDS = [
    (
        "fragility",
        _("Fragilité de la collectivité et insuffisance des ressources locales"),
        Q(ground_fragility=True),
    ),
    ("innovative", _("Projet innovant ou particulièrement complexe"), Q(ground_innovative=True)),
    ("rare_expertise", _("Expertise rare"), Q(rare_expertise=True)),
    ("national_scope", _("Projet d'envergure nationale"), Q(national_scope=True)),
]


# --- Who sees what ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose figures a page shows: all of France (national staff, public) or a delegate's
    départements. Enforced on every query through ``requests()``.

    The indicators read ``RequestFact`` (dashboard.models), the narrow copy of the submitted
    requests that triggers keep in step with the requests table: drafts are never in it, which
    is what ``engineering_requests.selectors.visible_to`` gives national staff; a delegate sees
    the same rows of their départements."""

    kind: str  # "national", "delegate" or "public"
    user: object = None
    departement_ids: tuple[int, ...] | None = None  # None: every département

    @property
    def is_public(self) -> bool:
        return self.kind == "public"

    def requests(self) -> QuerySet[RequestFact]:
        queryset = RequestFact.objects.all()
        allowed = (
            self.kind == "public"  # aggregates only ever leave this module for the public page
            or (self.kind == "national" and roles.is_national_staff(self.user))
            or (self.kind == "delegate" and self.departement_ids is not None)
        )
        if not allowed:
            return queryset.none()
        if self.departement_ids is not None:
            queryset = queryset.filter(departement_id__in=self.departement_ids)
        return queryset

    @property
    def sees_all_of_france(self) -> bool:
        """``requests()`` holds every submitted request (no département restriction)."""
        if self.departement_ids is not None:
            return False
        return self.kind == "public" or (
            self.kind == "national" and roles.is_national_staff(self.user)
        )

    def departements(self) -> QuerySet[Departement]:
        queryset = Departement.objects.select_related("region").order_by("code")
        if self.departement_ids is not None:
            queryset = queryset.filter(pk__in=self.departement_ids)
        return queryset


PUBLIC_SCOPE = Scope("public")


def scope_for(user) -> Scope:
    """National staff: all of France; a delegate: their départements; anyone else: 403."""
    if roles.is_national_staff(user):
        return Scope("national", user)
    if departement_ids := roles.departement_ids(user):
        return Scope("delegate", user, tuple(departement_ids))
    raise PermissionDenied(
        _("Le tableau de bord est réservé aux délégués et à l'équipe de l'ANCT.")
    )


# --- Filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    start: datetime.date | None = None
    end: datetime.date | None = None  # inclusive
    region_id: int | None = None
    departement_id: int | None = None
    programme_id: int | None = None
    domain_id: int | None = None
    intervention_form: str = ""

    def _bound(self, day: datetime.date) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    def in_period(self, field_name: str) -> Q:
        """The milestone ``field_name`` was reached within the period."""
        condition = Q(**{f"{field_name}__isnull": False})
        if self.start:
            condition &= Q(**{f"{field_name}__gte": self._bound(self.start)})
        if self.end:
            end = self._bound(self.end + datetime.timedelta(days=1))
            condition &= Q(**{f"{field_name}__lt": end})
        return condition


@dataclass
class ReferenceData:
    """The small tables a page needs for its filters and its table (3 queries)."""

    departements: list
    programmes: list
    domains: list
    regions: list = field(init=False)

    def __post_init__(self):
        regions = {dep.region_id: dep.region for dep in self.departements}
        self.regions = sorted(regions.values(), key=lambda region: region.code)

    @staticmethod
    def _by_code(objects, code):
        return next((obj.pk for obj in objects if obj.code == code), None) if code else None

    def region_id(self, code):
        return self._by_code(self.regions, code)

    def departement_id(self, code):
        return self._by_code(self.departements, code)

    def programme_id(self, code):
        return self._by_code(self.programmes, code)

    def domain_id(self, code):
        return self._by_code(self.domains, code)


def reference_data(scope: Scope) -> ReferenceData:
    return ReferenceData(
        departements=list(scope.departements()),
        programmes=list(Programme.objects.order_by("position", "name").only("code", "name")),
        domains=list(
            PriorityDomain.objects.order_by(
                Coalesce("parent__position", "position"),
                Coalesce("parent_id", "id"),
                "parent_id",
                "position",
                "name",
            ).only("code", "name", "parent_id")
        ),
    )


def filtered_requests(scope: Scope, filters: Filters) -> QuerySet[RequestFact]:
    """The scope's requests narrowed by every filter but the period (each indicator applies
    the period to its own milestone)."""
    queryset = scope.requests()
    if filters.departement_id:
        queryset = queryset.filter(departement_id=filters.departement_id)
    if filters.region_id:
        # IN, not a join: the delay indexes hold departement_id, not the région.
        region = Departement.objects.filter(region_id=filters.region_id).values("pk")
        queryset = queryset.filter(departement_id__in=region)
    if filters.programme_id:
        queryset = queryset.filter(programme_id=filters.programme_id)
    if filters.intervention_form:
        queryset = queryset.filter(intervention_form=filters.intervention_form)
    if filters.domain_id:
        # A theme includes its items. EXISTS, not a join: a request counts once.
        links = EngineeringRequest.domains.through.objects.filter(
            Q(prioritydomain_id=filters.domain_id) | Q(prioritydomain__parent_id=filters.domain_id),
            engineeringrequest_id=OuterRef("pk"),
        )
        queryset = queryset.filter(Exists(links))
    return queryset.order_by()


# --- Indicators -----------------------------------------------------------------------------


def rate(local: int, national: int) -> float | None:
    decided = local + national
    return round(100 * local / decided, 1) if decided else None


def _decision_conditions(filters: Filters) -> tuple[Q, Q]:
    return filters.in_period("resolved_locally_at"), filters.in_period("decided_at")


def _delay_metrics(filters: Filters) -> list[tuple[str, object, object, Q]]:
    """(code, label, days expression, condition) of each delay indicator."""
    local, national = _decision_conditions(filters)
    return [
        (
            "review",
            _("Du dépôt à la prise en charge par le délégué"),
            F("review_days"),
            filters.in_period("review_started_at"),
        ),
        (
            "decision",
            _("Du dépôt à la décision (réponse locale ou appui national)"),
            F("decision_days"),
            local | national,
        ),
    ]


PERCENTILES = [("median", 0.5), ("p90", 0.9)]
NATIONAL_ROW = "__all__"  # key of the all-départements row in the per-group results


def _band_aggregates(now) -> dict:
    """The backlog: open requests by age band (a snapshot, whatever the period)."""
    aggregates = {}
    for code, _label, lower, upper in AGE_BANDS:
        band = Q(state__in=OPEN_STATES, submitted_at__lte=now - datetime.timedelta(days=lower))
        if upper is not None:
            band &= Q(submitted_at__gt=now - datetime.timedelta(days=upper))
        aggregates[f"band_{code}"] = Count("pk", filter=band)
    return aggregates


def _counts(queryset, filters: Filters, now) -> list[dict]:
    """One scan, GROUP BY (département, state): every count and sum the pages show. The rows
    (at most départements × states) are then added up for the national figures."""
    submitted = filters.in_period("submitted_at")
    escalated = filters.in_period("escalated_at")
    local, national = _decision_conditions(filters)
    aggregates = {
        "submitted": Count("pk", filter=submitted),
        "local": Count("pk", filter=local),
        "national": Count("pk", filter=national),
        "escalated": Count("pk", filter=escalated),
        "national_amount": Sum("granted_amount", filter=national),
    }
    for code, _label, condition in ESCALATION_GROUNDS:
        aggregates[f"ground_{code}"] = Count("pk", filter=escalated & condition)
    aggregates.update(_band_aggregates(now))
    for code, _label, expression, condition in _delay_metrics(filters):
        aggregates[f"{code}_count"] = Count("pk", filter=condition)
        # The values percentile_cont reads (it skips NULLs): the ranks of _indexed_percentiles.
        aggregates[f"{code}_values"] = Count(expression, filter=condition)
    if filters.start or filters.end:
        # Only rows with a milestone in the period (or open, for the backlog) count anything:
        # reading just those (indexes on each milestone) spares most of the FILTER evaluations.
        period = Q(state__in=OPEN_STATES)
        for milestone in ("submitted_at", "review_started_at", "escalated_at", "decision_at"):
            period |= filters.in_period(milestone)
        queryset = queryset.filter(period | national)
    return list(queryset.values("departement_id", "state").annotate(**aggregates).order_by())


def _maintained_counts(now) -> list[dict]:
    """``_counts`` for all of France without any filter, in one query over small tables: the
    counters kept per (département, state) by the database (``RequestCount``, PostgreSQL),
    UNION ALL the backlog bands counted on the open requests only (they move with time).
    Several rows may share a (département, state): the callers add rows up."""
    bands = _band_aggregates(now)
    zeros = {name: Value(0) for name in bands}
    counters = RequestCount.objects.annotate(**zeros).values(
        "departement_id", "state", *facts.COUNTERS, *bands
    )
    open_requests = (
        RequestFact.objects.filter(state__in=OPEN_STATES)
        .values("departement_id", "state")
        .annotate(**{name: Value(0) for name in facts.COUNTERS}, **bands)
        .order_by()
    )
    return list(counters.order_by().union(open_requests, all=True))


def _percentiles(queryset, filters: Filters) -> dict:
    """Median and 90th percentile of each delay, per département and for all of them:
    {departement_id or NATIONAL_ROW: {"review_median": …, "review_p90": …, …}}.

    PostgreSQL: one scan, ``percentile_cont`` with GROUPING SETS ((département), ()).
    SQLite: the day counts in one query, interpolated like ``percentile_cont``."""
    metrics = _delay_metrics(filters)
    annotations = {
        f"{code}_delay": Case(When(condition, then=expression))
        for code, _label, expression, condition in metrics
    }
    any_metric = Q()
    for _code, _label, _expression, condition in metrics:
        any_metric |= condition
    rows = (
        queryset.filter(any_metric)
        .annotate(**annotations)
        .values("departement_id", *annotations)
        .order_by()
    )
    if connection.vendor == "postgresql":
        inner, params = rows.query.sql_with_params()
        columns = ", ".join(
            f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY {code}_delay) AS {code}_{name}"
            for code, *_rest in metrics
            for name, fraction in PERCENTILES
        )
        sql = (
            f"SELECT departement_id, GROUPING(departement_id) AS is_total, {columns} "  # noqa: S608
            f"FROM ({inner}) AS delays GROUP BY GROUPING SETS ((departement_id), ())"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            names = [column.name for column in cursor.description]
            result = {}
            for values in cursor.fetchall():
                row = dict(zip(names, values, strict=True))
                key = NATIONAL_ROW if row.pop("is_total") else row["departement_id"]
                row.pop("departement_id")
                result[key] = row
            return result
    series: dict = {}
    for row in rows:
        for group in (row["departement_id"], NATIONAL_ROW):
            for name in annotations:
                series.setdefault(group, {}).setdefault(name, []).append(row[name])
    return {
        group: {
            f"{name.removesuffix('_delay')}_{label}": percentile_cont(values[name], fraction)
            for name in annotations
            for label, fraction in PERCENTILES
        }
        for group, values in series.items()
    }


def _indexed_percentiles(queryset, filters: Filters, count_rows: list[dict]) -> dict | None:
    """The same figures as ``_percentiles``, read from the delay indexes of the facts instead
    of sorting every delay (PostgreSQL).

    The counts give each delay's number of values per département (with the filters);
    ``percentile_cont`` reads the value at a rank and the next one (``percentile_rank``): one
    query fetches those two values per département (median) and for all of them (median and
    90th percentile) by index-only scans with OFFSET on ``(departement, review_days)`` and
    ``(review_days)`` and their decision twins. The filters (period, programme, form, région)
    are evaluated on the index entries (their columns are INCLUDEd), so OFFSET counts only the
    matching ones. Then Python interpolates as PostgreSQL does. Per département only the
    median is read: the pages show no per-département 90th percentile."""
    metrics = _delay_metrics(filters)
    counts: dict = {}
    for row in count_rows:
        for code, *_rest in metrics:
            for group in (row["departement_id"], NATIONAL_ROW):
                key = (code, group)
                counts[key] = counts.get(key, 0) + row[f"{code}_values"]
    wanted = []  # (metric, group, label, offset, proportion, count)
    for (code, group), count in counts.items():
        if not count:
            continue
        for label, fraction in PERCENTILES:
            if group == NATIONAL_ROW or label == "median":
                wanted.append((code, group, label, *percentile_rank(count, fraction), count))

    def backwards(group, offset, count) -> int | None:
        """High ranks of all of them (the 90th percentile) are read from the end of the
        index: the offset from the end of the upper of the two values, else None."""
        if group == NATIONAL_ROW and offset + 1 < count and offset > (count - 1) / 2:
            return count - 2 - offset
        return None

    parts, params = [], []
    for code, _label, _expression, condition in metrics:
        column = f"{code}_days"  # a column of RequestFact, never user input
        rows, rows_params = (
            queryset.filter(condition, **{f"{column}__isnull": False})
            .values("departement_id", column)
            .query.sql_with_params()
        )
        mine = [(g, o, n) for c, g, _l, o, _p, n in wanted if c == code]
        per_departement = [(g, o) for g, o, n in mine if g != NATIONAL_ROW]
        forwards = [o for g, o, n in mine if g == NATIONAL_ROW and backwards(g, o, n) is None]
        from_end = [backwards(g, o, n) for g, o, n in mine if backwards(g, o, n) is not None]
        parts += facts.values_at_offsets_sql(column, rows)
        params += [code, *rows_params]
        params += [[g for g, _o in per_departement], [o for _g, o in per_departement]]
        params += [code, *rows_params, forwards]
        params += [code, *rows_params, from_end]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        values = {
            (code, NATIONAL_ROW if dep is None else dep, descending, offset): pair
            for code, dep, descending, offset, pair in cursor.fetchall()
        }
    result: dict = {}
    for code, group, label, offset, proportion, count in wanted:
        from_end = backwards(group, offset, count)
        if from_end is None:
            pair = values.get((code, group, False, offset))
        else:
            pair = values.get((code, group, True, from_end))
            pair = pair[::-1] if pair and len(pair) == 2 else None
        if not pair:
            return None  # a request moved between the two queries: the caller sorts instead
        upper = pair[1] if len(pair) > 1 else None
        result.setdefault(group, {})[f"{code}_{label}"] = interpolate(pair[0], upper, proportion)
    return result


def use_delay_indexes(scope: Scope, filters: Filters) -> bool:
    """Percentiles from the delay indexes (PostgreSQL) for all of France, whatever the period,
    programme, form or région. A domain filter (a join per row) or a few départements (a
    delegate, a département filter: few rows to sort) sort their delays instead."""
    return (
        connection.vendor == "postgresql"
        and scope.sees_all_of_france
        and not filters.domain_id
        and not filters.departement_id
    )


def use_maintained(scope: Scope, filters: Filters) -> bool:
    """All of France, all time, no filter (the default pages) on PostgreSQL: the counts come
    from the maintained counters and the percentiles from the delay indexes. Anything narrower
    is computed from the facts (fewer rows)."""
    return connection.vendor == "postgresql" and scope.sees_all_of_france and filters == Filters()


@dataclass
class Figures:
    """The counts and delays of a page: national totals and one entry per département."""

    headline: dict
    per_departement: dict  # departement_id → summed counts and delays


def figures(scope: Scope, filters: Filters, *, now: datetime.datetime | None = None) -> Figures:
    """Two queries (the counts, the percentiles) for the key figures, the by-state, grounds,
    backlog and delays blocks, and the département table."""
    now = now or timezone.now()
    queryset = filtered_requests(scope, filters)
    maintained = use_maintained(scope, filters)
    count_rows = _maintained_counts(now) if maintained else _counts(queryset, filters, now)
    percentiles = None
    if use_delay_indexes(scope, filters):
        percentiles = _indexed_percentiles(queryset, filters, count_rows)
    if percentiles is None:
        percentiles = _percentiles(queryset, filters)  # narrowed: sort what is left
    summed_keys = [key for key in (count_rows[0] if count_rows else {}) if key not in (
        "departement_id", "state")]  # fmt: skip

    def add(rows) -> dict:
        total = dict.fromkeys(summed_keys, 0)
        for row in rows:
            for key in summed_keys:
                total[key] += row[key] or 0
        return total

    per_departement: dict = {}
    for row in count_rows:
        per_departement.setdefault(row["departement_id"], []).append(row)
    per_departement = {
        dep_id: {**add(rows), **percentiles.get(dep_id, {})}
        for dep_id, rows in per_departement.items()
    }
    total = add(count_rows)
    national_delays = percentiles.get(NATIONAL_ROW, {})
    by_state = dict.fromkeys(COUNTED_STATES, 0)
    backlog = {state: [0] * len(AGE_BANDS) for state in OPEN_STATES}
    for row in count_rows:
        by_state[row["state"]] += row["submitted"]
        if row["state"] in backlog:
            for index, (code, *_rest) in enumerate(AGE_BANDS):
                backlog[row["state"]][index] += row[f"band_{code}"]
    local, national = total.get("local", 0), total.get("national", 0)
    backlog_rows = [
        {"state": state, "label": S(state).label, "counts": counts, "total": sum(counts)}
        for state, counts in backlog.items()
    ]
    band_totals = [sum(r["counts"][i] for r in backlog_rows) for i in range(len(AGE_BANDS))]
    headline_figures = {
        "submitted": total.get("submitted", 0),
        "local": local,
        "national": national,
        "decided": local + national,
        "rate": rate(local, national),
        "target": TARGET_RATE,
        "escalated": total.get("escalated", 0),
        "national_amount": total.get("national_amount") or Decimal(0),
        "by_state": [
            {"state": state, "label": S(state).label, "count": count}
            for state, count in by_state.items()
        ],
        "grounds": [
            {"code": code, "label": label, "count": total.get(f"ground_{code}", 0)}
            for code, label, _condition in ESCALATION_GROUNDS
        ],
        "delays": [
            {
                "code": code,
                "label": label,
                "count": total.get(f"{code}_count", 0),
                "median": national_delays.get(f"{code}_median"),
                "p90": national_delays.get(f"{code}_p90"),
            }
            for code, label, _expression, _condition in _delay_metrics(filters)
        ],
        "backlog": {
            "bands": [label for _code, label, *_ in AGE_BANDS],
            "rows": backlog_rows,
            "totals": band_totals,
            "total": sum(band_totals),
        },
    }
    return Figures(headline=headline_figures, per_departement=per_departement)


def headline(scope: Scope, filters: Filters, *, now: datetime.datetime | None = None) -> dict:
    return figures(scope, filters, now=now).headline


def national_decisions(scope: Scope, filters: Filters) -> dict:
    """Approvals of the period by instrument and by operator, with the amounts granted."""
    _local, national = _decision_conditions(filters)
    rows = list(
        filtered_requests(scope, filters)
        .filter(national)
        .values("national_instrument", "operator__code", "operator__name")
        .annotate(count=Count("pk"), amount=Sum("granted_amount"))
        .order_by()
    )
    by_instrument = []
    for instrument in NationalInstrument:
        matching = [r for r in rows if r["national_instrument"] == instrument]
        by_instrument.append(
            {
                "code": instrument.value,
                "label": instrument.label,
                "count": sum(r["count"] for r in matching),
                "amount": sum((r["amount"] or Decimal(0) for r in matching), Decimal(0)),
            }
        )
    operators: dict = {}
    for r in rows:
        if r["operator__code"]:
            entry = operators.setdefault(
                r["operator__code"],
                {"code": r["operator__code"], "label": r["operator__name"], "count": 0},
            )
            entry["count"] += r["count"]
    return {
        "by_instrument": by_instrument,
        "by_operator": sorted(operators.values(), key=lambda e: (-e["count"], e["label"])),
        "total": sum(r["count"] for r in rows),
        "amount": sum((r["amount"] or Decimal(0) for r in rows), Decimal(0)),
    }


DEPARTEMENT_SORTS = {
    "code": lambda r: r["code"],
    "nom": lambda r: r["name"],
    "taux": lambda r: r["rate"],
    "decidees": lambda r: r["decided"],
    "locales": lambda r: r["local"],
    "nationales": lambda r: r["national"],
    "deposees": lambda r: r["submitted"],
    "en_cours": lambda r: r["open"],
    "delai_instruction": lambda r: r["review_median"],
    "delai_decision": lambda r: r["decision_median"],
}


def departement_rows(
    figures_: Figures, filters: Filters, departements, *, sort: str = "code", descending=False
) -> list[dict]:
    """One row per département of the scope (those without requests show zeros), sorted on
    the server. Rows without a value for the sort key (no decision yet) always come last."""
    if filters.departement_id:
        departements = [d for d in departements if d.pk == filters.departement_id]
    if filters.region_id:
        departements = [d for d in departements if d.region_id == filters.region_id]
    rows = []
    for dep in departements:
        row = figures_.per_departement.get(dep.pk, {})
        local_count, national_count = row.get("local", 0), row.get("national", 0)
        rows.append(
            {
                "id": dep.pk,
                "code": dep.code,
                "name": dep.name,
                "region": dep.region.name,
                "submitted": row.get("submitted", 0),
                "local": local_count,
                "national": national_count,
                "decided": local_count + national_count,
                "rate": rate(local_count, national_count),
                "open": sum(row.get(f"band_{code}", 0) for code, *_rest in AGE_BANDS),
                "review_median": row.get("review_median"),
                "decision_median": row.get("decision_median"),
            }
        )
    key = DEPARTEMENT_SORTS.get(sort, DEPARTEMENT_SORTS["code"])
    present = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    present.sort(key=lambda r: (key(r), r["code"]), reverse=descending)
    return present + missing


def by_departement(
    scope: Scope, filters: Filters, departements, *, sort: str = "code", descending=False
) -> list[dict]:
    return departement_rows(
        figures(scope, filters), filters, departements, sort=sort, descending=descending
    )


def _month_start(day: datetime.date, months_back: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months_back
    return datetime.date(index // 12, index % 12 + 1, 1)


def monthly_trend(
    scope: Scope, filters: Filters, *, today: datetime.date | None = None
) -> list[dict]:
    """The 12 months ending with the period's last month: submitted, resolved locally,
    national support, rate. Two GROUP BY month queries."""
    last = filters.end or today or timezone.localdate()
    first_month = _month_start(last, TREND_MONTHS - 1)
    window = Filters(start=first_month, end=_month_start(last, -1) - datetime.timedelta(days=1))
    queryset = filtered_requests(scope, filters)

    def month_key(value) -> tuple[int, int]:
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.year, value.month

    submitted = {
        month_key(row["month"]): row["count"]
        for row in queryset.filter(window.in_period("submitted_at"))
        .annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(count=Count("submitted_at"))  # only indexed columns: an index-only scan
        .order_by()
    }
    decisions = {
        month_key(row["month"]): row
        for row in queryset.filter(window.in_period("decision_at"))
        .annotate(month=TruncMonth("decision_at"))
        .values("month")
        .annotate(
            local=Count("decision_at", filter=Q(resolved_locally_at__isnull=False)),
            national=Count("decision_at", filter=Q(resolved_locally_at__isnull=True)),
        )
        .order_by()
    }
    trend = []
    for back in range(TREND_MONTHS - 1, -1, -1):
        month = _month_start(last, back)
        key = (month.year, month.month)
        decided = decisions.get(key, {})
        local_count, national_count = decided.get("local", 0), decided.get("national", 0)
        trend.append(
            {
                "month": month,
                "submitted": submitted.get(key, 0),
                "local": local_count,
                "national": national_count,
                "rate": rate(local_count, national_count),
            }
        )
    return trend


@dataclass
class Dashboard:
    scope: Scope
    filters: Filters
    headline: dict
    decisions: dict
    departements: list
    trend: list


CACHE_SECONDS = 120
CACHE_PREFIX = "dashboard:v1"
PAGE_CACHE_PREFIX = "dashboard:page:v1"

logger = logging.getLogger(__name__)


# The last page bodies read or written, kept in this process as well (``local=True``): every key
# holds the versions and the minute its body depends on, so a kept body is never stale; it spares
# reading ~210 KB (all of France) from Redis and unpickling it on every request. Only immutable
# values: the figures are reshaped after reading, so they always come as fresh copies.
LOCAL_ENTRIES = 16
_local: OrderedDict = OrderedDict()
_local_lock = threading.Lock()


def _keep_locally(key: str, value) -> None:
    with _local_lock:
        _local[key] = value
        _local.move_to_end(key)
        while len(_local) > LOCAL_ENTRIES:
            _local.popitem(last=False)


def clear_local_cache() -> None:
    with _local_lock:
        _local.clear()


def cache_get(key: str, *, local: bool = False):
    """The cached value, or None when absent or when the cache (Redis) cannot be reached: the
    page is then computed as if nothing were cached."""
    if local:
        with _local_lock:
            if key in _local:
                _local.move_to_end(key)
                return _local[key]
    try:
        value = cache.get(key)
    except Exception:  # the backend's own errors (redis.ConnectionError, timeouts…)
        logger.warning("dashboard cache unreachable, computing without it", exc_info=True)
        return None
    if local and value is not None:
        _keep_locally(key, value)
    return value


def cache_set(key: str, value, *, local: bool = False) -> None:
    try:
        cache.set(key, value, CACHE_SECONDS)
    except Exception:
        logger.warning("dashboard cache unreachable, result not kept", exc_info=True)
        return
    if local:
        _keep_locally(key, value)


def data_version() -> str:
    """Changes with every transition (services stamp ``last_transition_at``): cached figures
    are reused only while no request has moved. Indexed, so it costs one index probe."""
    latest = EngineeringRequest.objects.aggregate(latest=Max("last_transition_at"))["latest"]
    return latest.isoformat() if latest else "empty"


def _reference_rows_sql() -> str:
    """The reference rows a page shows (régions, départements, programmes, priority domains:
    ~170 small rows): any code, name, order or parent among them changes the version."""
    quote = connection.ops.quote_name
    parts = []
    for kind, model, extra in (
        ("r", Region, ("0", "0")),
        ("d", Departement, (quote("region_id"), "0")),
        ("p", Programme, (quote("position"), "0")),
        ("m", PriorityDomain, (quote("position"), f"COALESCE({quote('parent_id')}, 0)")),
    ):
        # Names from the models above, never input.
        columns = ", ".join([quote("id"), quote("code"), quote("name"), *extra])
        table = quote(model._meta.db_table)
        parts.append(f"SELECT '{kind}', {columns} FROM {table}")  # noqa: S608
    return " UNION ALL ".join(parts)


def reference_version() -> str:
    """Changes with any reference row a page shows (``_reference_rows_sql``), so that a
    rendered page is reused only while its filters and its table would read the same."""
    with connection.cursor() as cursor:
        cursor.execute(_reference_rows_sql())
        rows = sorted(cursor.fetchall())
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:32]


def versions() -> tuple[str, str]:
    """``data_version()`` and ``reference_version()``, read on every dashboard hit: on
    PostgreSQL in one statement whose hash is computed by the server (two scalars come back
    instead of ~170 rows)."""
    if connection.vendor != "postgresql":
        return data_version(), reference_version()
    quote = connection.ops.quote_name
    requests_table = quote(EngineeringRequest._meta.db_table)
    column = quote("last_transition_at")
    sql = (
        f"SELECT (SELECT MAX({column}) FROM {requests_table}), "  # noqa: S608 (model names)
        f"(SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM ({_reference_rows_sql()}) t)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        latest, reference = cursor.fetchone()
    return (latest.isoformat() if latest else "empty"), reference


def _cache_key(scope: Scope, filters: Filters, version: str, now: datetime.datetime) -> str:
    # The backlog's age bands move with time: the minute is part of the key. The labels are
    # kept translated (``_translated``): the language too.
    parts = [
        scope.kind,
        scope.departement_ids,
        filters,
        version,
        now.strftime("%Y%m%d%H%M"),
        translation.get_language(),
    ]
    return f"{CACHE_PREFIX}:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _translated(value):
    """``value`` with its lazy labels as text of the active language. Unpickled from the cache,
    each lazy label would build a new class (~0.2 ms each, two dozen a page)."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _translated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_translated(item) for item in value]
    return value


def page_cache_key(
    scope: Scope,
    *,
    page: str,
    params: list,
    language: str,
    data_version: str,
    reference_version: str,
    now: datetime.datetime,
) -> str:
    """The key of a rendered page body: everything its HTML depends on. The scope (whose
    figures), the page and its query parameters as given (filters, sort, and the links that
    keep them), the language, the figures' and the reference rows' versions, and the minute
    (the backlog's age bands, "this month"). Never the user beyond their scope: the body is
    rendered without the user (dashboard.views)."""
    parts = [
        scope.kind,
        scope.departement_ids,
        page,
        params,
        language,
        data_version,
        reference_version,
        now.strftime("%Y%m%d%H%M"),
    ]
    return f"{PAGE_CACHE_PREFIX}:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _compute(scope: Scope, filters: Filters, now: datetime.datetime) -> tuple:
    """The five aggregate queries."""
    return (
        figures(scope, filters, now=now),
        national_decisions(scope, filters),
        monthly_trend(scope, filters, today=timezone.localdate(now)),
    )


def dashboard(
    scope: Scope,
    filters: Filters,
    reference: ReferenceData,
    *,
    sort: str = "code",
    descending: bool = False,
    now: datetime.datetime | None = None,
    version: str | None = None,
) -> Dashboard:
    """Everything a dashboard page shows. The aggregates are cached for a short while, keyed
    by the scope, the filters and ``data_version()`` (``version``, when the caller has just
    read it): a change to any request is seen at once."""
    now = now or timezone.now()
    key = _cache_key(scope, filters, version or data_version(), now)
    computed = cache_get(key)
    if computed is None:
        figures_, decisions, trend = _compute(scope, filters, now)
        figures_ = Figures(_translated(figures_.headline), figures_.per_departement)
        computed = (figures_, _translated(decisions), trend)
        cache_set(key, computed)
    figures_, decisions, trend = computed
    return Dashboard(
        scope=scope,
        filters=filters,
        headline=figures_.headline,
        decisions=decisions,
        departements=departement_rows(
            figures_, filters, reference.departements, sort=sort, descending=descending
        ),
        trend=trend,
    )
