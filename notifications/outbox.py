"""Writing to the outbox and handing rows to Celery once the transaction has committed."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connections, router, transaction
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

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

    One statement whatever the number of rows (``INSERT … ON CONFLICT (dedup_key) DO NOTHING
    RETURNING``, by batches of 500): fit for reminders and digests that record thousands of
    rows at once, and for the one or two rows of an event.
    """
    unique: dict[str, Notification] = {}
    for row in rows:
        unique.setdefault(row.dedup_key, row)  # the first one wins, as in the table
    rows = list(unique.values())
    if not rows:
        return []
    connection = connections[router.db_for_write(Notification)]
    created = []
    for start in range(0, len(rows), BATCH_SIZE):
        created += _insert_new(rows[start : start + BATCH_SIZE], connection)
    created.sort(key=lambda row: row.pk)
    ids = [row.pk for row in created]
    if ids:
        transaction.on_commit(lambda: enqueue(ids), using=connection.alias)
    return created


BATCH_SIZE = 500
_INSERT_FIELDS = None


def _insert_fields():
    global _INSERT_FIELDS
    if _INSERT_FIELDS is None:
        _INSERT_FIELDS = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    return _INSERT_FIELDS


def _insert_new(rows: list[Notification], connection) -> list[Notification]:
    """Insert the rows; those whose key exists already (recorded earlier, or by a concurrent
    caller that committed first: the unique index makes this one wait, then skip) are left
    out. Returns the inserted rows, their primary keys set. (``RETURNING`` after ``ON
    CONFLICT``: PostgreSQL, and SQLite from 3.35 like the reference numbers.)"""
    query = InsertQuery(Notification, on_conflict=OnConflict.IGNORE)
    query.insert_values(_insert_fields(), rows)
    compiler = query.get_compiler(connection=connection)
    pk_field = Notification._meta.pk
    compiler.returning_fields = [pk_field, Notification._meta.get_field("dedup_key")]
    [(sql, params)] = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = {key: pk for pk, key in cursor.fetchall()}
    return _created(rows, returned, connection)


def _created(rows: list[Notification], returned: dict, connection) -> list[Notification]:
    """The rows whose key came back from the INSERT (``returned``: key -> pk), keys set."""
    pk_field = Notification._meta.pk
    created = []
    for row in rows:
        pk = returned.get(row.dedup_key)
        if pk is None:
            continue
        row.pk = pk_field.to_python(pk)
        row._state.adding = False
        row._state.db = connection.alias
        created.append(row)
    return created


def save_with(inserts, rows: Iterable[Notification]):
    """``save`` as one statement of the caller's single write statement
    (``anct_portal.inserts.Inserts``, PostgreSQL). Returns a function to call with what
    ``inserts.run()`` returned: it sets the rows' keys, schedules their delivery after commit
    and returns the created rows, as ``save`` does."""
    unique: dict[str, Notification] = {}
    for row in rows:
        unique.setdefault(row.dedup_key, row)
    rows = list(unique.values())
    if not rows:
        return lambda result: []
    inserts.add_rows(
        "notifications",
        rows,
        fields=_insert_fields(),
        suffix="ON CONFLICT (dedup_key) DO NOTHING",
        returning=("id", "dedup_key"),
    )

    def done(result) -> list[Notification]:
        connection = inserts.connection
        returned = {key: pk for pk, key in result["notifications"]}
        created = sorted(_created(rows, returned, connection), key=lambda row: row.pk)
        ids = [row.pk for row in created]
        if ids:
            transaction.on_commit(lambda: enqueue(ids), using=connection.alias)
        return created

    return done


def record(**kwargs) -> list[Notification]:
    """Create the outbox rows of one event occurrence (see ``build``) and deliver them after
    commit. Call inside the transaction of the change the event reports."""
    return save(build(**kwargs))


ENQUEUE_BATCH = 50


def enqueue(notification_ids: list[int]) -> int:
    """Hand rows to Celery; return how many were handed. One message per batch of rows (the
    rows of an event go in one message; see ``tasks.deliver_notifications``). A broker outage
    is not an error here: the rows stay pending and the periodic sweep re-queues them."""
    from notifications.tasks import deliver_notifications

    notification_ids = list(notification_ids)
    handed = 0
    for start in range(0, len(notification_ids), ENQUEUE_BATCH):
        batch = notification_ids[start : start + ENQUEUE_BATCH]
        try:
            # The arguments' repr given (as Celery's saferepr would write a list of ids):
            # saferepr cost ~0.05 ms of the ~0.4 ms a message costs.
            deliver_notifications.apply_async(
                args=[batch], retry=False, argsrepr=repr([batch]), kwargsrepr="{}"
            )
        except Exception as exc:
            logger.warning(
                "Broker unavailable, %s notification(s) left pending for the sweep: %s",
                len(notification_ids) - handed,
                exc,
            )
            break
        handed += len(batch)
    return handed
