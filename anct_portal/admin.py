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
from django.utils.functional import SimpleLazyObject


class PortalAdminSite(admin.AdminSite):
    # The sidebar repeated the index's list of models on every page; building that list asks
    # every registered model admin for its permissions (two permission queries, ~3 ms per
    # page). The breadcrumbs lead to the index, which lists the same models.
    enable_nav_sidebar = False

    def has_permission(self, request):
        from engineering_requests.admin.access import request_is_backoffice

        return request_is_backoffice(request)

    def each_context(self, request):
        """The stock context, with ``available_apps`` and ``log_entries`` built only if a page
        shows them (the index and the application pages do; the lists and forms no longer
        do)."""
        script_name = request.META["SCRIPT_NAME"]
        site_url = script_name if self.site_url == "/" and script_name else self.site_url
        return {
            "site_title": self.site_title,
            "site_header": self.site_header,
            "site_url": site_url,
            "has_permission": self.has_permission(request),
            "available_apps": SimpleLazyObject(lambda: self.get_app_list(request)),
            "is_popup": False,
            "is_nav_sidebar_enabled": self.enable_nav_sidebar,
            # Read by the index only (a queryset built for nothing on every other page).
            "log_entries": SimpleLazyObject(lambda: self.get_log_entries(request)),
        }

    def index(self, request, extra_context=None):
        from anct_portal import admin_index

        response = super().index(request, extra_context)
        admin_index.written_out(response)
        return response

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
