"""The ANCT support offer: programmes, contracts, domains, operators, local providers.

Catalogue rows (domains, programmes, contracts, operators, framework agreements) are seeded by
``manage.py load_programmes`` and then edited in the admin. Each model lists in
``LOADER_OWNED_FIELDS`` the fields the loader keeps in line with the national catalogue on every
run; every other field (descriptions, links, display order…) is written once, at creation, and
never overwritten afterwards. Rows created in the admin (``source == "admin"``) are never touched.

Memberships (``ProgrammeTerritory``, ``ProgrammeMembership``) belong to
``manage.py import_programme_members``: each import replaces a programme's list.
"""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from programmes.enums import CatalogueSource, ContractKind, ProgrammeStatus, ProviderKind

_OWNED = _("Tenu à jour par load_programmes pour les entrées du catalogue national.")
_EDITORIAL = _("Écrit une fois par load_programmes ; vos modifications sont conservées.")


class CatalogueEntry(models.Model):
    """Marks who created a catalogue row, so that the loader only updates its own rows."""

    LOADER_OWNED_FIELDS: tuple[str, ...] = ()

    source = models.CharField(
        _("origine"),
        max_length=10,
        choices=CatalogueSource.choices,
        default=CatalogueSource.ADMIN,
        editable=False,
        help_text=_(
            "Catalogue national : créé et tenu à jour par load_programmes. "
            "Administration : créé à la main, jamais modifié par le chargement."
        ),
    )

    class Meta:
        abstract = True


class PriorityDomain(CatalogueEntry):
    """A priority domain of the roadmap, on two levels (theme → item)."""

    LOADER_OWNED_FIELDS = ("name", "parent", "position")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=200)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("thème"),
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("domaine prioritaire")
        verbose_name_plural = _("domaines prioritaires")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Programme(CatalogueEntry):
    """A national support programme ("programme national d'appui")."""

    LOADER_OWNED_FIELDS = ("name", "domain", "status", "start_date", "end_date")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("nom"), max_length=200, help_text=_OWNED)
    short_description = models.CharField(
        _("présentation courte"), max_length=300, blank=True, help_text=_EDITORIAL
    )
    description = models.TextField(_("description"), blank=True, help_text=_EDITORIAL)
    domain = models.ForeignKey(
        PriorityDomain,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="programmes",
        verbose_name=_("domaine prioritaire"),
        help_text=_OWNED,
    )
    status = models.CharField(
        _("statut"),
        max_length=10,
        choices=ProgrammeStatus.choices,
        default=ProgrammeStatus.ACTIVE,
        help_text=_OWNED,
    )
    start_date = models.DateField(_("date de début"), null=True, blank=True, help_text=_OWNED)
    end_date = models.DateField(_("date de fin"), null=True, blank=True, help_text=_OWNED)
    # Official pages of the State often have long paths.
    url = models.URLField(_("lien officiel"), max_length=500, blank=True, help_text=_EDITORIAL)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0, help_text=_EDITORIAL)
    members_imported_at = models.DateTimeField(
        _("liste des membres importée le"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Date du dernier import_programme_members de ce programme."),
    )

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("programmes:programme_detail", kwargs={"code": self.code})


class Contract(CatalogueEntry):
    """A territorial cohesion contract or pact, with the territories it covers.

    The territories are a union: a commune is covered when it is listed, when its EPCI is
    listed or when its département is listed. The loader adds the territories of the national
    catalogue and never removes those added in the admin.
    """

    LOADER_OWNED_FIELDS = ("name", "kind", "status", "start_date", "end_date")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("nom"), max_length=200, help_text=_OWNED)
    kind = models.CharField(
        _("nature"), max_length=30, choices=ContractKind.choices, help_text=_OWNED
    )
    description = models.TextField(_("description"), blank=True, help_text=_EDITORIAL)
    status = models.CharField(
        _("statut"),
        max_length=10,
        choices=ProgrammeStatus.choices,
        default=ProgrammeStatus.ACTIVE,
        help_text=_OWNED,
    )
    start_date = models.DateField(_("date de début"), null=True, blank=True, help_text=_OWNED)
    end_date = models.DateField(_("date de fin"), null=True, blank=True, help_text=_OWNED)
    # Official pages of the State often have long paths.
    url = models.URLField(_("lien officiel"), max_length=500, blank=True, help_text=_EDITORIAL)
    departements = models.ManyToManyField(
        "territories.Departement",
        blank=True,
        related_name="contracts",
        verbose_name=_("départements couverts"),
    )
    epcis = models.ManyToManyField(
        "territories.EPCI", blank=True, related_name="contracts", verbose_name=_("EPCI couverts")
    )
    communes = models.ManyToManyField(
        "territories.Commune",
        blank=True,
        related_name="contracts",
        verbose_name=_("communes couvertes"),
    )

    class Meta:
        verbose_name = _("contrat ou pacte territorial")
        verbose_name_plural = _("contrats et pactes territoriaux")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Operator(CatalogueEntry):
    """A "first circle" operator with which ANCT has framework agreements."""

    LOADER_OWNED_FIELDS = ("name",)

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("nom"), max_length=200, help_text=_OWNED)
    description = models.TextField(_("description"), blank=True, help_text=_EDITORIAL)
    url = models.URLField(_("site"), blank=True, help_text=_EDITORIAL)

    class Meta:
        verbose_name = _("opérateur")
        verbose_name_plural = _("opérateurs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FrameworkAgreement(CatalogueEntry):
    """A framework agreement ("convention-cadre") between ANCT and a first-circle operator."""

    # Signature and end dates are not in the roadmap: they are filled in the admin.
    LOADER_OWNED_FIELDS = ("operator", "name")

    operator = models.ForeignKey(
        Operator,
        on_delete=models.PROTECT,
        related_name="framework_agreements",
        verbose_name=_("opérateur"),
        help_text=_OWNED,
    )
    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("intitulé"), max_length=250, help_text=_OWNED)
    description = models.TextField(_("description"), blank=True, help_text=_EDITORIAL)
    signed_on = models.DateField(_("signée le"), null=True, blank=True)
    ends_on = models.DateField(_("échéance"), null=True, blank=True)

    class Meta:
        verbose_name = _("convention-cadre")
        verbose_name_plural = _("conventions-cadres")
        ordering = ["operator__name", "name"]

    def __str__(self) -> str:
        return self.name


