from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.managers import UserManager

DELETED_ACCOUNT_LABEL = _("Compte supprimé")


class User(AbstractBaseUser, PermissionsMixin):
    """A person using the portal. Roles hang on it through memberships (see ``accounts.roles``)."""

    email = models.EmailField(_("adresse e-mail"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    job_title = models.CharField(
        _("fonction"), max_length=200, blank=True, help_text=_("Par exemple : maire, DGS.")
    )
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    is_staff = models.BooleanField(
        _("accès à l'administration"),
        default=False,
        help_text=_("Délégués territoriaux et équipe nationale uniquement."),
    )
    is_active = models.BooleanField(_("actif"), default=True)
    date_joined = models.DateTimeField(_("date d'inscription"), default=timezone.now)
    # Set by ``accounts.services.delete_account``: the row stays (the audit trail points to it)
    # but holds nothing personal any more.
    deleted_at = models.DateTimeField(_("compte supprimé le"), null=True, blank=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        ordering = ["last_name", "first_name", "email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        if self.deleted_at is not None:
            return str(DELETED_ACCOUNT_LABEL)
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        if self.deleted_at is not None:
            return str(DELETED_ACCOUNT_LABEL)
        return self.first_name or self.email


class CollectivityMembership(models.Model):
    """An official (elected or agent) acting for a collectivité."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="collectivity_memberships"
    )
    collectivity = models.ForeignKey(
        "territories.Collectivity",
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("collectivité"),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("rattachement à une collectivité")
        verbose_name_plural = _("rattachements aux collectivités")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "collectivity"], name="membership_unique_user_collectivity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.collectivity}"


class DelegateAssignment(models.Model):
    """A territorial delegate (or a member of their staff) covering a département."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="delegate_assignments")
    departement = models.ForeignKey(
        "territories.Departement",
        on_delete=models.PROTECT,
        related_name="delegate_assignments",
        verbose_name=_("département"),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("délégation territoriale")
        verbose_name_plural = _("délégations territoriales")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "departement"], name="delegate_unique_user_departement"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.departement}"
