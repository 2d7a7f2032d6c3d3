"""Reminders and weekly digests (Celery beat): who gets them, once per period, opt-out of
digests only, and a constant number of queries whatever the number of requests."""

import datetime

import pytest
from django.utils import timezone

from engineering_requests import services as workflow
from engineering_requests.enums import RequestState as S
from notifications import periodic, services
from notifications.enums import Channel, PeriodicEvent
from notifications.models import Notification
from tests.accounts.factories import DelegateFactory, NationalStaffFactory
from tests.engineering_requests.factories import EngineeringRequestFactory
from tests.notifications.factories import NotificationPreferenceFactory
from tests.territories.factories import CollectivityFactory, DepartementFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.REMINDER_DELEGATE_AFTER_DAYS = 7
    settings.REMINDER_NATIONAL_AFTER_DAYS = 14


def later(days):
    return timezone.now() + days * DAY


def reminded(event, channel=Channel.EMAIL):
    return sorted(
        Notification.objects.filter(event=event, channel=channel).values_list("email", flat=True)
    )


def test_a_request_left_submitted_reminds_the_delegates_of_its_departement(cast):
    second = DelegateFactory(departements=[cast.collectivity.departement])
    request = cast.request_in(S.SUBMITTED)
    Notification.objects.all().delete()

    assert periodic.send_reminders(now=later(6))["delegates"] == 0
    periodic.send_reminders(now=later(7.1))

    expected = sorted([cast.delegate.email, second.email])
    assert reminded(PeriodicEvent.REMINDER_DELEGATE) == expected
    assert reminded(PeriodicEvent.REMINDER_DELEGATE, Channel.IN_APP) == expected
    row = Notification.objects.filter(event=PeriodicEvent.REMINDER_DELEGATE).first()
    assert row.engineering_request == request
    assert row.context["subject"] == (
        f"Rappel : la demande {request.reference} attend votre action depuis 7 jours"
    )
    assert row.context["url"].startswith("/admin/")


def test_a_request_is_reminded_once_per_period(cast):
    cast.request_in(S.SUBMITTED)
    periodic.send_reminders(now=later(8))
    assert periodic.send_reminders(now=later(8))["delegates"] == 0
    assert periodic.send_reminders(now=later(13))["delegates"] == 0  # same 7-day period
    assert periodic.send_reminders(now=later(14.5))["delegates"] == 2  # next period: again
    assert Notification.objects.filter(event=PeriodicEvent.REMINDER_DELEGATE).count() == 4


def test_an_answer_left_unread_reminds_the_delegate_in_charge(cast):
    DelegateFactory(departements=[cast.collectivity.departement])  # not in charge
    request = cast.request_in(S.INFO_REQUESTED)
    assert periodic.send_reminders(now=later(30))["delegates"] == 0  # the official's turn
    workflow.provide_info(engineering_request=request, user=cast.official, message="Voici.")

    periodic.send_reminders(now=later(8))

    assert reminded(PeriodicEvent.REMINDER_DELEGATE) == [cast.delegate.email]
    row = Notification.objects.get(event=PeriodicEvent.REMINDER_DELEGATE, channel=Channel.EMAIL)
    assert "a apporté le complément demandé" in row.context["body"]


def test_no_reminder_once_the_delegate_acted_after_the_answer(cast):
    request = cast.request_in(S.INFO_REQUESTED)
    request = workflow.provide_info(engineering_request=request, user=cast.official, message="OK")
    workflow.post_message(engineering_request=request, user=cast.delegate, body="Merci, je lis.")
    assert periodic.send_reminders(now=later(8))["delegates"] == 0


def test_no_reminder_for_a_request_in_review_the_delegate_took_himself(cast):
    cast.request_in(S.IN_REVIEW)
    assert periodic.send_reminders(now=later(30))["delegates"] == 0


def test_an_old_escalation_reminds_national_staff(cast):
    second = NationalStaffFactory()
    request = cast.request_in(S.ESCALATED)
    assert periodic.send_reminders(now=later(13))["national_staff"] == 0

    periodic.send_reminders(now=later(15))

    assert reminded(PeriodicEvent.REMINDER_NATIONAL) == sorted([cast.national.email, second.email])
    row = Notification.objects.filter(event=PeriodicEvent.REMINDER_NATIONAL).first()
    assert row.engineering_request == request
    assert periodic.send_reminders(now=later(16))["national_staff"] == 0


def test_reminders_take_a_constant_number_of_queries(django_assert_max_num_queries):
    departements = [DepartementFactory() for _ in range(3)]
    for departement in departements:
        DelegateFactory(departements=[departement])
        collectivity = CollectivityFactory(commune__departement=departement)
        EngineeringRequestFactory.create_batch(
            15, collectivity=collectivity, submitted=True, submitted_at=later(-20)
        )
        EngineeringRequestFactory.create_batch(
            5,
            collectivity=collectivity,
            submitted=True,
            state=S.ESCALATED,
            submitted_at=later(-40),
            escalated_at=later(-20),
        )
    NationalStaffFactory.create_batch(2)

    with django_assert_max_num_queries(16):
        result = periodic.send_reminders()

    assert result == {"delegates": 45 * 2, "national_staff": 15 * 2 * 2}


