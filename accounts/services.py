"""Writes on accounts: one keyword-only function per action.

Personal data (see docs/personal-data.md): ``export_personal_data`` gathers what the portal holds
about a person; ``delete_account`` anonymises the account in place. The row is kept because the
audit trail (transition logs, messages, attachments, requests, admin history) points to it with
protected foreign keys: those keep their link and read « Compte supprimé ».
"""

import logging
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import DELETED_ACCOUNT_LABEL, CollectivityMembership, DelegateAssignment, User

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("first_name", "last_name", "job_title", "phone")
EXPORT_FORMAT = "anct-personal-data/1"


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


# Personal data -------------------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value is not None else None


def _request_ref(engineering_request) -> dict:
    return {
        "reference": engineering_request.reference,
        "title": engineering_request.title,
        "state": engineering_request.state,
        "collectivity": engineering_request.collectivity.name,
    }


def _user_sessions(user: User) -> list[Session]:
    """The live sessions signed in as ``user`` (session data is opaque to SQL: decoded here;
    sessions expire within SESSION_COOKIE_AGE, so there are few live ones)."""
    found = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        # A session signed with a rotated key decodes to {}: not this user's.
        user_id = session.get_decoded().get("_auth_user_id")
        if user_id is not None and str(user_id) == str(user.pk):
            found.append(session)
    return found


def _login_attempt_models():
    """django-axes' tables, when the project installs it (a username column each)."""
    if not apps.is_installed("axes"):
        return []
    models = []
    for name in ("AccessAttempt", "AccessFailureLog", "AccessLog"):
        try:
            models.append(apps.get_model("axes", name))
        except LookupError:
            continue
    return models


def export_personal_data(*, user: User) -> dict:
    """Everything the portal holds about ``user``, as a JSON-serialisable dict (right of
    access, RGPD art. 15). Texts they wrote are included; other people's texts are not."""
    from engineering_requests.models import (
        Attachment,
        EngineeringRequest,
        RequestMessage,
        TransitionLog,
    )
    from notifications.models import Notification, NotificationPreference

    requests = EngineeringRequest.objects.select_related("collectivity").order_by("pk")
    preference = NotificationPreference.objects.filter(user=user).first()
    data = {
        "format": EXPORT_FORMAT,
        "generated_at": _iso(timezone.now()),
        "account": {
            "id": user.pk,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "job_title": user.job_title,
            "phone": user.phone,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "is_active": user.is_active,
            "is_staff": user.is_staff,
            "deleted_at": _iso(user.deleted_at),
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "national_staff": roles.is_national_staff(user),
        },
        "collectivity_memberships": [
            {
                "collectivity": m.collectivity.name,
                "kind": m.collectivity.kind,
                "code": m.collectivity.code,
                "since": _iso(m.created_at),
            }
            for m in CollectivityMembership.objects.filter(user=user)
            .select_related("collectivity")
            .order_by("pk")
        ],
        "delegate_assignments": [
            {
                "departement": a.departement.code,
                "name": a.departement.name,
                "since": _iso(a.created_at),
            }
            for a in DelegateAssignment.objects.filter(user=user)
            .select_related("departement")
            .order_by("pk")
        ],
        "notification_preferences": {
            "receive_digests": preference.receive_digests if preference else True,
        },
        "requests_submitted": [_request_ref(r) for r in requests.filter(submitted_by=user)],
        "requests_assigned": [_request_ref(r) for r in requests.filter(assigned_delegate=user)],
        "requests_decided": [_request_ref(r) for r in requests.filter(decided_by=user)],
        "requests_as_local_contact": [
            {
                **_request_ref(r),
                "contact_name": r.contact_name,
                "contact_organisation": r.contact_organisation,
                "contact_email": r.contact_email,
            }
            for r in requests.filter(contact_email__iexact=user.email)
        ],
        "messages": [
            {
                "request": m.engineering_request.reference,
                "kind": m.kind,
                "body": m.body,
                "created_at": _iso(m.created_at),
            }
            for m in RequestMessage.objects.filter(author=user)
            .select_related("engineering_request")
            .order_by("pk")
        ],
        "attachments": [
            {
                "request": a.engineering_request.reference,
                "name": a.original_name,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
                "created_at": _iso(a.created_at),
            }
            for a in Attachment.objects.filter(uploaded_by=user)
            .select_related("engineering_request")
            .order_by("pk")
        ],
        "transitions": [
            {
                "request": t.engineering_request.reference,
                "transition": t.transition,
                "source": t.source_state,
                "target": t.target_state,
                "comment": t.comment,
                "created_at": _iso(t.created_at),
            }
            for t in TransitionLog.objects.filter(actor=user)
            .select_related("engineering_request")
            .order_by("pk")
        ],
        "notifications": [
            {
                "event": n.event,
                "channel": n.channel,
                "email": n.email,
                "subject": n.subject,
                "status": n.status,
                "created_at": _iso(n.created_at),
                "sent_at": _iso(n.sent_at),
                "read_at": _iso(n.read_at),
            }
            for n in Notification.objects.filter(
                Q(recipient=user) | Q(recipient=None, email__iexact=user.email)
            ).order_by("pk")
        ],
        "admin_actions": [
            {
                "action_time": _iso(e.action_time),
                "object": e.object_repr,
                "change_message": e.get_change_message(),
            }
            for e in LogEntry.objects.filter(user=user).order_by("pk")
        ],
        "active_sessions": [{"expires": _iso(s.expire_date)} for s in _user_sessions(user)],
        "login_attempts": [
            {
                "table": model._meta.model_name,
                "attempt_time": _iso(getattr(row, "attempt_time", None)),
                "ip_address": getattr(row, "ip_address", None),
            }
            for model in _login_attempt_models()
            for row in model.objects.filter(username__iexact=user.email)
        ],
    }
    logger.info("user %s: personal data exported", user.pk)
    return data


