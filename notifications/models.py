"""The notification outbox: rows written in the same transaction as the event, delivered by
Celery after commit, so that nothing is lost when the broker or the mail server is down."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anct_portal.choices import FastChoicesDisplayMixin
from notifications.enums import Channel, NotificationStatus


class NotificationQuerySet(models.QuerySet):
    def inbox(self, user):
        """The in-app notifications of a user, newest first (whatever their delivery status:
        the row is visible as soon as the event's transaction has committed)."""
        return self.filter(recipient=user, channel=Channel.IN_APP).order_by("-created_at", "-pk")

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(FastChoicesDisplayMixin, models.Model):
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
    # When a retry is due (set by the task when it schedules one, and by the sweep when it
    # re-queues): the sweep leaves a row alone while its retry is on its way.
    retry_at = models.DateTimeField(_("prochaine tentative"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="notification_status_idx"),
            models.Index(fields=["recipient", "channel", "read_at"], name="notification_inbox_idx"),
            # The notification centre: a user's in-app rows, newest first.
            models.Index(
                fields=["recipient", "channel", "-created_at"], name="notification_centre_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.email or self.recipient_id} ({self.get_channel_display()})"

    @property
    def subject(self) -> str:
        return self.context.get("subject", "")

    @property
    def body(self) -> str:
        return self.context.get("body", "")

    @property
    def url(self) -> str:
        return self.context.get("url", "")

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """What a user chose to receive. Only digests are optional: workflow events and reminders
    are part of the service and always sent."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
        verbose_name=_("utilisateur"),
    )
    receive_digests = models.BooleanField(
        _("recevoir le récapitulatif hebdomadaire"),
        default=True,
        help_text=_(
            "Un e-mail chaque lundi avec les demandes en attente. Les notifications liées à vos "
            "demandes restent toujours envoyées."
        ),
    )
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("préférence de notification")
        verbose_name_plural = _("préférences de notification")

    def __str__(self) -> str:
        return str(self.user)

    @classmethod
    def receives_digests(cls, user) -> bool:
        preference = cls.objects.filter(user=user).only("receive_digests").first()
        return preference is None or preference.receive_digests
