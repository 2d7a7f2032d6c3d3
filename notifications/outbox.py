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


def build(
    *,
    event: str,
    audience: str,
    recipients: Iterable[Recipient],
    occurrence: str,
    engineering_request=None,
    context: dict | None = None,
    channels: Iterable[str] = (Channel.EMAIL, Channel.IN_APP),
) -> list[Notification]:
    """The (unsaved) rows of one event occurrence, one per recipient and channel.

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
    return rows


def save(rows: Iterable[Notification]) -> list[Notification]:
    """Insert the rows whose dedup key is new, in the caller's transaction, and enqueue them
    after commit. Rows already recorded (same key) are skipped, never duplicated.

    Two queries whatever the number of rows (plus the insert): fit for reminders and digests
    that record thousands of rows at once.
    """
    rows = list({row.dedup_key: row for row in rows}.values())
    if not rows:
        return []
    keys = [row.dedup_key for row in rows]
    existing = set(
        Notification.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True)
    )
    new_rows = [row for row in rows if row.dedup_key not in existing]
    if not new_rows:
        return []
    # ignore_conflicts: a concurrent caller that recorded the same key in the meantime wins,
    # and the unique key keeps it to one row.
    Notification.objects.bulk_create(new_rows, batch_size=500, ignore_conflicts=True)
    created = list(
        Notification.objects.filter(dedup_key__in=[row.dedup_key for row in new_rows]).order_by(
            "pk"
        )
    )
    ids = [row.pk for row in created]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))
    return created


def record(**kwargs) -> list[Notification]:
    """Create the outbox rows of one event occurrence (see ``build``) and deliver them after
    commit. Call inside the transaction of the change the event reports."""
    return save(build(**kwargs))


def enqueue(notification_ids: list[int]) -> int:
    """Hand rows to Celery; return how many were handed. A broker outage is not an error
    here: the rows stay pending and the periodic sweep re-queues them."""
    from notifications.tasks import deliver_notification

    handed = 0
    for notification_id in notification_ids:
        try:
            deliver_notification.apply_async(args=[notification_id], retry=False)
        except Exception as exc:
            logger.warning(
                "Broker unavailable, %s notification(s) left pending for the sweep: %s",
                len(notification_ids) - handed,
                exc,
            )
            break
        handed += 1
    return handed
