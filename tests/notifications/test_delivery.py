"""Delivery of one outbox row: the e-mail people receive, idempotence, retries, failure,
re-sending, and the sweep — run in-process (Celery eager) against real mail backends."""

import datetime
import logging

import pytest
from django.utils import timezone

from engineering_requests.enums import RequestState as S
from notifications import outbox, services
from notifications.enums import Channel, NotificationStatus
from notifications.models import Notification
from notifications.tasks import deliver_notification
from tests.notifications.conftest import SMTPServer, broker, free_port
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_the_email_is_french_text_and_html_with_an_absolute_link(settings, cast, mailoutbox):
    settings.SITE_URL = "https://ingenierie.anct.gouv.fr"
    request = cast.request_in(S.SUBMITTED)
    row = Notification.objects.get(event="submitted", channel=Channel.EMAIL)

    services.deliver(notification_id=row.pk)

    [message] = mailoutbox
    assert message.to == [cast.delegate.email]
    assert message.subject == f"Nouvelle demande d'appui en ingénierie : {request.reference}"
    link = f"https://ingenierie.anct.gouv.fr/admin/engineering_requests/engineeringrequest/{request.pk}/change/"
    assert "Bonjour," in message.body
    assert f"a déposé la demande « {request.title} »" in message.body
    assert f"Voir la demande : {link}" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert 'lang="fr"' in html and "République" in html and "Ingénierie territoriale" in html
    assert f'<a href="{link}"' in html
    assert message.extra_headers["Message-ID"] == f"<notification-{row.pk}@anct.gouv.fr>"


def test_officials_get_a_link_to_the_portal_page(settings, cast, mailoutbox):
    settings.SITE_URL = "https://ingenierie.anct.gouv.fr"
    request = cast.request_in(S.DECLINED)
    row = Notification.objects.get(event="declined", channel=Channel.EMAIL)
    services.deliver(notification_id=row.pk)
    [message] = mailoutbox
    assert message.to == [cast.official.email]
    assert f"https://ingenierie.anct.gouv.fr/demandes/{request.pk}/" in message.body
    assert "Hors du champ." in message.body


def test_html_in_user_text_is_escaped(cast, mailoutbox):
    request = cast.request_in(S.IN_REVIEW)
    from engineering_requests import services as workflow

    workflow.decline_request(
        engineering_request=request, user=cast.delegate, reason="<script>alert(1)</script>"
    )
    row = Notification.objects.get(event="declined", channel=Channel.EMAIL)
    services.deliver(notification_id=row.pk)
    html = mailoutbox[0].alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_delivering_twice_sends_once(mailoutbox):
    row = NotificationFactory()
    services.deliver(notification_id=row.pk)
    services.deliver(notification_id=row.pk)
    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT and row.attempts == 1 and row.sent_at


def test_in_app_rows_are_marked_sent_without_email(mailoutbox):
    row = NotificationFactory(in_app=True)
    services.deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert mailoutbox == []


@pytest.mark.parametrize("trait", ["sent", "failed"])
def test_rows_no_longer_pending_are_left_alone(mailoutbox, trait):
    row = NotificationFactory(**{trait: True})
    services.deliver(notification_id=row.pk)
    assert mailoutbox == []
    assert Notification.objects.get(pk=row.pk).attempts == row.attempts


