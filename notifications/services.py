"""Writes on the outbox: delivery, re-sending, the sweep, read marks, preferences.

Delivery is idempotent. ``deliver`` locks the row (``SELECT … FOR UPDATE``), does nothing
unless it is still ``pending``, sends, then marks it ``sent`` in the same transaction: a task
run twice, retried, or re-queued by the sweep while the first one runs never sends twice.

The one window left is "sent but the commit failed": the SMTP server accepted the message,
then the worker died or lost the database before the commit. The row is still pending, so the
retry or the sweep sends it again: delivery is at-least-once in that window (never at-most-once,
which could lose a notification). The copy carries the same Message-ID
(``<notification-PK@domain>``), which mail clients use to show duplicates once. Closing the
window entirely would need the mail server to take part in the transaction.
"""

import datetime
import logging
import random
import smtplib
import socket
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications import emails
from notifications.enums import Channel, NotificationStatus
from notifications.models import Notification, NotificationPreference
from notifications.outbox import enqueue

logger = logging.getLogger(__name__)

# Worth retrying: the mail server or the network is down, busy or slow. Anything else (a
# permanent SMTP refusal, a bug) marks the row failed at once, for an operator to look at.
TRANSIENT_ERRORS = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    socket.timeout,
    ConnectionError,
    OSError,
)


class TransientDeliveryError(Exception):
    """Delivery failed for a reason that may go away; the row is still pending."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPResponseException):
        # 4xx: "try again later"; 5xx: the server refuses for good.
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    return isinstance(exc, TRANSIENT_ERRORS)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


@dataclass
class Outcome:
    notification: Notification | None
    error: BaseException | None = None


def deliver(*, notification_id: int, final_attempt: bool = False) -> Notification | None:
    """Deliver one outbox row if it is still pending.

    On a transient error the attempt and the error are recorded (committed) and
    ``TransientDeliveryError`` is raised for the caller to retry; when ``final_attempt`` is
    true the row is marked ``failed`` instead. Other errors mark it ``failed`` at once.
    """
    outcome = _attempt(notification_id, final_attempt=final_attempt)
    if outcome.error is not None:
        raise TransientDeliveryError(_describe(outcome.error)) from outcome.error
    return outcome.notification


@transaction.atomic
def _attempt(notification_id: int, *, final_attempt: bool) -> Outcome:
    # skip_locked: another worker holds the row and is sending it right now; it will either
    # mark it sent or schedule its own retry, so there is nothing for us to do.
    notification = (
        Notification.objects.select_for_update(skip_locked=True).filter(pk=notification_id).first()
    )
    if notification is None or notification.status != NotificationStatus.PENDING:
        return Outcome(notification)
    notification.attempts += 1
    try:
        if notification.channel == Channel.EMAIL:
            emails.send(notification)
        # In-app rows are shown from the database; delivering them is marking them sent.
    except Exception as exc:
        notification.last_error = _describe(exc)
        transient = is_transient(exc)
        if transient and not final_attempt:
            notification.save(update_fields=["attempts", "last_error"])
            logger.warning("notification %s: attempt %s failed: %s", notification.pk,
                           notification.attempts, notification.last_error)  # fmt: skip
            return Outcome(notification, exc)
        notification.status = NotificationStatus.FAILED
        notification.retry_at = None
        notification.save(update_fields=["attempts", "last_error", "status", "retry_at"])
        log = logger.error if transient else logger.exception
        log("notification %s failed after %s attempt(s)", notification.pk, notification.attempts)
        return Outcome(notification)
    notification.status = NotificationStatus.SENT
    notification.sent_at = timezone.now()
    notification.retry_at = None
    notification.last_error = ""
    notification.save(update_fields=["status", "sent_at", "attempts", "last_error", "retry_at"])
    return Outcome(notification)


def retry_countdown(retries: int) -> float:
    """Exponential back-off with jitter: base × 2^retries, capped, then between half and all of
    it, so that a burst of failures does not retry in lock-step."""
    base = settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS
    delay = min(settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS, base * (2**retries))
    return delay / 2 + random.uniform(0, delay / 2)


def schedule_retry(*, notification_id: int, countdown: float) -> None:
    """Note when the retry is due, so the sweep does not re-queue the row meanwhile."""
    Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).update(
        retry_at=timezone.now() + datetime.timedelta(seconds=countdown)
    )


@transaction.atomic
def resend(*, notification_ids, user) -> int:
    """Put failed rows back to pending and deliver them again (admin action). Only failed rows:
    re-sending a sent one would notify twice."""
    rows = list(
        Notification.objects.select_for_update()
        .filter(pk__in=list(notification_ids), status=NotificationStatus.FAILED)
        .values_list("pk", flat=True)
    )
    if not rows:
        return 0
    Notification.objects.filter(pk__in=rows).update(
        status=NotificationStatus.PENDING, retry_at=None
    )
    logger.info("notifications %s re-sent by user %s", rows, getattr(user, "pk", None))
    transaction.on_commit(lambda: enqueue(rows))
    return len(rows)


def sweep(*, limit: int = 1000) -> int:
    """Re-queue rows still pending some minutes after they were recorded (the broker was down
    when the event happened, or a message was lost) and whose retry, if any, is overdue by as
    much. Delivery being idempotent, a row whose original task also runs is sent once."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER_SECONDS)
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=NotificationStatus.PENDING, created_at__lte=cutoff)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=cutoff))
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return 0
        # Re-queued now: the next sweep leaves them alone for another period.
        Notification.objects.filter(pk__in=ids).update(retry_at=now)
    handed = enqueue(ids)
    logger.info("sweep: %s pending notification(s) re-queued, %s handed", len(ids), handed)
    return handed


def purge_old(*, batch_size: int = 5000) -> int:
    """Delete the notifications past their retention (``NOTIFICATIONS_KEEP_DAYS`` after they were
    sent or failed; see docs/personal-data.md). Pending rows are the sweep's, never purged. In
    batches, so that the first run over years of rows holds no long lock."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.NOTIFICATIONS_KEEP_DAYS)
    expired = Notification.objects.filter(
        status__in=[NotificationStatus.SENT, NotificationStatus.FAILED],
        created_at__lt=cutoff,  # served by (status, created_at); sent_at >= created_at
    ).filter(Q(sent_at__isnull=True) | Q(sent_at__lt=cutoff))
    deleted = 0
    while ids := list(expired.order_by().values_list("pk", flat=True)[:batch_size]):
        deleted += Notification.objects.filter(pk__in=ids).delete()[0]
    logger.info("purge: %s notification(s) older than %s deleted", deleted, cutoff.date())
    return deleted


def mark_read(*, user, notification_ids=None) -> int:
    """Mark the user's in-app notifications read: the given ones, or all of them."""
    queryset = Notification.objects.inbox(user).unread()
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=list(notification_ids))
    return queryset.update(read_at=timezone.now())


def set_preferences(*, user, receive_digests: bool) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"receive_digests": bool(receive_digests)}
    )
    logger.info("user %s: receive_digests=%s", user.pk, preference.receive_digests)
    return preference
