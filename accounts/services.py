"""Writes on accounts: one keyword-only function per action."""

import logging

from django.db import transaction

from accounts.models import User

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("first_name", "last_name", "job_title", "phone")


@transaction.atomic
def update_profile(*, user: User, **fields) -> User:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown profile fields: {', '.join(sorted(unknown))}")
    locked = User.objects.select_for_update().get(pk=user.pk)
    for name, value in fields.items():
        setattr(locked, name, (value or "").strip())
    locked.save(update_fields=list(fields))
    logger.info("user %s: profile updated", user.pk)
    return locked
