"""End to end on the real services: a Celery worker consuming from Redis delivers the outbox to
an SMTP server; nothing is lost when the broker or the mail server is down, nothing is sent
twice when they come back."""

import logging
import time

import pytest
from django.urls import reverse

from engineering_requests import services
from engineering_requests.enums import RequestState as S
from notifications.enums import Channel, NotificationStatus
from notifications.models import Notification
from notifications.tasks import deliver_notification, sweep_pending
from tests.accounts.factories import UserFactory
from tests.engineering_requests.factories import Cast
from tests.notifications.conftest import (
    SMTPServer,
    broker,
    free_port,
    purge_queue,
    running_worker,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def settled(notification_id, timeout=30.0):
    """Wait until the row has left ``pending``; return it."""
    return wait_until(
        lambda: (
            Notification.objects.exclude(status=NotificationStatus.PENDING)
            .filter(pk=notification_id)
            .first()
        ),
        timeout,
    ) or Notification.objects.get(pk=notification_id)


def email_row(event="submitted"):
    return Notification.objects.get(event=event, channel=Channel.EMAIL)


def test_submitting_delivers_an_email_to_the_delegate(smtp_settings, smtp_server, celery_worker):
    cast = Cast.create()
    draft = cast.draft()
    request = services.submit_request(engineering_request=draft, user=cast.official)

    [message] = smtp_server.wait_for(1)
    assert message["To"] == cast.delegate.email
    # (Django folds encoded subjects onto a continuation line; clients drop the fold.)
    assert message["Subject"].strip() == (
        f"Nouvelle demande d'appui en ingénierie : {request.reference}"
    )
    link = "http://127.0.0.1:8000" + reverse(
        "admin:engineering_requests_engineeringrequest_change", args=[request.pk]
    )
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert link in text
    assert f'href="{link}"' in html
    assert "République" in html and request.title in html

    row = settled(email_row().pk)
    assert row.status == NotificationStatus.SENT and row.attempts == 1
    in_app = settled(Notification.objects.get(event="submitted", channel=Channel.IN_APP).pk)
    assert in_app.status == NotificationStatus.SENT
    time.sleep(0.5)
    assert len(smtp_server.messages) == 1


def test_a_task_run_twice_sends_once(smtp_settings, smtp_server, celery_worker):
    cast = Cast.create()
    services.submit_request(engineering_request=cast.draft(), user=cast.official)
    smtp_server.wait_for(1)
    row = settled(email_row().pk)
    deliver_notification.delay(row.pk)
    deliver_notification.delay(row.pk)
    time.sleep(1.5)
    assert len(smtp_server.messages) == 1
    row.refresh_from_db()
    assert row.attempts == 1


def test_broker_down_then_back_the_sweep_delivers_exactly_once(
    settings, smtp_settings, smtp_server, own_redis, transactional_db, caplog
):
    settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS = 0
    cast = Cast.create()
    draft = cast.draft()
    own_redis.start()
    with broker(own_redis.url):
        own_redis.stop()  # the broker goes down

        with caplog.at_level(logging.WARNING, logger="notifications.outbox"):
            request = services.submit_request(engineering_request=draft, user=cast.official)

        assert "Broker unavailable, 2 notification(s) left pending" in caplog.text
        assert request.state == S.SUBMITTED
        rows = Notification.objects.filter(event="submitted")
        assert rows.count() == 2
        assert set(rows.values_list("status", flat=True)) == {NotificationStatus.PENDING}

        own_redis.start()  # the broker is back: beat's sweep re-queues, the worker delivers
        with running_worker():
            sweep_pending.delay()
            [message] = smtp_server.wait_for(1)
            assert message["To"] == cast.delegate.email
            assert settled(email_row().pk).status == NotificationStatus.SENT
            # The sweep again, and the original task arriving late: still one e-mail.
            sweep_pending.delay()
            deliver_notification.delay(email_row().pk)
            time.sleep(1.5)
        assert len(smtp_server.messages) == 1
        assert set(rows.values_list("status", flat=True)) == {NotificationStatus.SENT}


def test_smtp_down_retries_then_fails_and_a_resend_from_the_admin_delivers_once(
    settings, client, celery_worker
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there: the mail server is down
    settings.EMAIL_TIMEOUT = 2
    settings.NOTIFICATIONS_MAX_RETRIES = 2
    settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS = 1
    cast = Cast.create()

    services.submit_request(engineering_request=cast.draft(), user=cast.official)

    row = settled(email_row().pk, timeout=60)
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == 3  # the first try and two retries
    assert "Connection refused" in row.last_error

    server = SMTPServer(port=settings.EMAIL_PORT).start()  # the mail server is back
    try:
        admin = UserFactory(is_staff=True, is_superuser=True)
        client.force_login(admin)
        response = client.post(
            reverse("admin:notifications_notification_changelist"),
            {"action": "resend", "_selected_action": [row.pk]},
            follow=True,
        )
        assert "1 notification remise en file d’envoi." in [
            str(m).replace("'", "’") for m in response.context["messages"]
        ]
        [message] = server.wait_for(1)
        assert message["To"] == cast.delegate.email
        row = settled(row.pk)
        assert row.status == NotificationStatus.SENT
        assert row.last_error == ""
        # Re-sending a sent row does nothing.
        client.post(
            reverse("admin:notifications_notification_changelist"),
            {"action": "resend", "_selected_action": [row.pk]},
        )
        time.sleep(1.5)
        assert len(server.messages) == 1
    finally:
        server.stop()
        purge_queue()