@dataclass
class AccountDeletion:
    user: User
    removed: dict = field(default_factory=dict)


def tombstone_email(user: User) -> str:
    # ``.invalid`` can never be delivered (RFC 2606); the id keeps the column unique.
    return f"compte-supprime-{user.pk}@anonyme.invalid"


@transaction.atomic
def delete_account(*, user: User, by: User | None) -> AccountDeletion:
    """Anonymise ``user`` (right to erasure, RGPD art. 17) without breaking the audit trail.

    ``by`` is the superuser acting in the back office, or None for an operator on the command
    line. Identity, e-mail, function and phone are replaced by a tombstone; the password becomes
    unusable, the account inactive and without roles; memberships, preferences, form tokens,
    live sessions, login attempts and the notifications addressed to the person are deleted.
    Transition logs, messages, attachments, requests and admin history keep their foreign key
    (protected on purpose) and show « Compte supprimé ». Running it twice changes nothing more.
    """
    from anct_portal.models import FormSubmission
    from notifications.models import Notification, NotificationPreference

    if by is not None and not by.is_superuser:
        raise PermissionDenied(_("Seul un administrateur peut supprimer un compte."))
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_deleted:
        return AccountDeletion(locked)
    old_email = locked.email
    removed = {
        "collectivity_memberships": CollectivityMembership.objects.filter(user=locked).delete()[0],
        "delegate_assignments": DelegateAssignment.objects.filter(user=locked).delete()[0],
        "notifications": Notification.objects.filter(
            Q(recipient=locked) | Q(recipient=None, email__iexact=old_email)
        ).delete()[0],
        "notification_preferences": NotificationPreference.objects.filter(user=locked).delete()[0],
        "form_tokens": FormSubmission.objects.filter(user=locked).delete()[0],
        "sessions": 0,
        "login_attempts": 0,
    }
    for session in _user_sessions(locked):
        session.delete()
        removed["sessions"] += 1
    for model in _login_attempt_models():
        removed["login_attempts"] += model.objects.filter(username__iexact=old_email).delete()[0]
    locked.groups.clear()
    locked.user_permissions.clear()
    locked.email = tombstone_email(locked)
    locked.first_name = locked.last_name = locked.job_title = locked.phone = ""
    locked.set_unusable_password()
    locked.is_active = locked.is_staff = locked.is_superuser = False
    locked.deleted_at = timezone.now()
    locked.save()
    # The admin history names objects by their text at the time: the account's old name goes.
    user_type = ContentType.objects.get_for_model(User)
    LogEntry.objects.filter(content_type=user_type, object_id=str(locked.pk)).update(
        object_repr=str(DELETED_ACCOUNT_LABEL)
    )
    if by is not None:
        LogEntry.objects.log_actions(
            user_id=by.pk,
            queryset=[locked],
            action_flag=CHANGE,
            change_message=_("Compte supprimé (anonymisé)"),
            single_object=True,
        )
    roles.clear_role_cache(locked)
    logger.info(
        "user %s: account deleted (anonymised) by %s: %s",
        locked.pk,
        f"user {by.pk}" if by is not None else "the command line",
        removed,
    )
    return AccountDeletion(locked, removed)
