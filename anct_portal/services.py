"""Writes of the portal shell: the one-time form tokens that make a POST idempotent."""

import datetime
import re
import secrets

from django.db import IntegrityError, transaction
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


def claim_form_token(*, user, token: str) -> FormSubmission:
    """Claim ``token`` for this POST, inside the caller's transaction (``atomic`` required, so
    that a failed action releases the token). Raises ``AlreadySubmitted`` when a previous POST
    of the same form has committed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim_form_token must run inside the caller's transaction")
    try:
        with transaction.atomic():
            submission = FormSubmission.objects.create(token=token, user=user)
    except IntegrityError:
        previous = FormSubmission.objects.filter(token=token, user=user).first()
        raise AlreadySubmitted(previous) from None
    FormSubmission.objects.filter(user=user, created_at__lt=timezone.now() - KEEP_FOR).delete()
    return submission


def record_form_result(submission: FormSubmission, *, url: str, object_id=None) -> None:
    submission.result_url = url[:300]
    submission.object_id = object_id
    submission.save(update_fields=["result_url", "object_id"])
