from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    IN_APP = "in_app", _("Dans le portail")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    SENT = "sent", _("Envoyée")
    FAILED = "failed", _("En échec")
