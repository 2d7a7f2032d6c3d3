"""Every indicator checked exactly on the crafted data set (see factories.crafted_data_set).

Runs on PostgreSQL (percentile_cont) and on SQLite (the interpolation fallback): both must
give the same figures.
"""

import datetime
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import selectors
from dashboard.aggregates import percentile_cont
from dashboard.selectors import Filters, Scope
from engineering_requests.enums import RequestState as S
from programmes.enums import InterventionForm
from tests.dashboard.factories import crafted_data_set, place, request_at
from tests.territories.factories import DepartementFactory

pytestmark = pytest.mark.django_db

NATIONAL = selectors.PUBLIC_SCOPE  # same figures as national staff, without a user


@pytest.fixture
def data():
    return crafted_data_set(timezone.now())


def headline(data, **filters):
    return selectors.headline(NATIONAL, Filters(**filters), now=data.now)


def test_local_resolution_rate_counts_completed_requests_on_the_side_they_were_decided(data):
    figures = headline(data)
    # Local: a1 (completed), a2, a3, b2, c1 (completed); national: a4, b1 (completed).
    assert (figures["local"], figures["national"], figures["decided"]) == (5, 2, 7)
    assert figures["rate"] == pytest.approx(71.4)
    assert figures["target"] == 90


def test_rate_for_a_period_counts_decisions_taken_within_it(data):
    start = timezone.localdate(data.now - 45 * datetime.timedelta(days=1))
    figures = headline(data, start=start, end=timezone.localdate(data.now))
    # Decided within the period: a3 (local, 20 d ago), b2 (local, 29 d ago), a4 (national, 20 d).
    assert (figures["local"], figures["national"]) == (2, 1)
    assert figures["rate"] == pytest.approx(66.7)
    # Submitted within the period: a3, a5, a6, a8, a10, b2, b3.
    assert figures["submitted"] == 7


def test_filters_by_departement_region_programme_domain_and_form(data):
    assert headline(data, departement_id=data.b.departement.pk)["rate"] == 50.0
    assert headline(data, region_id=data.region_c.pk)["rate"] == 100.0
    by_programme = headline(data, programme_id=data.programme.pk)
    assert (by_programme["local"], by_programme["national"]) == (2, 0)
    # A theme includes its items: a4 has the item "Santé" of the theme "Ruralité".
    by_theme = headline(data, domain_id=data.theme.pk)
    assert (by_theme["local"], by_theme["national"], by_theme["rate"]) == (0, 1, 0.0)
    by_form = headline(data, intervention_form=InterventionForm.CONTRACT)
    assert by_form["national"] == 1
    assert by_form["submitted"] == 1


def test_requests_by_state_never_count_drafts(data):
    counts = {item["state"]: item["count"] for item in headline(data)["by_state"]}
    assert counts == {
        S.SUBMITTED: 1,
        S.IN_REVIEW: 1,
        S.INFO_REQUESTED: 1,
        S.LOCAL_SUPPORT: 3,
        S.ESCALATED: 1,
        S.NATIONAL_SUPPORT: 1,
        S.DECLINED: 1,
        S.WITHDRAWN: 1,
        S.COMPLETED: 3,
    }
    assert headline(data)["submitted"] == 13


def test_escalation_grounds(data):
    figures = headline(data)
    assert figures["escalated"] == 3  # a4, a5, b1
    assert {g["code"]: g["count"] for g in figures["grounds"]} == {
        "fragility": 1,  # a4: fragility AND lack of local resources
        "innovative": 2,  # a5, b1
        "rare_expertise": 1,  # a5
        "national_scope": 1,  # b1
    }


def test_national_decisions_by_instrument_operator_and_amount(data):
    decisions = selectors.national_decisions(NATIONAL, Filters())
    by_instrument = {i["code"]: (i["count"], i["amount"]) for i in decisions["by_instrument"]}
    assert by_instrument == {
        "internal_skills": (0, 0),
        "state_mission": (0, 0),
        "subsidy": (1, 40000),
        "purchase_order": (0, 0),
        "framework_agreement": (1, 0),
    }
    assert decisions["by_operator"] == [{"code": "cerema", "label": "Cerema", "count": 1}]
    assert (decisions["total"], decisions["amount"]) == (2, 40000)
    assert headline(data)["national_amount"] == 40000


