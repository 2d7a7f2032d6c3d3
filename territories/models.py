"""French territories, COG 2026 (INSEE), loaded by ``manage.py load_territories``."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from territories.enums import CollectivityKind, EPCIKind, Zone


class Region(models.Model):
    code = models.CharField(_("code INSEE"), max_length=3, unique=True)
    name = models.CharField(_("nom"), max_length=100)
    zone = models.CharField(_("zone"), max_length=5, choices=Zone.choices, default=Zone.METRO)

    class Meta:
        verbose_name = _("région")
        verbose_name_plural = _("régions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Departement(models.Model):
    code = models.CharField(_("code INSEE"), max_length=3, unique=True)
    name = models.CharField(_("nom"), max_length=100)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="departements", verbose_name=_("région")
    )
    zone = models.CharField(_("zone"), max_length=5, choices=Zone.choices, default=Zone.METRO)

    class Meta:
        verbose_name = _("département")
        verbose_name_plural = _("départements")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class EPCI(models.Model):
    """Établissement public de coopération intercommunale à fiscalité propre."""

    siren = models.CharField(_("SIREN"), max_length=9, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("nature"), max_length=5, choices=EPCIKind.choices)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    departement = models.ForeignKey(
        Departement,
        on_delete=models.PROTECT,
        related_name="epcis",
        verbose_name=_("département principal"),
        help_text=_("Le département où vit la plus grande part de sa population."),
    )

    class Meta:
        verbose_name = _("EPCI")
        verbose_name_plural = _("EPCI")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("programmes:epci", kwargs={"siren": self.siren})


class Commune(models.Model):
    code = models.CharField(_("code INSEE"), max_length=5, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True, db_index=True)
    departement = models.ForeignKey(
        Departement,
        on_delete=models.PROTECT,
        related_name="communes",
        verbose_name=_("département"),
    )
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    epci = models.ForeignKey(
        EPCI,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communes",
        verbose_name=_("EPCI"),
    )

    class Meta:
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("programmes:commune", kwargs={"code": self.code})


class Collectivity(models.Model):
    """A local authority that can carry an engineering request and have officials.

    One row per commune, EPCI, département and région, so that requests and memberships point
    at a single table whatever the level of the collectivité. ``departement`` is the département
    whose territorial delegate handles the collectivité's requests.
    """

    kind = models.CharField(_("type"), max_length=12, choices=CollectivityKind.choices)
    code = models.CharField(_("code"), max_length=9, help_text=_("Code INSEE, ou SIREN d'un EPCI."))
    name = models.CharField(_("nom"), max_length=200)
    search_name = models.CharField(max_length=200, editable=False)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    departement = models.ForeignKey(
        Departement,
        on_delete=models.PROTECT,
        related_name="collectivities",
        verbose_name=_("département de rattachement"),
    )
    commune = models.OneToOneField(
        Commune, on_delete=models.PROTECT, null=True, blank=True, related_name="collectivity"
    )
    epci = models.OneToOneField(
        EPCI, on_delete=models.PROTECT, null=True, blank=True, related_name="collectivity"
    )
    region = models.OneToOneField(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="collectivity"
    )

    class Meta:
        verbose_name = _("collectivité")
        verbose_name_plural = _("collectivités")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="collectivity_unique_kind_code"),
        ]
        indexes = [
            models.Index(fields=["code"], name="collectivity_code_idx"),
        ]

    def __str__(self) -> str:
        if self.kind == CollectivityKind.COMMUNE:
            return f"{self.name} ({self.code})"
        return self.name

    def save(self, *args, **kwargs):
        from territories.text import normalize

        self.search_name = normalize(self.name)
        super().save(*args, **kwargs)
