"""The comité local de cohésion territoriale report (DESIGN §1): for a département and a period,
the requests answered locally with their interlocuteur unique, and the escalations to ANCT with
their outcome. Read-only; figures are aggregated in the database.

Definitions (a request counts in the period when the milestone falls within it, both dates
included, in French local time):
- deposited: ``submitted_at``; answered locally: ``resolved_locally_at``;
- escalated: ``escalated_at`` (the latest escalation of the request); declined: ``declined_at``;
- local answer rate: answered locally ÷ (answered locally + escalated);
- outcome of an escalation: awaiting decision (still escalated), national support granted
  (decided after the escalation), referred back to the département (referred back after it).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import roles
from engineering_requests.enums import RequestState
from engineering_requests.selectors import backoffice_visible_to

LOCAL_TARGET_PERCENT = 90


class EscalationOutcome:
    PENDING = "pending"
    APPROVED = "approved"
    REFERRED_BACK = "referred_back"

    LABELS = {
        PENDING: _("En attente de décision"),
        APPROVED: _("Appui national accordé"),
        REFERRED_BACK: _("Renvoyée au département"),
    }


def escalation_outcome(engineering_request) -> str:
    if engineering_request.state == RequestState.ESCALATED:
        return EscalationOutcome.PENDING
    escalated_at = engineering_request.escalated_at
    decided_at, referred_at = engineering_request.decided_at, engineering_request.referred_back_at
    if decided_at and escalated_at and decided_at >= escalated_at:
        return EscalationOutcome.APPROVED
    if referred_at and escalated_at and referred_at >= escalated_at:
        return EscalationOutcome.REFERRED_BACK
    return EscalationOutcome.PENDING


@dataclass
class ComiteReport:
    departement: object
    start: datetime.date
    end: datetime.date
    figures: dict = field(default_factory=dict)
    local_requests: list = field(default_factory=list)
    escalations: list = field(default_factory=list)

    @property
    def local_rate(self) -> Decimal | None:
        answered = self.figures["answered_locally"] + self.figures["escalated"]
        if not answered:
            return None
        return (Decimal(100) * self.figures["answered_locally"] / answered).quantize(Decimal("0.1"))

    @property
    def target(self) -> int:
        return LOCAL_TARGET_PERCENT

    def figure_rows(self) -> list[tuple[str, object]]:
        f = self.figures
        rate = self.local_rate
        return [
            (_("Demandes déposées"), f["deposited"]),
            (_("Réponses locales (interlocuteur unique désigné)"), f["answered_locally"]),
            (_("… dont accompagnements terminés"), f["local_completed"]),
            (_("Transmissions à l'ANCT"), f["escalated"]),
            (_("… dont appui national accordé"), f["approved"]),
            (_("… dont renvoyées au département"), f["referred_back"]),
            (_("… dont en attente de décision"), f["pending"]),
            (_("Demandes non retenues"), f["declined"]),
            (
                _("Taux de réponse locale (objectif %(target)s %%)") % {"target": self.target},
                "–" if rate is None else f"{rate} %".replace(".", ","),
            ),
            (_("Montant des crédits nationaux accordés (€)"), f["amount_granted"]),
        ]


def _bounds(start: datetime.date, end: datetime.date):
    tz = timezone.get_current_timezone()
    begin = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    finish = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return begin, finish


def comite_local_report(*, user, departement, start, end) -> ComiteReport:
    """The report of one département over [start, end], within what ``user`` may see."""
    if not _may_report_on(user, departement):
        raise PermissionDenied
    scope = backoffice_visible_to(user).filter(departement=departement)
    begin, finish = _bounds(start, end)

    def within(milestone):
        return Q(**{f"{milestone}__gte": begin, f"{milestone}__lt": finish})

    escalated = within("escalated_at")
    approved = (
        escalated
        & ~Q(state=RequestState.ESCALATED)
        & Q(decided_at__isnull=False, decided_at__gte=F("escalated_at"))
    )
    referred = (
        escalated
        & ~Q(state=RequestState.ESCALATED)
        & (Q(decided_at__isnull=True) | Q(decided_at__lt=F("escalated_at")))
        & Q(referred_back_at__isnull=False, referred_back_at__gte=F("escalated_at"))
    )
    figures = scope.aggregate(
        deposited=Count("pk", filter=within("submitted_at")),
        answered_locally=Count("pk", filter=within("resolved_locally_at")),
        local_completed=Count(
            "pk", filter=within("resolved_locally_at") & Q(state=RequestState.COMPLETED)
        ),
        escalated=Count("pk", filter=escalated),
        approved=Count("pk", filter=approved),
        referred_back=Count("pk", filter=referred),
        declined=Count("pk", filter=within("declined_at")),
        amount_granted=Sum("granted_amount", filter=approved),
    )
    figures["pending"] = figures["escalated"] - figures["approved"] - figures["referred_back"]
    figures["amount_granted"] = figures["amount_granted"] or Decimal("0.00")

    related = ("collectivity", "assigned_delegate", "local_provider", "operator")
    local_requests = list(
        scope.filter(within("resolved_locally_at"))
        .select_related(*related)
        .order_by("resolved_locally_at", "pk")
    )
    escalations = list(
        scope.filter(escalated).select_related(*related).order_by("escalated_at", "pk")
    )
    for engineering_request in escalations:
        engineering_request.outcome_code = escalation_outcome(engineering_request)
        engineering_request.outcome_label = EscalationOutcome.LABELS[
            engineering_request.outcome_code
        ]
    return ComiteReport(
        departement=departement,
        start=start,
        end=end,
        figures=figures,
        local_requests=local_requests,
        escalations=escalations,
    )


def _may_report_on(user, departement) -> bool:
    if not user.is_active or not user.is_staff:
        return False
    if roles.is_national_staff(user) or user.is_superuser:
        return True
    return departement.pk in roles.departement_ids(user)
