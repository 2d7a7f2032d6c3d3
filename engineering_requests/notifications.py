"""Who is told what about a request (DESIGN §4): one class per event and audience.

Services call ``notify(event, engineering_request, occurrence=...)`` inside their transaction;
the rows land in the outbox (``notifications``) and are delivered after commit.
"""

from django.db import models
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts import roles
from notifications import outbox
from notifications.outbox import Recipient


class RequestEvent(models.TextChoices):
    SUBMITTED = "submitted", _("Nouvelle demande déposée")
    INFO_REQUESTED = "info_requested", _("Complément demandé")
    INFO_PROVIDED = "info_provided", _("Complément apporté")
    RESOLVED_LOCALLY = "resolved_locally", _("Interlocuteur unique désigné")
    ESCALATED = "escalated", _("Demande transmise à l'ANCT")
    NATIONAL_APPROVED = "national_approved", _("Appui national accordé")
    REFERRED_BACK = "referred_back", _("Demande renvoyée au département")
    DECLINED = "declined", _("Demande non retenue")
    WITHDRAWN = "withdrawn", _("Demande retirée")
    COMPLETED = "completed", _("Accompagnement terminé")
    MESSAGE_POSTED = "message_posted", _("Nouveau message")


def _user(user) -> Recipient:
    return Recipient(email=user.email, user=user)


def _portal_url(engineering_request) -> str:
    return engineering_request.get_absolute_url()


def _admin_url(engineering_request) -> str:
    return reverse(
        "admin:engineering_requests_engineeringrequest_change", args=[engineering_request.pk]
    )


class RequestNotification:
    """Base: an event, an audience, who they are, and where their link points."""

    event: str
    audience: str
    subject: str
    body: str
    for_staff = False  # staff get a link to the admin, others to the portal page

    def recipients(self, engineering_request) -> list[Recipient]:
        raise NotImplementedError

    def url(self, engineering_request) -> str:
        return (
            _admin_url(engineering_request) if self.for_staff else _portal_url(engineering_request)
        )


# Audiences --------------------------------------------------------------------------------


def _active_members(engineering_request) -> list:
    from accounts.models import User

    return list(
        User.objects.filter(
            is_active=True,
            collectivity_memberships__collectivity_id=engineering_request.collectivity_id,
        ).order_by("pk")
    )


class _ToSubmitter(RequestNotification):
    """The official who submitted; when their account was closed (deactivated or deleted), the
    collectivité's other members, so that the answer still reaches the collectivité."""

    def recipients(self, engineering_request):
        submitter = engineering_request.submitted_by
        if submitter.is_active:
            return [_user(submitter)]
        return [_user(user) for user in _active_members(engineering_request)]


class _ToCollectivityMembers(RequestNotification):
    def recipients(self, engineering_request):
        submitter = engineering_request.submitted_by
        people = {*([submitter] if submitter.is_active else []),
                  *_active_members(engineering_request)}  # fmt: skip
        return [_user(user) for user in sorted(people, key=lambda u: u.pk)]


class _ToDepartementDelegates(RequestNotification):
    for_staff = True

    def recipients(self, engineering_request):
        return [_user(user) for user in roles.delegates_of(engineering_request.departement_id)]


class _ToAssignedDelegate(RequestNotification):
    """The delegate in charge; every delegate of the département when nobody is assigned (or
    the one assigned has left)."""

    for_staff = True

    def recipients(self, engineering_request):
        delegate = engineering_request.assigned_delegate
        # A delegate whose account was closed no longer reads anything: their colleagues do.
        if delegate is not None and delegate.is_active:
            return [_user(delegate)]
        return [_user(user) for user in roles.delegates_of(engineering_request.departement_id)]


class _ToNationalStaff(RequestNotification):
    for_staff = True

    def recipients(self, engineering_request):
        return [_user(user) for user in roles.national_staff_users()]


class _ToLocalContact(RequestNotification):
    def recipients(self, engineering_request):
        from accounts.models import User

        email = engineering_request.contact_email.lower()
        if not email:
            return []
        account = User.objects.filter(email=email, is_active=True).first()
        return [Recipient(email=email, user=account)]


