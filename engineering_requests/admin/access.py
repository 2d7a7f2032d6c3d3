"""Who may use the admin, from ``accounts.roles`` rather than Django model permissions.

Delegates and national staff work in the admin without any per-model permission to set up:
their role (a ``DelegateAssignment`` or the national group) is the permission, and their scope
comes from ``selectors.backoffice_visible_to``. Officials are never staff and cannot sign in to
the admin; an account wrongly flagged ``is_staff`` without a role sees nothing. Superusers keep
read access for support, but the workflow services refuse them any action unless they also
hold a role.
"""

from accounts import roles


def is_backoffice_user(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return False
    return roles.is_staff_role(user) or user.is_superuser


class RoleBasedAdminMixin:
    """Read-only admin for delegates, national staff and superusers (les-emplois style).

    Every write goes through the workflow services, never through a model form, so no user is
    given add, change or delete here; subclasses open views for the actions they allow.
    """

    def has_module_permission(self, request):
        return is_backoffice_user(request.user)

    def has_view_permission(self, request, obj=None):
        return is_backoffice_user(request.user)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NationalStaffAdminMixin(RoleBasedAdminMixin):
    """Pages meant for ANCT head office only (and superusers, for support)."""

    @staticmethod
    def _is_national(user) -> bool:
        return is_backoffice_user(user) and (roles.is_national_staff(user) or user.is_superuser)

    def has_module_permission(self, request):
        return self._is_national(request.user)

    def has_view_permission(self, request, obj=None):
        return self._is_national(request.user)
