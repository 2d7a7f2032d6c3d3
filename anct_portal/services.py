"""Writes of the portal shell: the one-time form tokens that make a POST idempotent."""

import datetime
import re
import secrets

from django.db import transaction
from django.utils import timezone

from anct_portal.models import FormSubmission

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
KEEP_FOR = datetime.timedelta(days=7)


class AlreadySubmitted(Exception):
    """This form was already sent: ``submission`` tells what the first POST produced."""

    def __init__(self, submission: FormSubmission | None):
        super().__init__("form already submitted")
        self.submission = submission


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


def is_valid_token(token) -> bool:
    return isinstance(token, str) and bool(TOKEN_PATTERN.match(token))


def claim_form_token(*, user, token: str, url: str = "", object_id=None) -> FormSubmission:
    """Claim ``token`` for this POST, inside the caller's transaction (``atomic`` required, so
    that a failed action releases the token). Raises ``AlreadySubmitted`` when a previous POST
    of the same form has committed.

    Claimed first, the token stops a second POST before it does anything, and the caller records
    the result later (``record_form_result``). A caller whose writes all stay in the database
    (no file stored) may instead claim it last, with the result (``url``, ``object_id``): one
    statement instead of two. A second POST then does its work, waits on the token for the
    first transaction, and raises here: its transaction rolls everything back.

    One statement, no savepoint: ``INSERT … ON CONFLICT (token) DO NOTHING RETURNING id``. The
    unique index makes a concurrent POST of the same token wait for the first transaction; if
    that one commits, nothing is inserted and nothing is returned. On PostgreSQL the same
    statement deletes the user's tokens older than ``KEEP_FOR`` (a second one elsewhere).
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("claim_form_token must run inside the caller's transaction")
    now = timezone.now()
    expired = now - KEEP_FOR
    url = url[:300]
    submission = FormSubmission(
        token=token, user=user, created_at=now, result_url=url, object_id=object_id
    )
    table = connection.ops.quote_name(FormSubmission._meta.db_table)
    insert = (
        f"INSERT INTO {table} (token, user_id, object_id, result_url, created_at) "  # noqa: S608 - table name
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (token) DO NOTHING RETURNING id"
    )
    params = [token, user.pk, object_id, url, now]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH expired AS (DELETE FROM {table} WHERE user_id = %s AND created_at < %s) "  # noqa: S608
                + insert,
                [user.pk, expired, *params],
            )
            row = cursor.fetchone()
        else:
            cursor.execute(insert, params)
            row = cursor.fetchone()
            if row is not None:
                cursor.execute(
                    f"DELETE FROM {table} WHERE user_id = %s AND created_at < %s",  # noqa: S608
                    [user.pk, expired],
                )
    if row is None:
        previous = FormSubmission.objects.filter(token=token, user=user).first()
        raise AlreadySubmitted(previous)
    submission.pk = row[0]
    submission._state.adding = False
    submission._state.db = connection.alias
    return submission


def claim_form_token_with(inserts, *, user, token: str, url: str, object_id) -> None:
    """``claim_form_token`` (claimed last, with its result) as two more statements of the
    caller's single write statement (``anct_portal.inserts.Inserts``, PostgreSQL): one round
    trip less. After ``inserts.run()``, ``check_form_token_claim`` raises ``AlreadySubmitted``
    when the token had been claimed: the caller's transaction then rolls everything back."""
    now = timezone.now()
    table = inserts.connection.ops.quote_name(FormSubmission._meta.db_table)
    inserts.add(
        "expired_tokens",
        f"DELETE FROM {table} WHERE user_id = %s AND created_at < %s",  # noqa: S608 - table name
        [user.pk, now - KEEP_FOR],
    )
    inserts.add(
        "form_token",
        f"INSERT INTO {table} (token, user_id, object_id, result_url, created_at) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (token) DO NOTHING",
        [token, user.pk, object_id, url[:300], now],
        returning=("id",),
    )


def check_form_token_claim(result: dict, *, user, token: str) -> None:
    if not result["form_token"]:
        raise AlreadySubmitted(FormSubmission.objects.filter(token=token, user=user).first())


def record_form_result(submission: FormSubmission, *, url: str, object_id=None) -> None:
    submission.result_url = url[:300]
    submission.object_id = object_id
    submission.save(update_fields=["result_url", "object_id"])
