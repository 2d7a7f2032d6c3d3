"""The notification outbox: rows written in the same transaction as the event, delivered by
Celery after commit, so that nothing is lost when the broker or the mail server is down."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.enums import Channel, NotificationStatus


class Notification(models.Model):
    event = models.CharField(_("événement"), max_length=50)
    audience = models.CharField(_("destinataires"), max_length=50)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("destinataire"),
    )
    email = models.EmailField(_("adresse"), blank=True)
    engineering_request = models.ForeignKey(
        "engineering_requests.EngineeringRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("demande"),
    )
    context = models.JSONField(_("contexte"), default=dict, blank=True)
    status = models.CharField(
        _("statut"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    dedup_key = models.CharField(_("clé d'unicité"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="notification_status_idx"),
            models.Index(fields=["recipient", "channel", "read_at"], name="notification_inbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.email or self.recipient_id} ({self.get_channel_display()})"