# Events × audiences ------------------------------------------------------------------------


class SubmittedToDelegates(_ToDepartementDelegates):
    event = RequestEvent.SUBMITTED
    audience = "delegates"
    subject = _("Nouvelle demande d'appui en ingénierie : %(reference)s")
    body = _(
        "%(collectivity)s a déposé la demande « %(title)s ». Elle attend votre prise en charge."
    )


class InfoRequestedToOfficials(_ToCollectivityMembers):
    event = RequestEvent.INFO_REQUESTED
    audience = "officials"
    subject = _("Votre demande %(reference)s : un complément est demandé")
    body = _("Le délégué territorial vous demande un complément sur « %(title)s » :\n\n%(comment)s")


class InfoProvidedToDelegate(_ToAssignedDelegate):
    event = RequestEvent.INFO_PROVIDED
    audience = "delegate"
    subject = _("Demande %(reference)s : complément apporté")
    body = _("%(collectivity)s a répondu à votre demande de complément sur « %(title)s ».")


class ResolvedLocallyToOfficial(_ToSubmitter):
    event = RequestEvent.RESOLVED_LOCALLY
    audience = "official"
    subject = _("Votre demande %(reference)s : un interlocuteur unique vous accompagne")
    body = _(
        "Votre demande « %(title)s » trouve une réponse locale. Votre interlocuteur unique : "
        "%(contact)s."
    )


class ResolvedLocallyToContact(_ToLocalContact):
    event = RequestEvent.RESOLVED_LOCALLY
    audience = "local_contact"
    subject = _("Vous êtes l'interlocuteur unique de la demande %(reference)s")
    body = _(
        "Le délégué territorial vous a désigné interlocuteur unique pour le projet « %(title)s » "
        "de %(collectivity)s."
    )


class EscalatedToNationalStaff(_ToNationalStaff):
    event = RequestEvent.ESCALATED
    audience = "national_staff"
    subject = _("Demande %(reference)s transmise à l'ANCT")
    body = _(
        "Le délégué territorial demande un appui national pour « %(title)s » (%(collectivity)s)."
    )


class NationalApprovedToDelegate(_ToAssignedDelegate):
    event = RequestEvent.NATIONAL_APPROVED
    audience = "delegate"
    subject = _("Demande %(reference)s : appui national accordé")
    body = _("L'ANCT accorde un appui national à « %(title)s » : %(comment)s")


class NationalApprovedToOfficial(_ToSubmitter):
    event = RequestEvent.NATIONAL_APPROVED
    audience = "official"
    subject = _("Votre demande %(reference)s : appui national accordé")
    body = _("L'ANCT accorde un appui national à votre projet « %(title)s » : %(comment)s")


class ReferredBackToDelegate(_ToAssignedDelegate):
    event = RequestEvent.REFERRED_BACK
    audience = "delegate"
    subject = _("Demande %(reference)s renvoyée au département")
    body = _("L'ANCT renvoie la demande « %(title)s » au département :\n\n%(comment)s")


class DeclinedToOfficial(_ToSubmitter):
    event = RequestEvent.DECLINED
    audience = "official"
    subject = _("Votre demande %(reference)s n'a pas été retenue")
    body = _("Votre demande « %(title)s » n'a pas été retenue :\n\n%(comment)s")


class CompletedToOfficial(_ToSubmitter):
    event = RequestEvent.COMPLETED
    audience = "official"
    subject = _("Votre demande %(reference)s : accompagnement terminé")
    body = _("L'accompagnement de « %(title)s » est terminé. Bilan :\n\n%(comment)s")


class CompletedToDelegate(_ToAssignedDelegate):
    event = RequestEvent.COMPLETED
    audience = "delegate"
    subject = _("Demande %(reference)s : accompagnement terminé")
    body = _("L'accompagnement de « %(title)s » est terminé. Bilan :\n\n%(comment)s")


