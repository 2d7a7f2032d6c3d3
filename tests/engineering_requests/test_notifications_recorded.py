"""DESIGN §4: each event records exactly one notification per recipient and channel."""

import pytest
from django.core.exceptions import ValidationError

from engineering_requests import services
from engineering_requests.enums import RequestState as S
from notifications.enums import Channel, NotificationStatus
from notifications.models import Notification
from tests.accounts.factories import DelegateFactory, NationalStaffFactory
from tests.programmes.factories import OperatorFactory

pytestmark = pytest.mark.django_db


def recipients(event, channel=Channel.EMAIL):
    return sorted(
        Notification.objects.filter(event=event, channel=channel).values_list("email", flat=True)
    )


def emails(*users):
    return sorted(user.email for user in users)


def test_submitted_goes_to_every_delegate_of_the_departement_only(cast):
    staff = DelegateFactory(departements=[cast.collectivity.departement])
    cast.request_in(S.SUBMITTED)
    assert recipients("submitted") == emails(cast.delegate, staff)
    assert recipients("submitted", Channel.IN_APP) == emails(cast.delegate, staff)
    assert Notification.objects.filter(event="submitted").count() == 4
    notification = Notification.objects.filter(event="submitted").first()
    assert notification.status == NotificationStatus.PENDING
    assert notification.context["url"].startswith("/admin/")


def test_info_requested_goes_to_the_officials_of_the_collectivite(cast):
    cast.request_in(S.INFO_REQUESTED)
    assert recipients("info_requested") == emails(cast.official, cast.colleague)
    context = Notification.objects.filter(event="info_requested").first().context
    assert "Quel est le budget ?" in context["body"]
    assert context["url"].startswith("/demandes/")


def test_info_provided_goes_to_the_assigned_delegate(cast):
    DelegateFactory(departements=[cast.collectivity.departement])  # not in charge
    request = cast.request_in(S.INFO_REQUESTED)
    services.provide_info(engineering_request=request, user=cast.official, message="Voici.")
    assert recipients("info_provided") == emails(cast.delegate)


def test_resolved_locally_goes_to_the_official_and_the_interlocuteur_unique(cast):
    cast.request_in(S.LOCAL_SUPPORT)
    assert recipients("resolved_locally") == emails(cast.official, cast.contact)


def test_interlocuteur_without_account_gets_the_email_only(cast):
    request = cast.request_in(S.IN_REVIEW)
    services.resolve_locally(
        engineering_request=request,
        user=cast.delegate,
        contact_name="Jean Dupont",
        contact_organisation="CAUE",
        contact_email="Jean.Dupont@CAUE.example.fr",
    )
    assert recipients("resolved_locally") == sorted(
        [cast.official.email, "jean.dupont@caue.example.fr"]
    )
    assert recipients("resolved_locally", Channel.IN_APP) == emails(cast.official)


def test_escalated_goes_to_national_staff(cast):
    second = NationalStaffFactory()
    cast.request_in(S.ESCALATED)
    assert recipients("escalated") == emails(cast.national, second)


def test_national_approval_goes_to_delegate_and_official(cast):
    cast.request_in(S.NATIONAL_SUPPORT)
    assert recipients("national_approved") == emails(cast.delegate, cast.official)


def test_referred_back_goes_to_the_delegate(cast):
    request = cast.request_in(S.ESCALATED)
    services.refer_back(engineering_request=request, user=cast.national, reason="Voir le CAUE.")
    assert recipients("referred_back") == emails(cast.delegate)


def test_declined_goes_to_the_official(cast):
    cast.request_in(S.DECLINED)
    assert recipients("declined") == emails(cast.official)


def test_completed_goes_to_the_official_and_the_delegate(cast):
    cast.request_in(S.COMPLETED)
    assert recipients("completed") == emails(cast.official, cast.delegate)


def test_a_failed_action_records_no_notification(cast):
    request = cast.request_in(S.IN_REVIEW)
    count = Notification.objects.count()
    with pytest.raises(ValidationError):
        services.escalate_request(engineering_request=request, user=cast.delegate)
    assert Notification.objects.count() == count


def test_framework_agreement_summary_names_the_operator(cast):
    request = cast.request_in(S.ESCALATED)
    services.approve_national_support(
        engineering_request=request,
        user=cast.national,
        instrument="framework_agreement",
        operator=OperatorFactory(code="ademe", name="ADEME"),
    )
    context = Notification.objects.filter(event="national_approved").first().context
    assert "ADEME" in context["body"]


def test_an_event_with_two_audiences_is_one_insert_and_one_message(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    from notifications import tasks

    published = []
    monkeypatch.setattr(
        tasks.deliver_notifications, "apply_async", lambda args, **kw: published.append(args[0])
    )
    request = cast.request_in(S.ESCALATED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        cast.approve(request)
    rows = Notification.objects.filter(event="national_approved").order_by("pk")
    assert sorted({(row.audience, row.email) for row in rows}) == [
        ("delegate", cast.delegate.email),
        ("official", cast.official.email),
    ]
    assert len(callbacks) == 1
    assert published == [[row.pk for row in rows]]
