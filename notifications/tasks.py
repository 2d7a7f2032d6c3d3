"""Celery tasks of the outbox. Beat's schedule is ``CELERY_BEAT_SCHEDULE`` in the settings."""

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="notifications.deliver_notification", acks_late=True)
def deliver_notification(self, notification_id: int) -> None:
    """Deliver one outbox row; on a mail-server or network error, retry with exponential
    back-off, and mark the row failed after the last retry."""
    from notifications import services

    retries = self.request.retries
    max_retries = settings.NOTIFICATIONS_MAX_RETRIES
    try:
        services.deliver(notification_id=notification_id, final_attempt=retries >= max_retries)
    except services.TransientDeliveryError as exc:
        countdown = services.retry_countdown(retries)
        services.schedule_retry(notification_id=notification_id, countdown=countdown)
        raise self.retry(exc=exc, countdown=countdown, max_retries=max_retries) from exc


@shared_task(name="notifications.deliver_notifications", acks_late=True)
def deliver_notifications(notification_ids: list[int]) -> None:
    """First attempt for several outbox rows (those of one event) handed in one message. A row
    whose delivery fails for a transient reason goes on in its own ``deliver_notification``
    task, at its first retry with the same back-off; any other error on one row leaves it
    pending for the sweep and the others are still delivered."""
    from notifications import services

    max_retries = settings.NOTIFICATIONS_MAX_RETRIES
    for notification_id in notification_ids:
        try:
            services.deliver(notification_id=notification_id, final_attempt=max_retries <= 0)
        except services.TransientDeliveryError:
            countdown = services.retry_countdown(0)
            try:
                services.schedule_retry(notification_id=notification_id, countdown=countdown)
                deliver_notification.apply_async(
                    args=[notification_id], countdown=countdown, retries=1
                )
            except Exception:
                logger.exception("notification %s: retry not scheduled", notification_id)
        except Exception:
            logger.exception("notification %s: left pending for the sweep", notification_id)


@shared_task(name="notifications.sweep_pending")
def sweep_pending() -> int:
    from notifications import services

    return services.sweep()


@shared_task(name="notifications.purge_old")
def purge_old() -> int:
    from notifications import services

    return services.purge_old()


@shared_task(name="notifications.send_reminders")
def send_reminders() -> dict:
    from notifications import periodic

    return periodic.send_reminders()


@shared_task(name="notifications.send_digests")
def send_digests() -> dict:
    from notifications import periodic

    return periodic.send_digests()
