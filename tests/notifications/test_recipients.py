"""DESIGN §4, per channel: for each workflow event, exactly the right people get exactly one
e-mail and one in-app notification — nobody else, nothing twice."""

import pytest

from engineering_requests import services
from engineering_requests.enums import RequestState as S
from notifications.enums import Channel
from notifications.models import Notification
from tests.accounts.factories import DelegateFactory, NationalStaffFactory, OfficialFactory

pytestmark = pytest.mark.django_db


def received(event):
    """{channel: sorted e-mail addresses}, duplicates kept so that a double shows."""
    rows = Notification.objects.filter(event=event).values_list("channel", "email")
    result = {Channel.EMAIL: [], Channel.IN_APP: []}
    for channel, email in rows:
        result[channel].append(email)
    return {channel: sorted(emails) for channel, emails in result.items()}


def both_channels(*users):
    emails = sorted(user.email for user in users)
    return {Channel.EMAIL: emails, Channel.IN_APP: emails}


@pytest.fixture
def crowd(cast):
    """People who must never be told of another département's request, or of one they have
    nothing to do with."""
    DelegateFactory()  # a delegate of another département
    OfficialFactory()  # an official of another collectivité
    return cast


def test_submitted_goes_to_the_delegates_of_the_departement(crowd):
    second = DelegateFactory(departements=[crowd.collectivity.departement])
    crowd.request_in(S.SUBMITTED)
    assert received("submitted") == both_channels(crowd.delegate, second)


def test_info_requested_goes_to_every_official_of_the_collectivite(crowd):
    crowd.request_in(S.INFO_REQUESTED)
    assert received("info_requested") == both_channels(crowd.official, crowd.colleague)


def test_info_provided_goes_to_the_assigned_delegate_only(crowd):
    DelegateFactory(departements=[crowd.collectivity.departement])  # not in charge
    request = crowd.request_in(S.INFO_REQUESTED)
    services.provide_info(engineering_request=request, user=crowd.colleague, message="Voici.")
    assert received("info_provided") == both_channels(crowd.delegate)


def test_resolved_locally_goes_to_the_official_and_the_interlocuteur_unique(crowd):
    crowd.request_in(S.LOCAL_SUPPORT)
    assert received("resolved_locally") == both_channels(crowd.official, crowd.contact)


def test_escalated_goes_to_every_national_staff_member(crowd):
    second = NationalStaffFactory()
    crowd.request_in(S.ESCALATED)
    assert received("escalated") == both_channels(crowd.national, second)


def test_national_approval_goes_to_the_delegate_and_the_official(crowd):
    crowd.request_in(S.NATIONAL_SUPPORT)
    assert received("national_approved") == both_channels(crowd.delegate, crowd.official)


def test_referred_back_goes_to_the_delegate_only(crowd):
    request = crowd.request_in(S.ESCALATED)
    services.refer_back(engineering_request=request, user=crowd.national, reason="Voir le CAUE.")
    assert received("referred_back") == both_channels(crowd.delegate)


def test_declined_goes_to_the_official_only(crowd):
    crowd.request_in(S.DECLINED)
    assert received("declined") == both_channels(crowd.official)


def test_local_completion_goes_to_the_official_and_the_delegate(crowd):
    crowd.request_in(S.COMPLETED)
    assert received("completed") == both_channels(crowd.official, crowd.delegate)


def test_national_completion_goes_to_the_official_and_the_delegate(crowd):
    request = crowd.request_in(S.NATIONAL_SUPPORT)
    services.complete_request(engineering_request=request, user=crowd.national, outcome="Fait.")
    assert received("completed") == both_channels(crowd.official, crowd.delegate)


def test_withdrawal_of_a_submitted_request_tells_the_delegates_who_were_told_of_it(crowd):
    request = crowd.request_in(S.SUBMITTED)
    services.withdraw_request(engineering_request=request, user=crowd.official)
    assert received("withdrawn") == both_channels(crowd.delegate)


def test_withdrawing_a_draft_tells_nobody(crowd):
    crowd.request_in(S.WITHDRAWN)
    assert not Notification.objects.exists()


def test_a_message_tells_the_other_side_only(crowd):
    request = crowd.request_in(S.IN_REVIEW)
    services.post_message(engineering_request=request, user=crowd.official, body="Bonjour")
    assert received("message_posted") == both_channels(crowd.delegate)
    services.post_message(engineering_request=request, user=crowd.delegate, body="Bien reçu")
    assert received("message_posted") == both_channels(
        crowd.delegate, crowd.official, crowd.colleague
    )
    services.post_message(
        engineering_request=request, user=crowd.delegate, body="Note", internal=True
    )
    assert Notification.objects.filter(event="message_posted").count() == 6


def test_an_inactive_account_is_not_told(crowd):
    crowd.colleague.is_active = False
    crowd.colleague.save()
    crowd.request_in(S.INFO_REQUESTED)
    assert received("info_requested") == both_channels(crowd.official)


def test_recording_the_same_occurrence_twice_keeps_one_row_per_recipient_and_channel(crowd):
    from engineering_requests.notifications import notify

    request = crowd.request_in(S.SUBMITTED)
    notify("submitted", request, occurrence="replay")
    notify("submitted", request, occurrence="replay")
    assert Notification.objects.filter(dedup_key__contains=":replay:").count() == 2
