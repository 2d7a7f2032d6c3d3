"""Reminders and weekly digests, run by Celery beat (``CELERY_BEAT_SCHEDULE``).

Selections and counts are made by the database (filters, ``Count`` with ``filter=``, a window
function for each person's oldest requests); Python only shapes the rows of the outbox. Every
row has a dedup key carrying its period, so running a task again in the same period (beat
restarted, task retried) records nothing new.
"""

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, When, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import roles
from accounts.models import DelegateAssignment, User
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest, RequestMessage
from notifications import outbox
from notifications.enums import Channel, PeriodicEvent
from notifications.models import NotificationPreference
from notifications.outbox import Recipient

logger = logging.getLogger(__name__)

BATCH = 500
DIGEST_ITEMS = 10


def _admin_url(request_id: int) -> str:
    return reverse("admin:engineering_requests_engineeringrequest_change", args=[request_id])


def _days(since: datetime.datetime | None, now: datetime.datetime) -> int:
    return max(0, (now - since).days) if since else 0


def _waiting(days: int) -> str:
    return ngettext("depuis %(days)s jour", "depuis %(days)s jours", days) % {"days": days}


def _save_in_batches(rows) -> int:
    """Record rows by batches, each in its own transaction (enqueued when it commits)."""
    created, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            with transaction.atomic():
                created += len(outbox.save(batch))
            batch = []
    if batch:
        with transaction.atomic():
            created += len(outbox.save(batch))
    return created


# Reminders -----------------------------------------------------------------------------------


def delegate_backlog(now: datetime.datetime | None = None):
    """Requests waiting for their delegate for more than ``REMINDER_DELEGATE_AFTER_DAYS``:
    left ``submitted``, or back ``in_review`` after the official's answer with no action of
    the delegate since (no transition: a referral back would be later; no staff message).
    Annotated with ``waiting_since``."""
    now = now or timezone.now()
    threshold = now - datetime.timedelta(days=settings.REMINDER_DELEGATE_AFTER_DAYS)
    staff_acted = RequestMessage.objects.filter(
        engineering_request=OuterRef("pk"),
        created_at__gt=OuterRef("info_provided_at"),
        author__is_staff=True,
    )
    answered = (
        Q(state=S.IN_REVIEW, info_provided_at__lte=threshold)
        & (Q(referred_back_at__isnull=True) | Q(referred_back_at__lt=F("info_provided_at")))
        & ~Exists(staff_acted)
    )
    return EngineeringRequest.objects.filter(
        Q(state=S.SUBMITTED, submitted_at__lte=threshold) | answered
    ).annotate(
        waiting_since=Case(
            When(state=S.SUBMITTED, then=F("submitted_at")), default=F("info_provided_at")
        )
    )


def national_backlog(now: datetime.datetime | None = None):
    """Escalations older than ``REMINDER_NATIONAL_AFTER_DAYS``, annotated like above."""
    now = now or timezone.now()
    threshold = now - datetime.timedelta(days=settings.REMINDER_NATIONAL_AFTER_DAYS)
    return EngineeringRequest.objects.filter(
        state=S.ESCALATED, escalated_at__lte=threshold
    ).annotate(waiting_since=F("escalated_at"))


def _reminder_rows(requests, *, event, audience, recipients_for, period_days, now):
    for engineering_request in requests:
        waiting_since = engineering_request.waiting_since
        days = _days(waiting_since, now)
        # One reminder per period of N days after the request started waiting: day N, 2N, …
        period = days // period_days
        values = {
            "reference": engineering_request.reference,
            "title": engineering_request.title,
            "collectivity": engineering_request.collectivity.name,
            "waiting": _waiting(days),
            "state": S(engineering_request.state).label,
        }
        if event == PeriodicEvent.REMINDER_DELEGATE:
            subject = _("Rappel : la demande %(reference)s attend votre action %(waiting)s")
            if engineering_request.state == S.SUBMITTED:
                body = _(
                    "La demande « %(title)s » de %(collectivity)s a été déposée et attend sa "
                    "prise en charge %(waiting)s."
                )
            else:
                body = _(
                    "%(collectivity)s a apporté le complément demandé sur « %(title)s ». La "
                    "demande attend la suite de l'instruction %(waiting)s."
                )
        else:
            subject = _("Rappel : la demande %(reference)s est transmise à l'ANCT %(waiting)s")
            body = _(
                "La demande « %(title)s » de %(collectivity)s attend la décision de l'ANCT "
                "%(waiting)s."
            )
        context = {
            "subject": subject % values,
            "body": body % values,
            "url": _admin_url(engineering_request.pk),
            "reference": engineering_request.reference,
            "title": engineering_request.title,
        }
        occurrence = f"r{engineering_request.pk}:{int(waiting_since.timestamp())}:p{period}"
        yield from outbox.build(
            event=event,
            audience=audience,
            recipients=recipients_for(engineering_request),
            occurrence=occurrence,
            engineering_request=engineering_request,
            context=context,
        )