def test_mail_server_down_retries_with_back_off_then_fails(settings, eager_celery, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.NOTIFICATIONS_MAX_RETRIES = 3
    row = NotificationFactory()

    with caplog.at_level(logging.WARNING, logger="notifications.services"):
        deliver_notification.apply(args=[row.pk])

    row.refresh_from_db()
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == 4
    assert "ConnectionRefusedError" in row.last_error
    assert row.retry_at is None
    assert "failed after 4 attempt(s)" in caplog.text


def test_a_permanent_refusal_fails_at_once(settings, eager_celery):
    class Refusing(SMTPServer):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 Mailbox unavailable"

    server = Refusing().start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        row = NotificationFactory()
        deliver_notification.apply(args=[row.pk])
    finally:
        server.stop()
    row.refresh_from_db()
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == 1
    assert "Mailbox unavailable" in row.last_error


def test_the_mail_server_answering_again_during_the_retries_delivers(
    settings, smtp_settings, smtp_server
):
    stopped_port = free_port()
    settings.EMAIL_PORT = stopped_port
    row = NotificationFactory()
    with pytest.raises(services.TransientDeliveryError):
        services.deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
    assert "Connection refused" in row.last_error

    settings.EMAIL_PORT = smtp_server.port
    services.deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (NotificationStatus.SENT, 2, "")
    assert len(smtp_server.wait_for(1)) == 1


def test_back_off_doubles_is_capped_and_jittered(settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS = 30
    settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS = 1800
    for retries, full in [(0, 30), (1, 60), (3, 240), (6, 1800), (12, 1800)]:
        delays = {services.retry_countdown(retries) for _ in range(20)}
        assert all(full / 2 <= d <= full for d in delays), (retries, delays)
        assert len(delays) > 1  # jitter


def test_resend_puts_failed_rows_back_and_delivers_them_once(
    eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    failed = NotificationFactory(failed=True)
    sent = NotificationFactory(sent=True)
    with django_capture_on_commit_callbacks(execute=True):
        count = services.resend(notification_ids=[failed.pk, sent.pk], user=None)
    assert count == 1
    assert [m.to for m in mailoutbox] == [[failed.email]]
    failed.refresh_from_db()
    assert failed.status == NotificationStatus.SENT and failed.last_error == ""
    assert failed.attempts == 4


def test_the_sweep_requeues_only_rows_left_pending(
    settings, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS = 300
    now = timezone.now()
    old = now - datetime.timedelta(minutes=10)
    lost = NotificationFactory(created_at=old)
    recent = NotificationFactory()  # its task may still be on its way
    retrying = NotificationFactory(
        created_at=old, attempts=2, retry_at=now + datetime.timedelta(minutes=3)
    )
    NotificationFactory(created_at=old, sent=True)
    NotificationFactory(created_at=old, failed=True)

    assert services.sweep() == 1

    assert [m.to for m in mailoutbox] == [[lost.email]]
    for row in (recent, retrying):
        row.refresh_from_db()
        assert row.status == NotificationStatus.PENDING


def test_the_sweep_leaves_a_requeued_row_alone_for_a_period(settings):
    settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS = 300
    row = NotificationFactory(created_at=timezone.now() - datetime.timedelta(minutes=10))
    with broker(f"redis://127.0.0.1:{free_port()}/0"):  # the broker is still down
        assert services.sweep() == 0  # handed to nobody, but noted
        row.refresh_from_db()
        assert row.retry_at is not None
        assert services.sweep() == 0


def test_a_broker_outage_leaves_rows_pending_without_failing_the_caller(cast, caplog):
    with broker(f"redis://127.0.0.1:{free_port()}/0"):
        rows = outbox.record(
            event="submitted",
            audience="delegates",
            recipients=[outbox.Recipient(email=cast.delegate.email, user=cast.delegate)],
            occurrence="outage",
        )
        with caplog.at_level(logging.WARNING, logger="notifications.outbox"):
            assert outbox.enqueue([row.pk for row in rows]) == 0
    assert "left pending for the sweep" in caplog.text
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}


def test_the_smtp_connection_is_kept_and_reopened_when_the_server_dropped_it(smtp_settings):
    first = SMTPServer().start()
    smtp_settings.EMAIL_PORT = first.port
    rows = NotificationFactory.create_batch(3)
    services.deliver(notification_id=rows[0].pk)
    services.deliver(notification_id=rows[1].pk)
    first.stop()  # drops the open connection
    second = SMTPServer(port=first.port).start()
    try:
        services.deliver(notification_id=rows[2].pk)
    finally:
        second.stop()
    assert len(first.messages) == 2 and len(second.messages) == 1
    sessions = {session for session, _ in first.sessions}
    assert len(sessions) == 1  # both messages on one connection
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


# One message per event -------------------------------------------------------------------------


def test_the_rows_of_one_event_go_in_one_message(cast, monkeypatch):
    from notifications import tasks

    published = []
    monkeypatch.setattr(
        tasks.deliver_notifications,
        "apply_async",
        lambda args, **options: published.append(args[0]),
    )
    monkeypatch.setattr(outbox, "ENQUEUE_BATCH", 3)
    users = [cast.delegate, cast.other_delegate]
    rows = outbox.record(
        event="submitted",
        audience="delegates",
        recipients=[outbox.Recipient(email=u.email, user=u) for u in users],
        occurrence="one-message",
    )
    assert outbox.enqueue([row.pk for row in rows]) == 4
    ids = [row.pk for row in rows]
    assert published == [ids[:3], ids[3:]]  # batches of ENQUEUE_BATCH rows


def test_recording_returns_only_the_new_rows_with_their_ids(cast):
    def record(users, occurrence="again"):
        return outbox.record(
            event="submitted",
            audience="delegates",
            recipients=[outbox.Recipient(email=u.email, user=u) for u in users],
            occurrence=occurrence,
        )

    first = record([cast.delegate])
    assert len(first) == 2 and all(row.pk for row in first)
    assert {row.pk for row in first} == set(Notification.objects.values_list("pk", flat=True))
    assert record([cast.delegate]) == []  # the same event again: nothing new
    both = record([cast.delegate, cast.other_delegate])
    assert [(row.email, row.channel) for row in both] == [
        (cast.other_delegate.email, Channel.EMAIL),
        (cast.other_delegate.email, Channel.IN_APP),
    ]
    assert [row.pk for row in both] == sorted(row.pk for row in both)
    stored = Notification.objects.get(pk=both[0].pk)
    assert stored.context == both[0].context and stored.recipient == cast.other_delegate
    assert Notification.objects.count() == 4


def test_one_message_delivers_every_row_of_the_event(eager_celery, mailoutbox, cast):
    from notifications.tasks import deliver_notifications

    rows = [NotificationFactory(), NotificationFactory(), NotificationFactory(in_app=True)]
    deliver_notifications.apply(args=[[row.pk for row in rows]])
    assert len(mailoutbox) == 2
    for row in rows:
        row.refresh_from_db()
        assert row.status == NotificationStatus.SENT and row.attempts == 1


def test_a_row_failing_in_the_batch_goes_on_alone_with_its_back_off(
    settings, eager_celery, mailoutbox, monkeypatch
):
    from notifications import tasks

    settings.NOTIFICATIONS_MAX_RETRIES = 3
    rows = NotificationFactory.create_batch(3)
    failing = rows[1]
    real_send = services.emails.send

    def send(notification):
        if notification.pk == failing.pk:
            raise ConnectionRefusedError(111, "Connection refused")
        return real_send(notification)

    monkeypatch.setattr(services.emails, "send", send)
    retried = []
    monkeypatch.setattr(
        tasks.deliver_notification,
        "apply_async",
        lambda args, **options: retried.append((args, options)),
    )

    tasks.deliver_notifications.apply(args=[[row.pk for row in rows]])

    assert len(mailoutbox) == 2  # the others are delivered
    [(args, options)] = retried
    assert args == [failing.pk] and options["retries"] == 1
    full = settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS
    assert full / 2 <= options["countdown"] <= full  # the first retry's back-off
    failing.refresh_from_db()
    assert failing.status == NotificationStatus.PENDING and failing.attempts == 1
    assert failing.retry_at is not None  # the sweep leaves it to its retry


def test_a_row_failing_in_the_batch_ends_failed_after_the_same_retries(
    settings, eager_celery, caplog
):
    from notifications.tasks import deliver_notifications

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.NOTIFICATIONS_MAX_RETRIES = 3
    row = NotificationFactory()
    with caplog.at_level(logging.WARNING, logger="notifications.services"):
        deliver_notifications.apply(args=[[row.pk]])
    row.refresh_from_db()
    assert row.status == NotificationStatus.FAILED and row.attempts == 4  # as one row alone
    assert "failed after 4 attempt(s)" in caplog.text


def test_an_unexpected_error_on_one_row_leaves_it_pending_and_delivers_the_others(
    eager_celery, mailoutbox, monkeypatch, caplog
):
    from notifications.tasks import deliver_notifications

    rows = NotificationFactory.create_batch(2)
    real_deliver = services.deliver

    def deliver(*, notification_id, final_attempt=False):
        if notification_id == rows[0].pk:
            raise RuntimeError("database gone")
        return real_deliver(notification_id=notification_id, final_attempt=final_attempt)

    monkeypatch.setattr(services, "deliver", deliver)
    with caplog.at_level(logging.ERROR, logger="notifications.tasks"):
        deliver_notifications.apply(args=[[row.pk for row in rows]])
    assert [m.to for m in mailoutbox] == [[rows[1].email]]
    rows[0].refresh_from_db()
    assert rows[0].status == NotificationStatus.PENDING  # for the sweep
    assert f"notification {rows[0].pk}: left pending for the sweep" in caplog.text
