"""Two people acting on the same request at the same moment, on a real PostgreSQL."""

import threading

import pytest
from django.db import close_old_connections, connection

from engineering_requests import services
from engineering_requests.enums import RequestState as S
from engineering_requests.exceptions import AlreadyHandled
from engineering_requests.models import EngineeringRequest, TransitionLog
from tests.accounts.factories import DelegateFactory
from tests.engineering_requests.factories import Cast

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*actions):
    """Run the actions in threads released at the same instant; return results or exceptions."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def worker(index, action):
        try:
            barrier.wait(timeout=10)
            results[index] = action()
        except Exception as exc:
            results[index] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_escalate_and_resolve_at_once_exactly_one_wins():
    cast = Cast.create()
    second_delegate = DelegateFactory(departements=[cast.collectivity.departement])
    request = cast.request_in(S.IN_REVIEW)
    # Both delegates loaded the page showing the request "in review".
    seen_by_first = EngineeringRequest.objects.get(pk=request.pk)
    seen_by_second = EngineeringRequest.objects.get(pk=request.pk)
    logs_before = TransitionLog.objects.filter(engineering_request=request).count()

    results = run_together(
        lambda: services.escalate_request(
            engineering_request=seen_by_first,
            user=cast.delegate,
            innovative_or_complex="Réseau de chaleur géothermique, une première.",
        ),
        lambda: services.resolve_locally(
            engineering_request=seen_by_second,
            user=second_delegate,
            contact_name="Claire Martin",
            contact_organisation="ATD",
            contact_email="claire@atd.example.fr",
        ),
    )

    winners = [r for r in results if isinstance(r, EngineeringRequest)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], AlreadyHandled)
    assert "quelqu'un d'autre" in str(losers[0])
    request.refresh_from_db()
    assert request.state == winners[0].state in {S.ESCALATED, S.LOCAL_SUPPORT}
    logs = TransitionLog.objects.filter(engineering_request=request)
    assert logs.count() == logs_before + 1
    # The loser's data did not leak into the winner's state.
    if request.state == S.ESCALATED:
        assert request.contact_email == ""
    else:
        assert request.innovative_rationale == ""


def test_the_same_action_twice_at_once_is_done_once():
    cast = Cast.create()
    request = cast.request_in(S.SUBMITTED)
    copies = [EngineeringRequest.objects.get(pk=request.pk) for _ in range(2)]
    results = run_together(
        *[
            lambda c=c: services.start_review(engineering_request=c, user=cast.delegate)
            for c in copies
        ]
    )
    assert sorted(type(r).__name__ for r in results) == ["AlreadyHandled", "EngineeringRequest"]
    assert (
        TransitionLog.objects.filter(engineering_request=request, transition="start_review").count()
        == 1
    )


def test_concurrent_submissions_get_distinct_gap_free_references():
    cast = Cast.create()
    drafts = [cast.draft(title=f"Projet {i}") for i in range(8)]
    results = run_together(
        *[
            lambda d=d: services.submit_request(engineering_request=d, user=cast.official)
            for d in drafts
        ]
    )
    assert all(isinstance(r, EngineeringRequest) for r in results), results
    references = sorted(r.reference for r in results)
    assert len(set(references)) == 8
    numbers = [int(reference.rsplit("-", 1)[1]) for reference in references]
    assert numbers == list(range(numbers[0], numbers[0] + 8))
