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
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import roles
from dashboard.aggregates import DaysBetween, PercentileCont, percentile_cont
from engineering_requests import selectors as request_selectors
from engineering_requests.enums import RequestState
from engineering_requests.models import EngineeringRequest
from programmes.enums import NationalInstrument
from programmes.models import PriorityDomain, Programme
from territories.models import Departement

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
        ~Q(fragility_rationale="") & ~Q(insufficient_resources_rationale=""),
    ),
    ("innovative", _("Projet innovant ou particulièrement complexe"), ~Q(innovative_rationale="")),
    ("rare_expertise", _("Expertise rare"), Q(rare_expertise=True)),
    ("national_scope", _("Projet d'envergure nationale"), Q(national_scope=True)),
]


# --- Who sees what ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose figures a page shows: all of France (national staff, public) or a delegate's
    départements. Enforced on every query through ``requests()``."""

    kind: str  # "national", "delegate" or "public"
    user: object = None
    departement_ids: tuple[int, ...] | None = None  # None: every département

    @property
    def is_public(self) -> bool:
        return self.kind == "public"

    def requests(self) -> QuerySet[EngineeringRequest]:
        if self.kind == "public":
            # Aggregates only ever leave this module for the public page.
            queryset = EngineeringRequest.objects.all()
        else:
            queryset = request_selectors.visible_to(self.user)
        if self.departement_ids is not None:
            queryset = queryset.filter(departement_id__in=self.departement_ids)
        return queryset.exclude(state=S.DRAFT)

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


def filtered_requests(scope: Scope, filters: Filters) -> QuerySet[EngineeringRequest]:
    """The scope's requests narrowed by every filter but the period (each indicator applies
    the period to its own milestone)."""
    queryset = scope.requests()
    if filters.departement_id:
        queryset = queryset.filter(departement_id=filters.departement_id)
    if filters.region_id:
        queryset = queryset.filter(departement__region_id=filters.region_id)
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
            DaysBetween("submitted_at", "review_started_at"),
            filters.in_period("review_started_at"),
        ),
        (
            "decision",
            _("Du dépôt à la décision (locale ou nationale)"),
            DaysBetween("submitted_at", Coalesce("resolved_locally_at", "decided_at")),
            local | national,
        ),
        (
            "local",
            _("Du dépôt à la réponse locale"),
            DaysBetween("submitted_at", "resolved_locally_at"),
            local,
        ),
        (
            "national",
            _("Du dépôt à la décision nationale"),
            DaysBetween("submitted_at", "decided_at"),
            national,
        ),
    ]


PERCENTILES = [("median", 0.5), ("p90", 0.9)]


def _percentile_aggregates(metrics) -> dict:
    if connection.vendor != "postgresql":
        return {}
    return {
        f"{code}_{name}": PercentileCont(expression, fraction, filter=condition)
        for code, _label, expression, condition in metrics
        for name, fraction in PERCENTILES
    }


def _percentiles_fallback(queryset, metrics, group_by: str | None = None) -> dict:
    """SQLite only: one query for the day counts, percentiles interpolated like PostgreSQL.

    Returns {group: {"<code>_<percentile>": value}} ({None: …} without group_by)."""
    annotations = {
        f"_{code}": Case(When(condition, then=expression))
        for code, _label, expression, condition in metrics
    }
    any_metric = Q()
    for _code, _label, _expression, condition in metrics:
        any_metric |= condition
    names = list(annotations)
    columns = ([group_by] if group_by else []) + names
    values: dict = {}
    for row in queryset.filter(any_metric).annotate(**annotations).values_list(*columns):
        group = row[0] if group_by else None
        for name, value in zip(names, row[1:] if group_by else row, strict=True):
            values.setdefault(group, {}).setdefault(name, []).append(value)
    return {
        group: {
            f"{name[1:]}_{label}": percentile_cont(series.get(name, []), fraction)
            for name in names
            for label, fraction in PERCENTILES
        }
        for group, series in values.items()
    }


def headline(scope: Scope, filters: Filters, *, now: datetime.datetime | None = None) -> dict:
    """Every scalar indicator in one query (two on SQLite): conditional aggregation."""
    now = now or timezone.now()
    queryset = filtered_requests(scope, filters)
    submitted = filters.in_period("submitted_at")
    escalated = filters.in_period("escalated_at")
    local, national = _decision_conditions(filters)
    open_now = Q(state__in=OPEN_STATES, submitted_at__isnull=False)
    metrics = _delay_metrics(filters)

    aggregates = {
        "submitted": Count("pk", filter=submitted),
        "local": Count("pk", filter=local),
        "national": Count("pk", filter=national),
        "escalated": Count("pk", filter=escalated),
        "national_amount": Sum("granted_amount", filter=national),
    }
    for state in COUNTED_STATES:
        aggregates[f"state_{state}"] = Count("pk", filter=submitted & Q(state=state))
    for code, _label, condition in ESCALATION_GROUNDS:
        aggregates[f"ground_{code}"] = Count("pk", filter=escalated & condition)
    for state in OPEN_STATES:
        for code, _label, lower, upper in AGE_BANDS:
            band = Q(submitted_at__lte=now - datetime.timedelta(days=lower))
            if upper is not None:
                band &= Q(submitted_at__gt=now - datetime.timedelta(days=upper))
            aggregates[f"backlog_{state}_{code}"] = Count(
                "pk", filter=open_now & band & Q(state=state)
            )
    for code, _label, _expression, condition in metrics:
        aggregates[f"{code}_count"] = Count("pk", filter=condition)
    aggregates.update(_percentile_aggregates(metrics))

    row = queryset.aggregate(**aggregates)
    if connection.vendor != "postgresql":
        row.update(_percentiles_fallback(queryset, metrics).get(None, {}))

    backlog_rows = [
        {
            "state": state,
            "label": S(state).label,
            "counts": [row[f"backlog_{state}_{code}"] for code, *_ in AGE_BANDS],
        }
        for state in OPEN_STATES
    ]
    for backlog_row in backlog_rows:
        backlog_row["total"] = sum(backlog_row["counts"])
    band_totals = [sum(r["counts"][i] for r in backlog_rows) for i in range(len(AGE_BANDS))]
    return {
        "submitted": row["submitted"],
        "local": row["local"],
        "national": row["national"],
        "decided": row["local"] + row["national"],
        "rate": rate(row["local"], row["national"]),
        "target": TARGET_RATE,
        "escalated": row["escalated"],
        "national_amount": row["national_amount"] or Decimal(0),
        "by_state": [
            {"state": state, "label": S(state).label, "count": row[f"state_{state}"]}
            for state in COUNTED_STATES
        ],
        "grounds": [
            {"code": code, "label": label, "count": row[f"ground_{code}"]}
            for code, label, _condition in ESCALATION_GROUNDS
        ],
        "delays": [
            {
                "code": code,
                "label": label,
                "count": row[f"{code}_count"],
                "median": row.get(f"{code}_median"),
                "p90": row.get(f"{code}_p90"),
            }
            for code, label, _expression, _condition in metrics
        ],
        "backlog": {
            "bands": [label for _code, label, *_ in AGE_BANDS],
            "rows": backlog_rows,
            "totals": band_totals,
            "total": sum(band_totals),
        },
    }


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


def by_departement(
    scope: Scope, filters: Filters, departements, *, sort: str = "code", descending=False
) -> list[dict]:
    """One row per département of the scope (those without requests show zeros): one GROUP BY
    query (two on SQLite)."""
    queryset = filtered_requests(scope, filters)
    local, national = _decision_conditions(filters)
    metrics = [m for m in _delay_metrics(filters) if m[0] in ("review", "decision")]
    aggregates = {
        "submitted": Count("pk", filter=filters.in_period("submitted_at")),
        "local": Count("pk", filter=local),
        "national": Count("pk", filter=national),
        "open": Count("pk", filter=Q(state__in=OPEN_STATES)),
        **_percentile_aggregates(metrics),
    }
    grouped = {
        row["departement_id"]: row
        for row in queryset.values("departement_id").annotate(**aggregates).order_by()
    }
    if connection.vendor != "postgresql":
        for dep_id, values in _percentiles_fallback(queryset, metrics, "departement_id").items():
            grouped.setdefault(dep_id, {}).update(values)

    if filters.departement_id:
        departements = [d for d in departements if d.pk == filters.departement_id]
    if filters.region_id:
        departements = [d for d in departements if d.region_id == filters.region_id]
    rows = []
    for dep in departements:
        row = grouped.get(dep.pk, {})
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
                "open": row.get("open", 0),
                "review_median": row.get("review_median"),
                "decision_median": row.get("decision_median"),
            }
        )
    key = DEPARTEMENT_SORTS.get(sort, DEPARTEMENT_SORTS["code"])
    # Rows without a value (no decision yet) always come last, whatever the direction.
    present = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    present.sort(key=lambda r: (key(r), r["code"]), reverse=descending)
    return present + missing


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
        .annotate(count=Count("pk"))
        .order_by()
    }
    decisions = {
        month_key(row["month"]): row
        for row in queryset.annotate(decision_at=Coalesce("resolved_locally_at", "decided_at"))
        .filter(window.in_period("decision_at"))
        .annotate(month=TruncMonth("decision_at"))
        .values("month")
        .annotate(
            local=Count("pk", filter=Q(resolved_locally_at__isnull=False)),
            national=Count("pk", filter=Q(resolved_locally_at__isnull=True)),
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


def dashboard(
    scope: Scope,
    filters: Filters,
    reference: ReferenceData,
    *,
    sort: str = "code",
    descending: bool = False,
    now: datetime.datetime | None = None,
) -> Dashboard:
    now = now or timezone.now()
    return Dashboard(
        scope=scope,
        filters=filters,
        headline=headline(scope, filters, now=now),
        decisions=national_decisions(scope, filters),
        departements=by_departement(
            scope, filters, reference.departements, sort=sort, descending=descending
        ),
        trend=monthly_trend(scope, filters, today=timezone.localdate(now)),
    )
