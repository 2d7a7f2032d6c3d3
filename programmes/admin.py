"""Admin of the support offer.

Catalogue rows seeded by ``load_programmes`` show the fields the loader owns as read-only (the
next load would overwrite an edit); their descriptions and links stay editable. Memberships
are read-only: ``import_programme_members`` replaces them from the official files.
"""

from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from programmes.enums import CatalogueSource
from programmes.models import (
    Contract,
    FrameworkAgreement,
    LocalProvider,
    Operator,
    PriorityDomain,
    Programme,
    ProgrammeMembership,
    ProgrammeTerritory,
)
from territories.models import EPCI, Commune, Departement

# Links typed without a scheme are official sites: https (and Django 6's default).
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class CatalogueAdmin(admin.ModelAdmin):
    """Locks the code and the loader-owned fields of rows that come from the catalogue."""

    formfield_overrides = URL_FIELDS

    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), "source"]
        if obj is not None and obj.source == CatalogueSource.CATALOGUE:
            fields += ["code", *self.model.LOADER_OWNED_FIELDS]
        return fields


@admin.register(PriorityDomain)
class PriorityDomainAdmin(CatalogueAdmin):
    list_display = ("name", "code", "parent", "position", "source")
    list_filter = ("source", ("parent", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("parent",)
    search_fields = ("code", "name")
    ordering = ("parent__position", "position", "name")


@admin.register(Programme)
class ProgrammeAdmin(CatalogueAdmin):
    list_display = (
        "name",
        "code",
        "domain",
        "status",
        "start_date",
        "end_date",
        "source",
        "members",
    )
    list_filter = ("status", "source")
    list_select_related = ("domain",)
    search_fields = ("code", "name", "short_description")
    autocomplete_fields = ("domain",)
    readonly_fields = ("members_imported_at",)
    fieldsets = (
        (None, {"fields": ("code", "name", "domain", "status", "start_date", "end_date")}),
        (_("Présentation"), {"fields": ("short_description", "description", "url", "position")}),
        (_("Origine"), {"fields": ("source", "members_imported_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description=_("membres"), ordering="member_count")
    def members(self, obj):
        url = reverse("admin:programmes_programmemembership_changelist")
        return format_html(
            '<a href="{}?programme__id__exact={}">{}</a>', url, obj.pk, obj.member_count
        )


@admin.register(Contract)
class ContractAdmin(CatalogueAdmin):
    list_display = ("name", "code", "kind", "status", "start_date", "end_date", "source")
    list_filter = ("kind", "status", "source")
    search_fields = ("code", "name", "description")
    autocomplete_fields = ("departements", "epcis", "communes")
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "status", "start_date", "end_date")}),
        (_("Présentation"), {"fields": ("description", "url")}),
        (
            _("Territoires couverts"),
            {
                "description": _(
                    "Une commune est couverte si elle, son intercommunalité ou son département "
                    "est listé. load_programmes ajoute les territoires du catalogue national "
                    "et ne retire jamais ceux ajoutés ici."
                ),
                "fields": ("departements", "epcis", "communes"),
            },
        ),
        (_("Origine"), {"fields": ("source",)}),
    )


class FrameworkAgreementInline(admin.TabularInline):
    model = FrameworkAgreement
    fields = ("name", "signed_on", "ends_on")
    readonly_fields = ("name", "signed_on", "ends_on")
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Operator)
class OperatorAdmin(CatalogueAdmin):
    list_display = ("name", "code", "url", "source")
    list_filter = ("source",)
    search_fields = ("code", "name")
    inlines = (FrameworkAgreementInline,)


@admin.register(FrameworkAgreement)
class FrameworkAgreementAdmin(CatalogueAdmin):
    list_display = ("name", "code", "operator", "signed_on", "ends_on", "source")
    list_filter = ("operator", "source")
    list_select_related = ("operator",)
    search_fields = ("code", "name", "operator__name")
    autocomplete_fields = ("operator",)


@admin.register(LocalProvider)
class LocalProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "departement", "operator", "contact_name", "email", "is_active")
    list_filter = ("kind", "is_active", "operator", "departement")
    list_select_related = ("departement", "operator")
    search_fields = ("name", "contact_name", "email", "departement__code", "departement__name")
    autocomplete_fields = ("departement", "operator")
    show_full_result_count = False
    formfield_overrides = URL_FIELDS


class ImportedDataAdmin(admin.ModelAdmin):
    """View-only: ``import_programme_members`` is the only writer."""

    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProgrammeTerritory)
class ProgrammeTerritoryAdmin(ImportedDataAdmin):
    list_display = ("name", "external_id", "programme", "signed_on")
    list_filter = ("programme",)
    list_select_related = ("programme",)
    search_fields = ("name", "external_id")


@admin.register(ProgrammeMembership)
class ProgrammeMembershipAdmin(ImportedDataAdmin):
    list_display = ("member", "programme", "territory", "signed_on")
    list_filter = ("programme",)
    list_select_related = ("programme", "territory", "commune", "epci")
    search_fields = (
        "commune__name",
        "=commune__code",
        "epci__name",
        "=epci__siren",
        "territory__name",
        "=territory__external_id",
    )

    @admin.display(description=_("membre"))
    def member(self, obj):
        return obj.commune or obj.epci


# The territories app owns the admin of its models; until it registers them, these minimal
# ones give the autocomplete fields above something to search.
_MINIMAL_TERRITORY_ADMINS = {
    Departement: {"search_fields": ("code", "name"), "list_display": ("code", "name")},
    EPCI: {
        "search_fields": ("=siren", "name"),
        "list_display": ("name", "siren", "departement"),
        "list_select_related": ("departement",),
        "show_full_result_count": False,
    },
    Commune: {
        "search_fields": ("=code", "name", "=siren"),
        "list_display": ("name", "code", "departement", "epci"),
        "list_select_related": ("departement", "epci"),
        "show_full_result_count": False,
    },
}
for _model, _options in _MINIMAL_TERRITORY_ADMINS.items():
    if not admin.site.is_registered(_model):
        admin.site.register(_model, type(f"{_model.__name__}Admin", (admin.ModelAdmin,), _options))
