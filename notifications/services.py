"""Delivery of outbox rows. Idempotent: a row already sent is never sent again."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from notifications.enums import Channel, NotificationStatus
from notifications.models import Notification

logger = logging.getLogger(__name__)


def _absolute(url: str) -> str:
    return f"{settings.SITE_URL}{url}" if url.startswith("/") else url


@transaction.atomic
def deliver(*, notification_id: int) -> Notification | None:
    # The row lock serialises two workers handed the same row; the second finds it sent.
    notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
    if notification is None or notification.status != NotificationStatus.PENDING:
        return notification
    notification.attempts += 1
    if notification.channel == Channel.EMAIL:
        context = notification.context
        message = EmailMultiAlternatives(
            subject=context.get("subject", "Ingénierie ANCT"),
            body=f"{context.get('body', '')}\n\n{_absolute(context.get('url', '/'))}\n",
            to=[notification.email],
        )
        message.send()
    notification.status = NotificationStatus.SENT
    notification.sent_at = timezone.now()
    notification.last_error = ""
    notification.save(update_fields=["status", "sent_at", "attempts", "last_error"])
    return notification
