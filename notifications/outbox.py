"""Writing to the outbox and handing rows to Celery once the transaction has committed."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from notifications.enums import Channel
from notifications.models import Notification

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    """A person to notify: a portal user, or only an e-mail address (e.g. a local contact
    without an account)."""

    email: str
    user: object | None = None

    @property
    def key(self) -> str:
        return f"u{self.user.pk}" if self.user is not None else f"e{self.email.lower()}"


def record(
    *,
    event: str,
    audience: str,
    recipients: Iterable[Recipient],
    occurrence: str,
    engineering_request=None,
    context: dict | None = None,
    channels: Iterable[str] = (Channel.EMAIL, Channel.IN_APP),
) -> list[Notification]:
    """Create the outbox rows of one event occurrence and deliver them after commit.

    ``occurrence`` identifies the event instance (e.g. the transition-log id): with the
    recipient and the channel it makes the dedup key, so a retried caller never notifies
    twice. In-app notifications need a user; e-mail-only recipients get the e-mail alone.
    """
    rows = []
    for recipient in recipients:
        for channel in channels:
            if channel == Channel.IN_APP and recipient.user is None:
                continue
            if channel == Channel.EMAIL and not recipient.email:
                continue
            rows.append(
                Notification(
                    event=event,
                    audience=audience,
                    channel=channel,
                    recipient=recipient.user,
                    email=recipient.email,
                    engineering_request=engineering_request,
                    context=context or {},
                    dedup_key=f"{event}:{occurrence}:{recipient.key}:{channel}"[:200],
                )
            )
    rows = list({row.dedup_key: row for row in rows}.values())
    if not rows:
        return []
    existing = set(
        Notification.objects.filter(dedup_key__in=[row.dedup_key for row in rows]).values_list(
            "dedup_key", flat=True
        )
    )
    new_rows = [row for row in rows if row.dedup_key not in existing]
    created = Notification.objects.bulk_create(new_rows, ignore_conflicts=False)
    ids = [row.pk for row in created if row.pk is not None]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))
    return created


def enqueue(notification_ids: list[int]) -> None:
    """Hand rows to Celery. A broker outage is not an error here: the rows stay pending and
    the periodic sweep re-queues them."""
    from notifications.tasks import deliver_notification

    for notification_id in notification_ids:
        try:
            deliver_notification.apply_async(args=[notification_id], retry=False)
        except Exception as exc:
            logger.warning(
                "Broker unavailable, notification %s left pending: %s", notification_id, exc
            )
            return
