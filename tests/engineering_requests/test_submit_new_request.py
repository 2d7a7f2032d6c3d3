"""``services.submit_new_request``: a new request submitted at once gives exactly what
``create_draft`` then ``submit_request`` give, and nothing at all when it cannot be submitted."""

import logging
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from engineering_requests import services
from engineering_requests.enums import RequestState as S
from engineering_requests.enums import Transition
from engineering_requests.models import EngineeringRequest, ReferenceSequence, TransitionLog
from notifications.models import Notification
from tests.accounts.factories import DelegateFactory
from tests.engineering_requests.factories import draft_fields
from tests.programmes.factories import PriorityDomainFactory

pytestmark = pytest.mark.django_db

# What may differ between two requests made the same way.
VARYING = {"id", "reference", "created_at", "updated_at", "submitted_at", "last_transition_at"}


def row(request) -> dict:
    values = EngineeringRequest.objects.filter(pk=request.pk).values().get()
    return {key: value for key, value in values.items() if key not in VARYING}


def test_it_gives_the_same_rows_as_create_draft_then_submit_request(cast, caplog):
    domains = [PriorityDomainFactory(), PriorityDomainFactory()]
    with caplog.at_level(logging.INFO, logger="engineering_requests.services"):
        draft = services.create_draft(
            user=cast.official, collectivity=cast.collectivity, **draft_fields(domains=domains)
        )
        before = services.submit_request(engineering_request=draft, user=cast.official)
        two_steps = [re.sub(r"^request \S+:", "request X:", r.getMessage()) for r in caplog.records]
        caplog.clear()
        after = services.submit_new_request(
            user=cast.official, collectivity=cast.collectivity, **draft_fields(domains=domains)
        )
        one_step = [re.sub(r"^request \S+:", "request X:", r.getMessage()) for r in caplog.records]

    assert one_step == two_steps
    assert one_step == [
        f"request X: draft created by user {cast.official.pk}",
        f"request X: submit draft -> submitted by user {cast.official.pk}",
    ]
    after.refresh_from_db()
    assert after.state == S.SUBMITTED and after.submitted_at is not None
    assert row(after) == row(before)
    year = after.submitted_at.year
    assert before.reference == f"ING-{year}-000001" and after.reference == f"ING-{year}-000002"
    assert after.last_transition_at >= after.submitted_at
    assert set(after.domains.all()) == set(before.domains.all()) == set(domains)
    [log] = TransitionLog.objects.filter(engineering_request=after)
    assert (log.transition, log.source_state, log.target_state, log.actor, log.comment) == (
        Transition.SUBMIT,
        S.DRAFT,
        S.SUBMITTED,
        cast.official,
        "",
    )

    def notifications(request):
        return sorted(
            (n.event, n.audience, n.channel, n.email, n.context["subject"].split(" : ")[0])
            for n in Notification.objects.filter(engineering_request=request)
        )

    assert notifications(after) == notifications(before)
    assert len(notifications(after)) == 2  # the delegate, by e-mail and in the portal
    context = Notification.objects.filter(engineering_request=after).first().context
    assert after.reference in context["subject"]
    assert cast.collectivity.name in context["body"]


def test_every_delegate_of_the_departement_is_told(cast):
    colleague = DelegateFactory(departements=[cast.collectivity.departement])
    request = services.submit_new_request(
        user=cast.official, collectivity=cast.collectivity, **draft_fields()
    )
    emails = Notification.objects.filter(engineering_request=request, channel="email")
    assert sorted(emails.values_list("email", flat=True)) == sorted(
        [cast.delegate.email, colleague.email]
    )


def test_an_incomplete_request_raises_what_submit_request_raises_and_writes_nothing(cast):
    fields = draft_fields(need="", domains=[])
    draft = services.create_draft(user=cast.official, collectivity=cast.collectivity, **fields)
    with pytest.raises(ValidationError) as two_steps:
        services.submit_request(engineering_request=draft, user=cast.official)
    draft.delete()
    with pytest.raises(ValidationError) as one_step:
        services.submit_new_request(user=cast.official, collectivity=cast.collectivity, **fields)
    assert one_step.value.message_dict == two_steps.value.message_dict
    assert set(one_step.value.message_dict) == {"need", "domains"}
    assert not EngineeringRequest.objects.exists()
    assert not ReferenceSequence.objects.exists()
    assert not TransitionLog.objects.exists() and not Notification.objects.exists()


def test_a_wrong_field_is_refused_like_create_draft_does(cast):
    fields = draft_fields(estimated_budget="-1", domains=[999_999])
    with pytest.raises(ValidationError) as refused:
        services.submit_new_request(user=cast.official, collectivity=cast.collectivity, **fields)
    assert refused.value.message_dict == {
        "estimated_budget": ["Le montant ne peut pas être négatif."],
        "domains": ["Domaine inconnu."],
    }
    assert not EngineeringRequest.objects.exists()


@pytest.mark.parametrize("who", ["other_official", "delegate", "national", "nobody"])
def test_only_an_official_of_the_collectivite_submits_for_it(cast, who):
    with pytest.raises(PermissionDenied):
        services.submit_new_request(
            user=getattr(cast, who), collectivity=cast.collectivity, **draft_fields()
        )
    assert not EngineeringRequest.objects.exists()


def test_an_inactive_official_is_refused_as_submit_request_refuses(cast):
    cast.official.is_active = False
    cast.official.save()
    with pytest.raises(PermissionDenied):
        services.submit_new_request(
            user=cast.official, collectivity=cast.collectivity, **draft_fields()
        )
    assert not EngineeringRequest.objects.exists()
