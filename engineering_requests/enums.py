from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestState(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Déposée")
    IN_REVIEW = "in_review", _("En instruction")
    INFO_REQUESTED = "info_requested", _("Complément demandé")
    LOCAL_SUPPORT = "local_support", _("Accompagnement local")
    ESCALATED = "escalated", _("Transmise à l'ANCT")
    NATIONAL_SUPPORT = "national_support", _("Appui national accordé")
    DECLINED = "declined", _("Non retenue")
    WITHDRAWN = "withdrawn", _("Retirée")
    COMPLETED = "completed", _("Terminée")

    @classmethod
    def open_states(cls) -> list[str]:
        """States in which someone still has to act on the request."""
        return [cls.SUBMITTED, cls.IN_REVIEW, cls.INFO_REQUESTED, cls.ESCALATED]

    @classmethod
    def closed_states(cls) -> list[str]:
        return [cls.DECLINED, cls.WITHDRAWN, cls.COMPLETED]


class Transition(models.TextChoices):
    """Transition names, as the methods of ``EngineeringRequest`` (DESIGN §3)."""

    SUBMIT = "submit", _("Dépôt de la demande")
    START_REVIEW = "start_review", _("Prise en charge par le délégué territorial")
    REQUEST_INFO = "request_info", _("Demande de complément")
    PROVIDE_INFO = "provide_info", _("Complément apporté")
    RESOLVE_LOCALLY = "resolve_locally", _("Réponse locale, interlocuteur unique désigné")
    ESCALATE = "escalate", _("Transmission à l'ANCT")
    APPROVE_NATIONAL = "approve_national", _("Appui national accordé")
    REFER_BACK = "refer_back", _("Renvoi au département")
    DECLINE = "decline", _("Demande non retenue")
    WITHDRAW = "withdraw", _("Demande retirée")
    COMPLETE = "complete", _("Accompagnement terminé")


class EngineeringKind(models.TextChoices):
    STUDY = "study", _("Étude (opportunité, faisabilité, programmation)")
    PROJECT_MANAGEMENT = "project_management", _("Assistance à maîtrise d'ouvrage")
    TECHNICAL_EXPERTISE = "technical_expertise", _("Expertise technique")
    FINANCIAL = "financial", _("Ingénierie financière")
    CONSULTATION = "consultation", _("Concertation et participation")
    OTHER = "other", _("Autre")


class MessageKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    INTERNAL_NOTE = "internal_note", _("Note interne (équipes de l'État uniquement)")
    PROGRESS_NOTE = "progress_note", _("Point d'avancement de l'interlocuteur unique")


class EscalationGround(models.TextChoices):
    """Grounds a delegate can claim when asking ANCT for national support."""

    FRAGILITY = "fragility", _("Fragilité de la collectivité")
    INSUFFICIENT_LOCAL_RESOURCES = (
        "insufficient_local_resources",
        _("Ressources locales insuffisantes"),
    )
    INNOVATIVE_OR_COMPLEX = "innovative_or_complex", _("Projet innovant ou complexe")