def test_delays_median_and_90th_percentile(data):
    delays = {d["code"]: d for d in headline(data)["delays"]}
    # Review start, days after submission: 1,1,1,1,1,2,2,3,4,7,10.
    assert delays["review"]["count"] == 11
    assert delays["review"]["median"] == pytest.approx(2.0)
    assert delays["review"]["p90"] == pytest.approx(7.0)
    # Decision (local or national): 5,6,10,12,15,20,30 → p90 at rank 5.4 = 20 + 0.4 × 10.
    assert delays["decision"]["count"] == 7
    assert delays["decision"]["median"] == pytest.approx(12.0)
    assert delays["decision"]["p90"] == pytest.approx(24.0)
    assert list(delays) == ["review", "decision"]


def test_delays_are_empty_without_data(db):
    delays = {d["code"]: d for d in selectors.headline(NATIONAL, Filters())["delays"]}
    assert delays["review"] == {**delays["review"], "count": 0, "median": None, "p90": None}


def test_backlog_by_age_band_is_a_snapshot_of_open_requests(data):
    backlog = headline(data)["backlog"]
    rows = {row["state"]: row["counts"] for row in backlog["rows"]}
    assert rows == {
        S.SUBMITTED: [1, 0, 0, 0],  # a6, 3 days
        S.IN_REVIEW: [0, 0, 0, 1],  # a7, 95 days
        S.INFO_REQUESTED: [0, 1, 0, 0],  # b3, 8 days
        S.ESCALATED: [0, 1, 0, 0],  # a5, 20 days
    }
    assert backlog["totals"] == [1, 2, 0, 1]
    assert backlog["total"] == 4
    # The period does not apply to a snapshot.
    assert (
        headline(data, start=datetime.date(2000, 1, 1), end=datetime.date(2000, 12, 31))["backlog"][
            "total"
        ]
        == 4
    )


def test_backlog_band_boundaries(db):
    now = timezone.now()
    where = place(DepartementFactory())
    for days in (6.99, 7, 29.99, 30, 89.99, 90):
        request_at(where, now, state=S.SUBMITTED, submitted_days_ago=days)
    backlog = selectors.headline(NATIONAL, Filters(), now=now)["backlog"]
    assert backlog["totals"] == [1, 2, 2, 1]


def test_rate_and_median_delays_per_departement(data):
    departements = list(selectors.PUBLIC_SCOPE.departements())
    rows = {row["code"]: row for row in selectors.by_departement(NATIONAL, Filters(), departements)}
    a, b, c = (rows[p.departement.code] for p in (data.a, data.b, data.c))
    assert (a["local"], a["national"], a["rate"]) == (3, 1, 75.0)
    assert (b["local"], b["national"], b["rate"]) == (1, 1, 50.0)
    assert (c["local"], c["national"], c["rate"]) == (1, 0, 100.0)
    assert (a["submitted"], b["submitted"], c["submitted"]) == (9, 3, 1)
    assert (a["open"], b["open"], c["open"]) == (3, 1, 0)
    # A: reviews 1,1,1,2,3,4,7; decisions 5,10,20,30. B: reviews 1,1,2; decisions 6,12.
    assert (a["review_median"], a["decision_median"]) == pytest.approx((2.0, 15.0))
    assert (b["review_median"], b["decision_median"]) == pytest.approx((1.0, 9.0))
    assert (c["review_median"], c["decision_median"]) == pytest.approx((10.0, 15.0))


def test_departement_table_sorts_on_the_server_and_keeps_empty_rates_last(data):
    empty = DepartementFactory(region=data.region_c)
    departements = list(selectors.PUBLIC_SCOPE.departements())

    def codes(**kwargs):
        return [
            r["code"] for r in selectors.by_departement(NATIONAL, Filters(), departements, **kwargs)
        ]

    a, b, c = (p.departement.code for p in (data.a, data.b, data.c))
    assert codes(sort="taux", descending=True) == [c, a, b, empty.code]
    assert codes(sort="taux") == [b, a, c, empty.code]
    assert codes(sort="deposees", descending=True)[:3] == [a, b, c]


