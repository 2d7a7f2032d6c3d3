"""The benchmark's pieces: the baseline view, and the data generator (scripts/bench_data.py),
whose data must look like what the services write, or the figures would measure nothing real."""

import sys
from collections import Counter
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, reverse

from accounts import roles
from accounts.models import User
from anct_portal import views
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest, TransitionLog
from engineering_requests.services import submit_request
from notifications.models import Notification
from tests.engineering_requests.factories import draft_fields
from tests.programmes.factories import PriorityDomainFactory
from tests.territories.factories import CollectivityFactory, DepartementFactory

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

pytestmark = pytest.mark.django_db


def test_baseline_is_not_routed_by_default(client):
    with pytest.raises(NoReverseMatch):
        reverse("bench_baseline")
    assert client.get("/__bench__/baseline/").status_code == 404


def test_baseline_view_runs_one_query(rf, django_assert_num_queries):
    DepartementFactory(code="23", name="Creuse")
    with django_assert_num_queries(1):
        response = views.bench_baseline(rf.get("/__bench__/baseline/"))
    assert response.status_code == 200
    assert b"Creuse" in response.content


def test_roles_take_one_query(django_assert_num_queries):
    collectivity = CollectivityFactory()
    user = User.objects.create(email="elu@example.fr")
    user.collectivity_memberships.create(collectivity=collectivity)
    with django_assert_num_queries(1):
        assert roles.collectivity_ids(user) == (collectivity.pk,)
        assert roles.departement_ids(user) == ()
        assert not roles.is_national_staff(user)


@pytest.mark.postgres
@override_settings(TIME_ZONE="Europe/Paris")
def test_generated_data_follows_the_state_machine():
    from bench_data import Generator

    departements = [DepartementFactory() for _ in range(3)]
    for n in range(30):
        CollectivityFactory(
            commune__departement=departements[n % 3], commune__population=100 * (n + 1)
        )
    for n in range(3):
        CollectivityFactory(epci_level=True, epci__departement=departements[n], population=5000)
    PriorityDomainFactory(code="ouvrages", name="Ouvrages d'art")
    generator = Generator(seed=7, years=3)
    generator.create_staff()
    generator.generate(600, chunk=250)

    requests = list(EngineeringRequest.objects.all())
    assert len(requests) == 600
    states = Counter(r.state for r in requests)
    # Most submitted requests end up answered locally; every state of the life cycle occurs.
    assert states[S.LOCAL_SUPPORT] + states[S.COMPLETED] > states[S.NATIONAL_SUPPORT]
    assert {S.DRAFT, S.IN_REVIEW, S.LOCAL_SUPPORT, S.ESCALATED, S.COMPLETED} <= set(states)
    last_log = {}
    for log in TransitionLog.objects.order_by("created_at", "pk"):
        previous = last_log.get(log.engineering_request_id)
        assert previous is None or previous.target_state == log.source_state
        last_log[log.engineering_request_id] = log
    for request in requests:
        log = last_log.get(request.pk)
        assert (log.target_state if log else S.DRAFT) == request.state
        assert bool(request.reference) == (request.state != S.DRAFT)
        assert request.submitted_by.collectivity_memberships.filter(
            collectivity=request.collectivity
        ).exists()
    references = [r.reference for r in requests if r.reference]
    assert len(references) == len(set(references))
    assert Notification.objects.count() == 2 * TransitionLog.objects.count()
    # The dashboard's copy, kept by triggers that were off during the load, was rebuilt.
    from dashboard.models import RequestFact

    assert RequestFact.objects.count() == sum(1 for r in requests if r.submitted_at)

    # A submission after the bulk load continues the year's numbering without a collision.
    draft = EngineeringRequest.objects.filter(state=S.DRAFT).first()
    fields = draft_fields()
    draft.title, draft.description, draft.need = fields["title"], "Une description.", "Un besoin."
    draft.engineering_kind = fields["engineering_kind"]
    draft.intervention_form = fields["intervention_form"]
    draft.save()
    draft.domains.set(fields["domains"])
    submitted = submit_request(engineering_request=draft, user=draft.submitted_by)
    assert submitted.reference not in references


def _run(p95_ms, rps=100.0):
    return {"p50_us": p95_ms * 500, "p95_us": p95_ms * 1000, "rps": rps, "requests": 10,
            "errors_status": 0, "errors_other": 0}  # fmt: skip


def test_the_baseline_runs_around_every_two_pages():
    import bench

    pages = [bench.Page(key, key, "delegate", "/") for key in ("baseline", "a", "b", "c")]
    order = [page.key for page in bench.interleaved(pages)]
    assert order == ["baseline", "a", "b", "baseline", "c", "baseline"]


def test_a_page_is_divided_by_the_baseline_runs_around_it():
    """The machine slowed down while "c" ran: "c" is compared with the baseline of that time,
    not with the run's first one."""
    import bench

    pages = [bench.Page(key, key, "delegate", "/") for key in ("baseline", "a", "b", "c")]
    results = {
        "baselines": [_run(5, 800), _run(7, 600), _run(9, 400)],
        "around": {"a": (0, 1), "b": (0, 1), "c": (1, 2)},
        "a": _run(15),
        "b": _run(19),
        "c": _run(24),
    }
    queries = {page.key: (1, 200) for page in pages}
    rows = {row["key"]: row for row in bench.evaluate(pages, results, queries)}
    assert rows["a"]["ratio"] == 2.5 and rows["a"]["ok"]
    assert rows["b"]["ratio"] == pytest.approx(3.17, abs=0.01) and not rows["b"]["ok"]
    assert rows["b"]["checks"]["p95"] is False
    assert rows["c"]["ratio"] == 3.0 and rows["c"]["ok"]
    assert rows["c"]["rps_ratio"] == 0.2  # 100 ÷ the mean of 600 and 400
    assert rows["baseline"]["p95_ms"] == 7.0 and rows["baseline"]["rps"] == 600.0