# Digests ---------------------------------------------------------------------------------------


@pytest.fixture
def backlog(cast):
    """Département A: 3 submitted (2 old), 1 in review, 1 info requested, 2 escalated."""
    collectivity = cast.collectivity
    EngineeringRequestFactory.create_batch(
        2, collectivity=collectivity, submitted=True, submitted_at=later(-10)
    )
    EngineeringRequestFactory(collectivity=collectivity, submitted=True)
    for state in (S.IN_REVIEW, S.INFO_REQUESTED, S.ESCALATED, S.ESCALATED):
        EngineeringRequestFactory(
            collectivity=collectivity,
            submitted=True,
            state=state,
            escalated_at=later(-20) if state == S.ESCALATED else None,
        )
    return cast


def digest(user):
    return Notification.objects.get(event__startswith="digest_", recipient=user)


def test_each_delegate_gets_a_weekly_digest_of_the_backlog_of_their_departements(backlog):
    other = DepartementFactory()
    EngineeringRequestFactory(
        collectivity=CollectivityFactory(commune__departement=other), submitted=True
    )
    both = DelegateFactory(departements=[backlog.collectivity.departement, other])
    idle = DelegateFactory()  # nothing in their département: no e-mail

    periodic.send_digests()

    row = digest(backlog.delegate)
    assert row.channel == Channel.EMAIL and row.event == PeriodicEvent.DIGEST_DELEGATE
    counts = {c["label"]: c["value"] for c in row.context["counts"]}
    assert counts["Déposées, à prendre en charge"] == 3
    assert counts["dont en attente depuis plus de 7 jours"] == 2
    assert counts["En instruction"] == 1
    assert counts["Complément demandé à la collectivité"] == 1
    assert counts["Transmises à l'ANCT"] == 2
    assert len(row.context["items"]) == 4  # submitted or in review, oldest first
    assert row.context["subject"] == "Votre récapitulatif hebdomadaire : 4 demande(s) à traiter"
    assert {c["label"]: c["value"] for c in digest(both).context["counts"]}[
        "Déposées, à prendre en charge"
    ] == 4
    assert not Notification.objects.filter(recipient=idle).exists()


def test_national_staff_get_the_national_queue(backlog):
    periodic.send_digests()
    row = digest(backlog.national)
    assert row.event == PeriodicEvent.DIGEST_NATIONAL
    counts = {c["label"]: c["value"] for c in row.context["counts"]}
    assert counts["Transmises à l'ANCT, en attente de décision"] == 2
    assert counts["dont en attente depuis plus de 14 jours"] == 2
    assert len(row.context["items"]) == 2


def test_digests_are_sent_once_a_week(backlog):
    periodic.send_digests()
    assert periodic.send_digests() == {"delegates": 0, "national_staff": 0}
    assert periodic.send_digests(now=later(7)) == {"delegates": 1, "national_staff": 1}


def test_users_who_opted_out_get_no_digest_but_still_their_reminders(backlog):
    NotificationPreferenceFactory(user=backlog.delegate, no_digests=True)
    NotificationPreferenceFactory(user=backlog.national, no_digests=True)
    assert periodic.send_digests() == {"delegates": 0, "national_staff": 0}
    assert periodic.send_reminders(now=later(1))["delegates"] > 0


def test_opting_back_in_restores_the_digest(backlog):
    services.set_preferences(user=backlog.delegate, receive_digests=False)
    services.set_preferences(user=backlog.delegate, receive_digests=True)
    assert periodic.send_digests()["delegates"] == 1


def test_the_digest_email_lists_the_requests_and_the_opt_out_link(backlog, mailoutbox, settings):
    settings.SITE_URL = "https://ingenierie.anct.gouv.fr"
    periodic.send_digests()
    services.deliver(notification_id=digest(backlog.delegate).pk)
    [message] = mailoutbox
    assert "Déposées, à prendre en charge : 3" in message.body
    assert "https://ingenierie.anct.gouv.fr/notifications/preferences/" in message.body
    html = message.alternatives[0][0]
    assert "Ne plus recevoir ce récapitulatif hebdomadaire" in html
    assert "Réhabilitation du pont communal" in html


def test_digests_take_a_constant_number_of_queries(django_assert_max_num_queries):
    for _ in range(6):
        departement = DepartementFactory()
        DelegateFactory.create_batch(2, departements=[departement])
        EngineeringRequestFactory.create_batch(
            12,
            collectivity=CollectivityFactory(commune__departement=departement),
            submitted=True,
        )
    NationalStaffFactory.create_batch(3)
    EngineeringRequestFactory.create_batch(
        4, submitted=True, state=S.ESCALATED, escalated_at=later(-1)
    )

    with django_assert_max_num_queries(16):
        result = periodic.send_digests()

    assert result == {"delegates": 12, "national_staff": 3}
