from django.contrib import admin

from engineering_requests import selectors
from engineering_requests.models import EngineeringRequest


@admin.register(EngineeringRequest)
class EngineeringRequestAdmin(admin.ModelAdmin):
    list_display = ("reference", "title", "state", "departement", "submitted_at")
    list_select_related = ("departement",)
    show_full_result_count = False
    search_fields = ("reference", "title")

    def get_queryset(self, request):
        return selectors.visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff
