"""Opposite moves in one département at the same moment, on a real PostgreSQL: the counters
trigger locks its rows in a fixed order, so neither transaction deadlocks, and the counters
still equal the live figures."""

import pytest
from django.utils import timezone

from dashboard import selectors
from dashboard.models import RequestCount
from dashboard.selectors import Filters
from engineering_requests import services
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from tests.engineering_requests.factories import Cast
from tests.engineering_requests.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_opposite_moves_at_once_neither_deadlocks():
    cast = Cast.create()
    for _round in range(4):
        in_review = cast.request_in(S.IN_REVIEW)
        waiting = cast.request_in(S.INFO_REQUESTED)
        results = run_together(
            lambda r=in_review: services.request_info(
                engineering_request=r, user=cast.delegate, message="Quel est le calendrier ?"
            ),
            lambda r=waiting: services.provide_info(
                engineering_request=r, user=cast.official, message="Travaux en 2027."
            ),
        )
        assert all(isinstance(r, EngineeringRequest) for r in results), results
    counters = {
        (row.departement_id, row.state): row.submitted
        for row in RequestCount.objects.all()
        if row.submitted
    }
    live = {}
    for request in EngineeringRequest.objects.exclude(state=S.DRAFT):
        key = (request.departement_id, request.state)
        live[key] = live.get(key, 0) + 1
    assert counters == live
    figures = selectors.headline(selectors.PUBLIC_SCOPE, Filters(), now=timezone.now())
    by_state = {row["state"]: row["count"] for row in figures["by_state"]}
    assert (by_state[S.IN_REVIEW], by_state[S.INFO_REQUESTED]) == (4, 4)
