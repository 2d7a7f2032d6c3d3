"""The admin site: only staff roles get in.

Django's stock site lets in any active account flagged ``is_staff``. Here the flag is not
enough: the account must also be a delegate or national staff (``accounts.roles``), or a
superuser (support). Officials are never staff; an account flagged staff by mistake, or
whose last role was removed, is shown the sign-in page instead of the back office.
"""

from django.contrib import admin


class PortalAdminSite(admin.AdminSite):
    def has_permission(self, request):
        from engineering_requests.admin.access import is_backoffice_user

        return is_backoffice_user(request.user)
