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


_MEMO_ATTR = "_backoffice_user_memo"


def request_is_backoffice(request) -> bool:
    """``is_backoffice_user(request.user)``, answered once per request (the admin asks about
    nine times a change list: the site, the model admin, each action). Kept with the user it
    was asked about: a sign-in or sign-out in the request asks again."""
    user = request.user
    memo = request.__dict__.get(_MEMO_ATTR)
    if memo is not None and memo[0] is user:
        return memo[1]
    answer = is_backoffice_user(user)
    setattr(request, _MEMO_ATTR, (user, answer))
    return answer


class RoleBasedAdminMixin:
    """Read-only admin for delegates, national staff and superusers (les-emplois style).

    Every write goes through the workflow services, never through a model form, so no user is
    given add, change or delete here; subclasses open views for the actions they allow.
    """

    def has_module_permission(self, request):
        return request_is_backoffice(request)

    def has_view_permission(self, request, obj=None):
        return request_is_backoffice(request)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NationalStaffAdminMixin(RoleBasedAdminMixin):
    """Pages meant for ANCT head office only (and superusers, for support)."""

    @staticmethod
    def _is_national(request) -> bool:
        user = request.user
        return request_is_backoffice(request) and (
            roles.is_national_staff(user) or user.is_superuser
        )

    def has_module_permission(self, request):
        return self._is_national(request)

    def has_view_permission(self, request, obj=None):
        return self._is_national(request)
