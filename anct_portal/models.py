from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FormSubmission(models.Model):
    """A one-time form token, claimed by the first POST that carries it.

    Every portal form carries a random token; the view claims it in the same transaction as
    its writes. A second POST with the same token (double click, resent form) finds the row —
    under PostgreSQL it waits for the first transaction, then hits the unique index — and is
    sent to the first one's result instead of doing the work twice.
    """

    token = models.CharField(_("jeton"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="form_submissions",
        db_index=False,  # (user, created_at) below serves the lookups by user
    )
    object_id = models.BigIntegerField(_("objet créé"), null=True, blank=True)
    result_url = models.CharField(_("page de résultat"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("date"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("envoi de formulaire")
        verbose_name_plural = _("envois de formulaires")
        indexes = [
            # Every claim deletes the user's tokens older than a week: without it, that scanned
            # all of the user's tokens (1.5 ms for 8,000, on each POST of a busy account).
            models.Index(fields=["user", "created_at"], name="formsubmission_user_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.result_url}"
