"""The dashboards' maintained data: the facts (a narrow copy of the submitted requests, kept by
triggers on PostgreSQL and SQLite) and, on PostgreSQL, the counters per (département, state)
and the percentiles read from the delay indexes. Whatever path computes them, the figures must
be the live ones: after any write (services, ``QuerySet.update``, delete) and after a rebuild.
"""

import datetime
import random

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import selectors
from dashboard.models import RequestCount, RequestFact
from dashboard.selectors import Filters
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from programmes.enums import NationalInstrument
from tests.dashboard.factories import crafted_data_set, place, request_at
from tests.engineering_requests.factories import Cast
from tests.territories.factories import DepartementFactory

pytestmark = pytest.mark.django_db

NATIONAL = selectors.PUBLIC_SCOPE


def shown(now, *, live=False, monkeypatch=None, filters=None):
    """What the pages of all of France show: the key figures and the département table.
    ``live``: computed from the facts, percentiles sorted by percentile_cont."""
    filters = filters or Filters()
    if live:
        monkeypatch.setattr(selectors, "use_maintained", lambda scope, filters: False)
        monkeypatch.setattr(selectors, "use_delay_indexes", lambda scope, filters: False)
    figures = selectors.figures(NATIONAL, filters, now=now)
    rows = selectors.departement_rows(figures, filters, list(NATIONAL.departements()), sort="code")
    if live:
        monkeypatch.undo()
    return figures.headline, rows


def assert_maintained_equals_live(now, monkeypatch, filters=None):
    maintained = shown(now, filters=filters)
    live = shown(now, live=True, monkeypatch=monkeypatch, filters=filters)
    assert maintained == live


def random_requests(count: int, now, seed: int = 7):
    """Requests in every state with fractional delays, over three départements."""
    rng = random.Random(seed)
    places = [place(DepartementFactory()) for _ in range(3)]
    for _ in range(count):
        where = rng.choice(places)
        age = rng.uniform(3, 400)
        review = rng.uniform(0.05, 2.5)
        decision = review + rng.uniform(0.5, 2.5)
        outcome = rng.choice(["local", "national", "escalated", "open", "declined"])
        if outcome == "local":
            request_at(where, now, state=S.LOCAL_SUPPORT, submitted_days_ago=age, review=review,
                       local=decision)  # fmt: skip
        elif outcome == "national":
            request_at(where, now, state=S.NATIONAL_SUPPORT, submitted_days_ago=age,
                       review=review, escalated=review + 0.5, decided=decision,
                       national_instrument=NationalInstrument.SUBSIDY,
                       granted_amount=rng.choice([1000, 2500]),
                       rare_expertise=rng.random() < 0.5)  # fmt: skip
        elif outcome == "escalated":
            request_at(where, now, state=S.ESCALATED, submitted_days_ago=age, review=review,
                       escalated=review + 0.5, innovative_rationale="Complexe.")  # fmt: skip
        elif outcome == "open":
            request_at(where, now, state=rng.choice([S.SUBMITTED, S.IN_REVIEW]),
                       submitted_days_ago=age, review=review)  # fmt: skip
        else:
            request_at(where, now, state=S.DECLINED, submitted_days_ago=age, review=review)


def test_facts_hold_every_submitted_request_and_follow_updates_and_deletes(db):
    now = timezone.now()
    data = crafted_data_set(now)
    submitted = EngineeringRequest.objects.exclude(state=S.DRAFT)
    assert set(RequestFact.objects.values_list("pk", flat=True)) == set(
        submitted.values_list("pk", flat=True)
    )
    in_review = EngineeringRequest.objects.get(state=S.IN_REVIEW)
    EngineeringRequest.objects.filter(pk=in_review.pk).update(
        state=S.LOCAL_SUPPORT, resolved_locally_at=now
    )
    fact = RequestFact.objects.get(pk=in_review.pk)
    assert (fact.state, fact.resolved_locally_at, fact.decision_at) == (S.LOCAL_SUPPORT, now, now)
    assert fact.decision_days == pytest.approx(
        (now - in_review.submitted_at).total_seconds() / 86400
    )
    assert fact.review_days == pytest.approx(7.0)
    EngineeringRequest.objects.filter(pk=in_review.pk).delete()
    assert not RequestFact.objects.filter(pk=in_review.pk).exists()
    assert not RequestFact.objects.filter(state=S.DRAFT).exists()
    assert data.a.departement.pk in set(RequestFact.objects.values_list("departement", flat=True))


@pytest.mark.postgres
def test_counters_and_indexed_percentiles_equal_the_live_computation(db, monkeypatch):
    now = timezone.now()
    crafted_data_set(now)
    random_requests(150, now)
    assert_maintained_equals_live(now, monkeypatch)
    headline, _rows = shown(now)
    assert headline["delays"][0]["median"] is not None


