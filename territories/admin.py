"""Admin of the reference territories: searchable, read-mostly.

The rows come from ``load_territories``; staff may correct a value, only superusers may add or
delete one (a deletion would be undone, or blocked by PROTECT, anyway).
"""

from django.contrib import admin

from territories.models import EPCI, Collectivity, Commune, Departement, Region
from territories.text import normalize


class ReferenceDataAdmin(admin.ModelAdmin):
    # Counting 36,000 rows on every filtered page is wasted work.
    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Region)
class RegionAdmin(ReferenceDataAdmin):
    list_display = ["code", "name", "zone"]
    list_filter = ["zone"]
    search_fields = ["code", "name"]
    ordering = ["code"]


@admin.register(Departement)
class DepartementAdmin(ReferenceDataAdmin):
    list_display = ["code", "name", "region", "zone"]
    list_filter = ["zone", "region"]
    list_select_related = ["region"]
    search_fields = ["code", "name"]
    ordering = ["code"]


@admin.register(EPCI)
class EPCIAdmin(ReferenceDataAdmin):
    list_display = ["siren", "name", "kind", "population", "departement"]
    list_filter = ["kind", "departement__region"]
    list_select_related = ["departement"]
    search_fields = ["siren", "name"]
    autocomplete_fields = ["departement"]


@admin.register(Commune)
class CommuneAdmin(ReferenceDataAdmin):
    list_display = ["code", "name", "departement", "population", "epci"]
    list_filter = ["departement__region"]
    list_select_related = ["departement", "epci"]
    search_fields = ["=code", "name", "=siren"]
    autocomplete_fields = ["departement", "epci"]


@admin.register(Collectivity)
class CollectivityAdmin(ReferenceDataAdmin):
    list_display = ["name", "kind", "code", "departement", "population"]
    list_filter = ["kind", "departement__region"]
    list_select_related = ["departement"]
    search_fields = ["=code", "search_name"]
    readonly_fields = ["search_name"]
    autocomplete_fields = ["departement", "commune", "epci", "region"]

    def get_search_results(self, request, queryset, search_term):
        # Same keys as the stored search_name: "st etienne" finds "Saint-Étienne".
        normalized = normalize(search_term)
        queryset, may_have_duplicates = super().get_search_results(request, queryset, normalized)
        if search_term.strip():
            queryset |= self.model.objects.filter(code=search_term.strip().upper())
        return queryset, may_have_duplicates