class LocalProvider(models.Model):
    """An engineering provider of a département's local ecosystem.

    Delegates pick one as the "interlocuteur unique" when they resolve a request locally.
    """

    name = models.CharField(_("nom"), max_length=250)
    kind = models.CharField(_("nature"), max_length=30, choices=ProviderKind.choices)
    departement = models.ForeignKey(
        "territories.Departement",
        on_delete=models.PROTECT,
        related_name="local_providers",
        verbose_name=_("département"),
    )
    operator = models.ForeignKey(
        Operator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="local_offices",
        verbose_name=_("opérateur"),
    )
    contact_name = models.CharField(_("personne à contacter"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    website = models.URLField(_("site"), blank=True)
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("acteur local de l'ingénierie")
        verbose_name_plural = _("annuaire des acteurs locaux")
        ordering = ["departement__code", "name"]
        indexes = [
            models.Index(fields=["departement", "is_active"], name="provider_dep_active_idx")
        ]

    def __str__(self) -> str:
        return self.name


class ProgrammeTerritory(models.Model):
    """A programme's local "territoire" (e.g. one PVD convention) grouping members.

    Written by ``import_programme_members``: ``signed_on`` is the earliest signature date of
    its members.
    """

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="territories", verbose_name=_("programme")
    )
    external_id = models.CharField(_("identifiant"), max_length=100)
    name = models.CharField(_("nom"), max_length=250)
    signed_on = models.DateField(_("date de signature"), null=True, blank=True)

    class Meta:
        verbose_name = _("territoire de programme")
        verbose_name_plural = _("territoires de programme")
        ordering = ["programme", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "external_id"], name="programme_territory_unique_id"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ProgrammeMembership(models.Model):
    """A commune or EPCI that belongs to a programme, through one of its territories.

    Written by ``import_programme_members``; an import removes the memberships its file no
    longer lists.
    """

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("programme")
    )
    territory = models.ForeignKey(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("territoire"),
    )
    commune = models.ForeignKey(
        "territories.Commune",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="programme_memberships",
        verbose_name=_("commune"),
    )
    epci = models.ForeignKey(
        "territories.EPCI",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="programme_memberships",
        verbose_name=_("EPCI"),
    )
    signed_on = models.DateField(_("date de signature"), null=True, blank=True)

    class Meta:
        verbose_name = _("membre d'un programme")
        verbose_name_plural = _("membres des programmes")
        constraints = [
            models.CheckConstraint(
                condition=(Q(commune__isnull=False, epci__isnull=True))
                | (Q(commune__isnull=True, epci__isnull=False)),
                name="membership_commune_xor_epci",
            ),
            models.UniqueConstraint(
                fields=["territory", "commune"],
                condition=Q(commune__isnull=False),
                name="membership_unique_commune",
            ),
            models.UniqueConstraint(
                fields=["territory", "epci"],
                condition=Q(epci__isnull=False),
                name="membership_unique_epci",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "commune"], name="membership_prog_commune_idx"),
            models.Index(fields=["programme", "epci"], name="membership_prog_epci_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} – {self.commune or self.epci}"