class WithdrawnToDelegate(_ToAssignedDelegate):
    """Tells the delegate in charge that they can stop working on it; while nobody has taken
    it yet, the delegates of the département, who were told of the submission."""

    event = RequestEvent.WITHDRAWN
    audience = "delegate"
    subject = _("Demande %(reference)s retirée par la collectivité")
    body = _("%(collectivity)s a retiré sa demande « %(title)s ».")


class MessagePostedToDelegate(_ToAssignedDelegate):
    event = RequestEvent.MESSAGE_POSTED
    audience = "delegate"
    subject = _("Demande %(reference)s : nouveau message de la collectivité")
    body = _("%(collectivity)s a écrit au sujet de « %(title)s » :\n\n%(comment)s")


class MessagePostedToOfficials(_ToCollectivityMembers):
    event = RequestEvent.MESSAGE_POSTED
    audience = "officials"
    subject = _("Votre demande %(reference)s : nouveau message")
    body = _("Nouveau message au sujet de « %(title)s » :\n\n%(comment)s")


NOTIFICATIONS: dict[str, list[RequestNotification]] = {}
for _class in (
    SubmittedToDelegates,
    InfoRequestedToOfficials,
    InfoProvidedToDelegate,
    ResolvedLocallyToOfficial,
    ResolvedLocallyToContact,
    EscalatedToNationalStaff,
    NationalApprovedToDelegate,
    NationalApprovedToOfficial,
    ReferredBackToDelegate,
    DeclinedToOfficial,
    CompletedToOfficial,
    CompletedToDelegate,
    WithdrawnToDelegate,
    MessagePostedToDelegate,
    MessagePostedToOfficials,
):
    NOTIFICATIONS.setdefault(_class.event, []).append(_class())


def _context(notification: RequestNotification, engineering_request, comment: str) -> dict:
    values = {
        "reference": engineering_request.reference or "",
        "title": engineering_request.title,
        "collectivity": engineering_request.collectivity.name,
        "contact": ", ".join(
            part
            for part in (
                engineering_request.contact_name,
                engineering_request.contact_organisation,
                engineering_request.contact_email,
            )
            if part
        ),
        "comment": comment,
    }
    # Rendered in French now (the service's language) and kept with the row, so that a
    # delivery retried later says exactly what was true at the time of the event.
    with translation.override("fr"):
        return {
            "subject": str(notification.subject) % values,
            "body": str(notification.body) % values,
            "url": notification.url(engineering_request),
            "reference": values["reference"],
            "title": values["title"],
        }


def recipients_of(
    event: str, engineering_request, *, audiences: set[str] | None = None
) -> list[tuple[RequestNotification, list[Recipient]]]:
    """Who each notification of ``event`` goes to (the audiences with someone in them)."""
    found = []
    for notification in NOTIFICATIONS.get(event, []):
        if audiences is not None and notification.audience not in audiences:
            continue
        recipients = notification.recipients(engineering_request)
        if recipients:
            found.append((notification, recipients))
    return found


def notify(
    event: str,
    engineering_request,
    *,
    occurrence: str,
    comment: str = "",
    audiences: set[str] | None = None,
    recipients: list | None = None,
) -> list:
    """Record the notifications of one event (every audience in one statement, handed to Celery
    in one message). Call inside the service's transaction. ``recipients``: what
    ``recipients_of`` gave, when the service read it earlier (before taking a lock)."""
    if recipients is None:
        recipients = recipients_of(event, engineering_request, audiences=audiences)
    return outbox.save(_rows(event, engineering_request, occurrence, comment, recipients))


def notify_with(inserts, event: str, engineering_request, *, occurrence: str, recipients: list):
    """``notify`` as one statement of the caller's single write statement (see
    ``outbox.save_with``): returns the function to call with ``inserts.run()``'s result."""
    rows = _rows(event, engineering_request, occurrence, "", recipients)
    return outbox.save_with(inserts, rows)


def _rows(event, engineering_request, occurrence, comment, recipients) -> list:
    rows = []
    for notification, people in recipients:
        rows += outbox.build(
            event=event,
            audience=notification.audience,
            recipients=people,
            occurrence=occurrence,
            engineering_request=engineering_request,
            context=_context(notification, engineering_request, comment),
        )
    return rows
