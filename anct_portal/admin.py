"""The admin site: only staff roles get in.

Django's stock site lets in any active account flagged ``is_staff``. Here the flag is not
enough: the account must also be a delegate or national staff (``accounts.roles``), or a
superuser (support). Officials are never staff; an account flagged staff by mistake, or
whose last role was removed, is shown the sign-in page instead of the back office.
"""

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.http import Http404
from django.urls import path


class PortalAdminSite(admin.AdminSite):
    def has_permission(self, request):
        from engineering_requests.admin.access import is_backoffice_user

        return is_backoffice_user(request.user)

    def get_urls(self):
        # "View on site" redirects only to what the user may see in the admin: the stock
        # shortcut would answer 302 for any existing id (and 404 otherwise), telling a
        # delegate which requests of other départements exist.
        urls = super().get_urls()
        checked = path(
            "r/<int:content_type_id>/<path:object_id>/",
            self.admin_view(self.view_on_site),
            name="view_on_site",
        )
        return [checked if getattr(u, "name", None) == "view_on_site" else u for u in urls]

    def view_on_site(self, request, content_type_id, object_id):
        try:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
        except ContentType.DoesNotExist:
            raise Http404 from None
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.has_view_or_change_permission(request):
            raise Http404
        if model_admin.get_object(request, object_id) is None:  # scoped queryset
            raise Http404
        return shortcut(request, content_type_id, object_id)