@pytest.mark.postgres
def test_indexed_percentiles_with_filters_equal_percentile_cont(db, monkeypatch):
    now = timezone.now()
    data = crafted_data_set(now)
    random_requests(150, now, seed=11)
    today = timezone.localdate(now)
    for filters in (
        Filters(start=today - datetime.timedelta(days=120)),
        Filters(
            start=today - datetime.timedelta(days=300), end=today - datetime.timedelta(days=30)
        ),
        Filters(region_id=data.region_ab.pk),
        Filters(programme_id=data.programme.pk),
        Filters(intervention_form="contract", start=today - datetime.timedelta(days=200)),
    ):
        assert selectors.use_delay_indexes(NATIONAL, filters)
        assert_maintained_equals_live(now, monkeypatch, filters)


@pytest.mark.postgres
def test_counters_follow_transitions_through_the_services(db, monkeypatch):
    cast = Cast.create()
    for state in (S.SUBMITTED, S.LOCAL_SUPPORT, S.ESCALATED):
        cast.request_in(state)
    request = cast.request_in(S.IN_REVIEW)
    assert_maintained_equals_live(timezone.now(), monkeypatch)
    before, _rows = shown(timezone.now())

    request = cast.escalate(request)
    request = cast.approve(request)
    headline, _rows = shown(timezone.now())
    assert headline["national"] == before["national"] + 1
    assert headline["escalated"] == before["escalated"] + 1
    assert_maintained_equals_live(timezone.now(), monkeypatch)
    counts = RequestCount.objects.get(departement=request.departement, state=S.NATIONAL_SUPPORT)
    assert (counts.national, counts.escalated, counts.ground_rare_expertise) == (1, 1, 1)
    # Leaving a state takes the request out of its counters.
    assert (
        sum(RequestCount.objects.filter(state=S.ESCALATED).values_list("escalated", flat=True)) == 1
    )


@pytest.mark.postgres
def test_rebuild_command_gives_the_live_figures_back(db, monkeypatch):
    now = timezone.now()
    crafted_data_set(now)
    random_requests(40, now)
    expected = shown(now, live=True, monkeypatch=monkeypatch)
    # As after a bulk load with the triggers off: the maintained tables are wrong.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_requestcount WHERE state = 'local_support'")
        cursor.execute(
            "UPDATE dashboard_requestfact SET review_days = 1000 WHERE state = 'escalated'"
        )
    assert shown(now) != expected
    call_command("rebuild_dashboard_facts", verbosity=0)
    assert shown(now) == expected
    assert shown(now, live=True, monkeypatch=monkeypatch) == expected


def test_rebuild_gives_the_same_facts_on_any_database(db):
    """SQLite (the development database) keeps facts by triggers too; no counters there."""
    now = timezone.now()
    crafted_data_set(now)
    columns = [f.attname for f in RequestFact._meta.concrete_fields]
    before = list(RequestFact.objects.order_by("pk").values_list(*columns))
    RequestFact.objects.all().delete()
    call_command("rebuild_dashboard_facts", verbosity=0)
    assert list(RequestFact.objects.order_by("pk").values_list(*columns)) == before
    headline = selectors.headline(NATIONAL, Filters(), now=now)
    assert (headline["local"], headline["national"], headline["rate"]) == (
        5,
        2,
        pytest.approx(71.4),
    )


@pytest.mark.postgres
def test_default_pages_read_the_maintained_data_in_a_constant_number_of_queries(db):
    now = timezone.now()
    data = crafted_data_set(now)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            selectors.figures(NATIONAL, Filters(), now=now)
        return [q["sql"] for q in captured]

    few = queries()
    random_requests(60, now, seed=3)
    many = queries()
    assert len(few) == len(many) == 2
    assert "dashboard_requestcount" in many[0] and "UNION ALL" in many[0]
    assert "OFFSET t.off LIMIT 2" in many[1] and "percentile_cont" not in many[1]
    # A period: counted from the facts, percentiles still read from the indexes.
    with CaptureQueriesContext(connection) as captured:
        selectors.figures(NATIONAL, Filters(start=datetime.date(2020, 1, 1)), now=now)
    assert "dashboard_requestcount" not in captured[0]["sql"]
    assert "OFFSET t.off LIMIT 2" in captured[1]["sql"]
    # A domain (a join per row): the percentiles are sorted.
    with CaptureQueriesContext(connection) as captured:
        selectors.figures(NATIONAL, Filters(domain_id=data.theme.pk), now=now)
    assert "percentile_cont(0.9) WITHIN GROUP (ORDER BY decision_delay)" in captured[1]["sql"]