def send_reminders(now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    with translation.override("fr"):
        # Delegates: the one in charge, or every delegate of the département when nobody is.
        delegate_requests = list(
            delegate_backlog(now).select_related("collectivity", "assigned_delegate")
        )

        # A delegate in charge whose account was closed counts as nobody in charge.
        def in_charge(engineering_request):
            delegate = engineering_request.assigned_delegate
            return delegate if delegate is not None and delegate.is_active else None

        departement_ids = {r.departement_id for r in delegate_requests if in_charge(r) is None}
        delegates_by_departement = defaultdict(list)
        for assignment in DelegateAssignment.objects.filter(
            departement_id__in=departement_ids, user__is_active=True
        ).select_related("user"):
            delegates_by_departement[assignment.departement_id].append(assignment.user)

        def delegates(engineering_request):
            if in_charge(engineering_request) is not None:
                people = [engineering_request.assigned_delegate]
            else:
                people = delegates_by_departement[engineering_request.departement_id]
            return [Recipient(email=user.email, user=user) for user in people]

        delegate_count = _save_in_batches(
            _reminder_rows(
                delegate_requests,
                event=PeriodicEvent.REMINDER_DELEGATE,
                audience="delegates",
                recipients_for=delegates,
                period_days=settings.REMINDER_DELEGATE_AFTER_DAYS,
                now=now,
            )
        )

        national = [Recipient(email=u.email, user=u) for u in roles.national_staff_users()]
        national_count = _save_in_batches(
            _reminder_rows(
                national_backlog(now).select_related("collectivity").iterator(chunk_size=BATCH),
                event=PeriodicEvent.REMINDER_NATIONAL,
                audience="national_staff",
                recipients_for=lambda _request: national,
                period_days=settings.REMINDER_NATIONAL_AFTER_DAYS,
                now=now,
            )
        )
    logger.info("reminders: %s to delegates, %s to national staff", delegate_count, national_count)
    return {"delegates": delegate_count, "national_staff": national_count}


# Digests -------------------------------------------------------------------------------------


def _wants_digests():
    return ~Exists(
        NotificationPreference.objects.filter(user=OuterRef("pk"), receive_digests=False)
    )


def digest_delegates():
    """Active delegates who did not opt out of digests."""
    return User.objects.filter(
        Exists(DelegateAssignment.objects.filter(user=OuterRef("pk"))),
        _wants_digests(),
        is_active=True,
    )


def digest_national_staff():
    return roles.national_staff_users().filter(_wants_digests())


def _item(row, now) -> dict:
    return {
        "reference": row.reference,
        "title": row.title,
        "collectivity": row.collectivity.name,
        "state": str(S(row.state).label),
        "age": _("déposée il y a %(days)s j") % {"days": _days(row.submitted_at, now)},
        "url": _admin_url(row.pk),
    }


def _week(now) -> str:
    year, week, _weekday = timezone.localtime(now).isocalendar()
    return f"{year}-W{week:02d}"


def delegate_digest_counts(user_ids, now) -> dict[int, dict]:
    """Backlog counts per delegate over all their départements: one grouped query."""
    requests = "departement__engineering_requests"
    threshold = now - datetime.timedelta(days=settings.REMINDER_DELEGATE_AFTER_DAYS)

    def count(**lookups):
        return Count(requests, filter=Q(**{f"{requests}__{k}": v for k, v in lookups.items()}))

    rows = (
        DelegateAssignment.objects.filter(user_id__in=user_ids)
        .values("user_id")
        .annotate(
            submitted=count(state=S.SUBMITTED),
            submitted_overdue=count(state=S.SUBMITTED, submitted_at__lte=threshold),
            in_review=count(state=S.IN_REVIEW),
            info_requested=count(state=S.INFO_REQUESTED),
            escalated=count(state=S.ESCALATED),
            local_support=count(state=S.LOCAL_SUPPORT),
        )
    )
    return {row.pop("user_id"): row for row in rows}


def delegate_digest_items(user_ids, now) -> dict[int, list]:
    """Each delegate's oldest requests waiting for them (submitted or in review): one query
    with a window function, ``DIGEST_ITEMS`` per delegate."""
    assignee = "departement__delegate_assignments__user_id"
    rows = (
        EngineeringRequest.objects.filter(
            **{f"{assignee}__in": list(user_ids)}, state__in=[S.SUBMITTED, S.IN_REVIEW]
        )
        .annotate(
            delegate_id=F(assignee),
            rank=Window(
                RowNumber(), partition_by=[F(assignee)], order_by=[F("submitted_at").asc()]
            ),
        )
        .filter(rank__lte=DIGEST_ITEMS)
        .select_related("collectivity")
        .order_by("submitted_at", "pk")
    )
    items = defaultdict(list)
    for row in rows:
        items[row.delegate_id].append(_item(row, now))
    return items


def _delegate_digest_rows(now):
    week = _week(now)
    users = list(digest_delegates().order_by("pk"))
    for start in range(0, len(users), BATCH):
        chunk = users[start : start + BATCH]
        ids = [user.pk for user in chunk]
        counts = delegate_digest_counts(ids, now)
        items = delegate_digest_items(ids, now)
        for user in chunk:
            c = counts.get(user.pk)
            if not c or not any(c.values()):
                continue
            waiting = c["submitted"] + c["in_review"]
            context = {
                "subject": _("Votre récapitulatif hebdomadaire : %(count)s demande(s) à traiter")
                % {"count": waiting},
                "body": _(
                    "Voici les demandes en cours dans vos départements. Les plus anciennes "
                    "qui attendent votre action sont listées ci-dessous."
                ),
                "counts": [
                    {"label": _("Déposées, à prendre en charge"), "value": c["submitted"]},
                    {
                        "label": _("dont en attente depuis plus de %(days)s jours")
                        % {"days": settings.REMINDER_DELEGATE_AFTER_DAYS},
                        "value": c["submitted_overdue"],
                    },
                    {"label": _("En instruction"), "value": c["in_review"]},
                    {
                        "label": _("Complément demandé à la collectivité"),
                        "value": c["info_requested"],
                    },
                    {"label": _("Transmises à l'ANCT"), "value": c["escalated"]},
                    {"label": _("En accompagnement local"), "value": c["local_support"]},
                ],
                "items": items.get(user.pk, []),
                "url": reverse("admin:engineering_requests_engineeringrequest_changelist"),
                "action_label": _("Ouvrir ma file de demandes"),
            }
            yield from outbox.build(
                event=PeriodicEvent.DIGEST_DELEGATE,
                audience="delegate",
                recipients=[Recipient(email=user.email, user=user)],
                occurrence=week,
                context=context,
                channels=(Channel.EMAIL,),
            )


def national_digest_context(now) -> dict | None:
    threshold = now - datetime.timedelta(days=settings.REMINDER_NATIONAL_AFTER_DAYS)
    c = EngineeringRequest.objects.aggregate(
        escalated=Count("pk", filter=Q(state=S.ESCALATED)),
        escalated_overdue=Count("pk", filter=Q(state=S.ESCALATED, escalated_at__lte=threshold)),
        national_support=Count("pk", filter=Q(state=S.NATIONAL_SUPPORT)),
        escalated_this_week=Count(
            "pk",
            filter=Q(state=S.ESCALATED, escalated_at__gt=now - datetime.timedelta(days=7)),
        ),
    )
    if not (c["escalated"] or c["national_support"]):
        return None
    oldest = (
        EngineeringRequest.objects.filter(state=S.ESCALATED)
        .select_related("collectivity")
        .order_by("escalated_at", "pk")[:DIGEST_ITEMS]
    )
    items = []
    for row in oldest:
        item = _item(row, now)
        item["age"] = _("transmise il y a %(days)s j") % {"days": _days(row.escalated_at, now)}
        items.append(item)
    return {
        "subject": _("File nationale : %(count)s demande(s) transmise(s) à l'ANCT")
        % {"count": c["escalated"]},
        "body": _(
            "Voici l'état de la file nationale. Les transmissions les plus anciennes sont "
            "listées ci-dessous."
        ),
        "counts": [
            {"label": _("Transmises à l'ANCT, en attente de décision"), "value": c["escalated"]},
            {"label": _("dont reçues cette semaine"), "value": c["escalated_this_week"]},
            {
                "label": _("dont en attente depuis plus de %(days)s jours")
                % {"days": settings.REMINDER_NATIONAL_AFTER_DAYS},
                "value": c["escalated_overdue"],
            },
            {"label": _("Appuis nationaux en cours"), "value": c["national_support"]},
        ],
        "items": items,
        "url": reverse("admin:engineering_requests_engineeringrequest_changelist"),
        "action_label": _("Ouvrir la file nationale"),
    }


def send_digests(now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    with translation.override("fr"):
        delegate_count = _save_in_batches(_delegate_digest_rows(now))
        national_count = 0
        context = national_digest_context(now)
        if context is not None:
            national_count = _save_in_batches(
                outbox.build(
                    event=PeriodicEvent.DIGEST_NATIONAL,
                    audience="national_staff",
                    recipients=[Recipient(email=u.email, user=u) for u in digest_national_staff()],
                    occurrence=_week(now),
                    context=context,
                    channels=(Channel.EMAIL,),
                )
            )
    logger.info("digests: %s to delegates, %s to national staff", delegate_count, national_count)
    return {"delegates": delegate_count, "national_staff": national_count}
