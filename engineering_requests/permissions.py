"""Who may do what on a request: role plus scope. Used by the transitions' ``permission=`` and by
the services, which check them on the server every time."""

from accounts import roles
from engineering_requests.enums import RequestState


def is_member_official(engineering_request, user) -> bool:
    return engineering_request.collectivity_id in roles.collectivity_ids(user)


def is_delegate_of_departement(engineering_request, user) -> bool:
    return engineering_request.departement_id in roles.departement_ids(user)


def is_national_staff(engineering_request, user) -> bool:
    return roles.is_national_staff(user)


def is_local_contact(engineering_request, user) -> bool:
    email = getattr(user, "email", "") or ""
    return bool(email) and engineering_request.contact_email.lower() == email.lower()


def may_complete(engineering_request, user) -> bool:
    if engineering_request.state == RequestState.LOCAL_SUPPORT:
        return is_delegate_of_departement(engineering_request, user)
    if engineering_request.state == RequestState.NATIONAL_SUPPORT:
        return is_national_staff(engineering_request, user)
    return False


def in_scope(engineering_request, user) -> bool:
    """Whether the request is within this user's territory or role at all, whatever its state.

    Services check scope first (PermissionDenied), then the state (TransitionNotAllowed), then
    the role (PermissionDenied): a delegate acting on a draft of their département is told the
    action is not possible in this state, a delegate of another département is refused.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return (
        is_member_official(engineering_request, user)
        or is_delegate_of_departement(engineering_request, user)
        or is_national_staff(engineering_request, user)
        or is_local_contact(engineering_request, user)
    )


def can_view(engineering_request, user) -> bool:
    """Mirror of ``selectors.visible_to`` for a single loaded request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_member_official(engineering_request, user):
        return True
    if engineering_request.state == RequestState.DRAFT:
        return False
    return (
        is_delegate_of_departement(engineering_request, user)
        or is_national_staff(engineering_request, user)
        or is_local_contact(engineering_request, user)
    )


def is_staff_for(engineering_request, user) -> bool:
    """State staff working on this request: its delegates, or national staff."""
    return is_delegate_of_departement(engineering_request, user) or is_national_staff(
        engineering_request, user
    )
