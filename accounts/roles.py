"""Who a user is for the portal. Roles come from memberships, never from a free-text field.

- official: member of one or more collectivités (``CollectivityMembership``);
- delegate: covers one or more départements (``DelegateAssignment``);
- national staff: member of the ``NATIONAL_STAFF_GROUP`` group;
- local contact: named as interlocuteur unique on a request (by e-mail).

The answers are cached on the user object for the duration of a request.
"""

import functools

from django.db import connection
from django.db.models import Exists, OuterRef

NATIONAL_STAFF_GROUP = "Équipe nationale ANCT"
DELEGATES_GROUP = "Délégués territoriaux"

_CACHE_ATTR = "_portal_roles_cache"


@functools.cache
def _roles_sql() -> str:
    """The three memberships in one round trip (every signed-in page asks): a UNION ALL of
    (kind, id) pairs. Plain SQL: the ORM took 1 ms of CPU to build this union, the database
    answers in 0.05 ms. Table names come from the models."""
    from django.contrib.auth.models import Group

    from accounts.models import CollectivityMembership, DelegateAssignment, User

    quote = connection.ops.quote_name
    memberships = quote(CollectivityMembership._meta.db_table)
    assignments = quote(DelegateAssignment._meta.db_table)
    groups = quote(Group._meta.db_table)
    user_groups = quote(User.groups.through._meta.db_table)
    # Quoted table names from the models; the values go as parameters.
    return (
        f"SELECT 1, collectivity_id FROM {memberships} WHERE user_id = %s"  # noqa: S608
        f" UNION ALL SELECT 2, departement_id FROM {assignments} WHERE user_id = %s"
        f" UNION ALL SELECT 3, g.id FROM {groups} g JOIN {user_groups} ug ON ug.group_id = g.id"
        " WHERE ug.user_id = %s AND g.name = %s"
    )


def _roles(user) -> dict:
    if not getattr(user, "is_authenticated", False):
        return {"collectivity_ids": (), "departement_ids": (), "national": False}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    with connection.cursor() as cursor:
        cursor.execute(_roles_sql(), [user.pk, user.pk, user.pk, NATIONAL_STAFF_GROUP])
        rows = cursor.fetchall()
    collectivity_ids = tuple(pk for kind, pk in rows if kind == 1)
    departement_ids = tuple(pk for kind, pk in rows if kind == 2)
    national = any(kind == 3 for kind, _pk in rows)
    cached = {
        "collectivity_ids": collectivity_ids,
        "departement_ids": departement_ids,
        "national": national,
    }
    setattr(user, _CACHE_ATTR, cached)
    return cached


def clear_role_cache(user) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def collectivity_ids(user) -> tuple[int, ...]:
    return _roles(user)["collectivity_ids"]


def departement_ids(user) -> tuple[int, ...]:
    return _roles(user)["departement_ids"]


def is_official(user) -> bool:
    return bool(collectivity_ids(user))


def is_delegate(user) -> bool:
    return bool(departement_ids(user))


def is_national_staff(user) -> bool:
    return _roles(user)["national"]


def is_staff_role(user) -> bool:
    """Delegates and national staff work in the admin; officials never do."""
    return is_delegate(user) or is_national_staff(user)


def national_staff_users():
    from accounts.models import User

    return User.objects.filter(is_active=True, groups__name=NATIONAL_STAFF_GROUP)


def delegates_of(departement_id):
    from accounts.models import DelegateAssignment, User

    return User.objects.filter(
        Exists(
            DelegateAssignment.objects.filter(user=OuterRef("pk"), departement_id=departement_id)
        ),
        is_active=True,
    )
