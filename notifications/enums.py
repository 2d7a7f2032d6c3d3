from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    IN_APP = "in_app", _("Dans le portail")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    SENT = "sent", _("Envoyée")
    FAILED = "failed", _("En échec")


class PeriodicEvent(models.TextChoices):
    """Events raised by Celery beat rather than by a workflow action."""

    REMINDER_DELEGATE = "reminder_delegate", _("Rappel : demande en attente du délégué")
    REMINDER_NATIONAL = "reminder_national", _("Rappel : transmission en attente de l'ANCT")
    DIGEST_DELEGATE = "digest_delegate", _("Récapitulatif hebdomadaire du département")
    DIGEST_NATIONAL = "digest_national", _("Récapitulatif hebdomadaire de la file nationale")

    @classmethod
    def digests(cls) -> list[str]:
        return [cls.DIGEST_DELEGATE, cls.DIGEST_NATIONAL]