def test_monthly_trend_over_twelve_months_in_local_time(db):
    where = place(DepartementFactory())
    paris = timezone.get_default_timezone()

    def at(*args):
        return datetime.datetime(*args, tzinfo=paris)

    now = at(2026, 3, 15, 12)

    def request(submitted, **milestones):
        return request_at(where, submitted, state=S.COMPLETED, submitted_days_ago=0, **{
            name: (value - submitted) / datetime.timedelta(days=1)
            for name, value in milestones.items()
        })  # fmt: skip

    request(at(2025, 3, 31, 12))  # before the window
    request(at(2025, 4, 1, 0, 30), local=at(2025, 4, 20))
    request(at(2026, 1, 10), local=at(2026, 3, 5))
    request(at(2026, 2, 10), escalated=at(2026, 2, 11), decided=at(2026, 3, 10))
    # 00:30 in Paris on 1 March is still February in UTC: counted in March.
    request(at(2026, 2, 20), local=at(2026, 3, 1, 0, 30))
    request(at(2026, 3, 2), local=at(2026, 3, 14))

    trend = selectors.monthly_trend(NATIONAL, Filters(), today=now.date())
    assert len(trend) == 12
    assert trend[0]["month"] == datetime.date(2025, 4, 1)
    assert trend[-1]["month"] == datetime.date(2026, 3, 1)
    by_month = {m["month"]: (m["submitted"], m["local"], m["national"], m["rate"]) for m in trend}
    assert by_month[datetime.date(2025, 4, 1)] == (1, 1, 0, 100.0)
    assert by_month[datetime.date(2026, 1, 1)] == (1, 0, 0, None)
    assert by_month[datetime.date(2026, 2, 1)] == (2, 0, 0, None)
    assert by_month[datetime.date(2026, 3, 1)] == (1, 3, 1, 75.0)
    assert sum(m["submitted"] for m in trend) == 5

    # The window ends with the period's last month.
    ending = selectors.monthly_trend(NATIONAL, Filters(end=datetime.date(2025, 4, 30)))
    assert ending[-1]["month"] == datetime.date(2025, 4, 1)
    assert (ending[-1]["submitted"], ending[-1]["local"]) == (1, 1)


def test_delegate_scope_only_holds_their_departements(data):
    scope = selectors.scope_for(data.delegate_a)
    assert scope == Scope("delegate", data.delegate_a, (data.a.departement.pk,))
    figures = selectors.headline(scope, Filters(), now=data.now)
    assert (figures["local"], figures["national"], figures["rate"]) == (3, 1, 75.0)
    # Even filtered on another département, nothing of it leaks.
    other = selectors.headline(scope, Filters(departement_id=data.b.departement.pk), now=data.now)
    assert (other["submitted"], other["decided"]) == (0, 0)


def test_python_percentile_matches_postgresql_definition():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([4], 0.9) == 4
    assert percentile_cont([12, 30], 0.9) == pytest.approx(28.2)
    assert percentile_cont([1, 2, 3, 4], 0.5) == 2.5


@pytest.mark.postgres
def test_percentiles_are_computed_by_postgresql(data):
    # One département (few rows): percentile_cont over them, by département and in total.
    with CaptureQueriesContext(connection) as queries:
        delays = {
            d["code"]: d for d in headline(data, departement_id=data.a.departement.pk)["delays"]
        }
    assert len(queries) == 2  # the counts, then the percentiles
    assert "percentile_cont(0.9) WITHIN GROUP (ORDER BY decision_delay)" in queries[1]["sql"]
    assert "GROUPING SETS ((departement_id), ())" in queries[1]["sql"]
    # A: decisions 5,10,20,30 → p90 at rank 2.7 = 20 + 0.7 × 10.
    assert delays["decision"]["p90"] == pytest.approx(27.0)
    # A région: the two values around each rank read from the indexes.
    with CaptureQueriesContext(connection) as queries:
        delays = {d["code"]: d for d in headline(data, region_id=data.region_ab.pk)["delays"]}
    assert "OFFSET t.off LIMIT 2" in queries[1]["sql"]
    # A and B: decisions 5,6,10,12,20,30 → p90 at rank 5.5 = 20 + 0.5 × 10.
    assert delays["decision"]["p90"] == pytest.approx(25.0)
    # All of France without filter: from the indexes too.
    with CaptureQueriesContext(connection) as queries:
        delays = {d["code"]: d for d in headline(data)["delays"]}
    assert len(queries) == 2
    assert "OFFSET t.off LIMIT 2" in queries[1]["sql"]
    assert delays["decision"]["p90"] == pytest.approx(24.0)


@pytest.mark.postgres
def test_python_interpolation_is_bit_for_bit_postgresql(db):
    """The indexed percentiles interpolate in Python: the floats must be PostgreSQL's own."""
    rng = random.Random(5)
    with connection.cursor() as cursor:
        for count in range(1, 60):
            values = [rng.uniform(0, 3) * 10 ** rng.randint(-9, 2) for _ in range(count)]
            cursor.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
                "percentile_cont(0.9) WITHIN GROUP (ORDER BY v) FROM unnest(%s::float8[]) AS v",
                [values],
            )
            median, p90 = cursor.fetchone()
            assert (percentile_cont(values, 0.5), percentile_cont(values, 0.9)) == (median, p90)
