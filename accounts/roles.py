"""Who a user is for the portal. Roles come from memberships, never from a free-text field.

- official: member of one or more collectivités (``CollectivityMembership``);
- delegate: covers one or more départements (``DelegateAssignment``);
- national staff: member of the ``NATIONAL_STAFF_GROUP`` group;
- local contact: named as interlocuteur unique on a request (by e-mail).

The answers are cached on the user object for the duration of a request.
"""

import functools

from django.db import connections, router

from anct_portal.prepared import prepared_cursor

NATIONAL_STAFF_GROUP = "Équipe nationale ANCT"
DELEGATES_GROUP = "Délégués territoriaux"

_CACHE_ATTR = "_portal_roles_cache"


def _roles(user) -> dict:
    if not getattr(user, "is_authenticated", False):
        return {"collectivity_ids": (), "departement_ids": (), "national": False}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    # One round trip for the three memberships (every signed-in page asks): a UNION ALL of
    # (kind, id) pairs, in SQL written once per process (the ORM spent ~0.8 ms of CPU building
    # this union on every request, for a 0.1 ms query).
    connection, sql = _roles_sql()
    with prepared_cursor(connection.alias) as cursor:
        cursor.execute(sql, [user.pk, user.pk, user.pk, NATIONAL_STAFF_GROUP])
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


@functools.cache
def _roles_sql_for(alias: str) -> str:
    from django.contrib.auth.models import Group

    from accounts.models import CollectivityMembership, DelegateAssignment, User

    qn = connections[alias].ops.quote_name

    def table(model):
        return qn(model._meta.db_table)

    def column(model, name):
        return qn(model._meta.get_field(name).column)

    groups = User.groups.through
    # Table and column names from the models; the values are parameters.
    return (
        f"SELECT 1, {column(CollectivityMembership, 'collectivity')} "  # noqa: S608
        f"FROM {table(CollectivityMembership)} "
        f"WHERE {column(CollectivityMembership, 'user')} = %s "
        f"UNION ALL SELECT 2, {column(DelegateAssignment, 'departement')} "
        f"FROM {table(DelegateAssignment)} WHERE {column(DelegateAssignment, 'user')} = %s "
        f"UNION ALL SELECT 3, g.{column(Group, 'id')} FROM {table(Group)} g "
        f"INNER JOIN {table(groups)} ug ON ug.{column(groups, 'group')} = g.{column(Group, 'id')} "
        f"WHERE ug.{column(groups, 'user')} = %s AND g.{column(Group, 'name')} = %s"
    )


def _roles_sql():
    from accounts.models import CollectivityMembership

    alias = router.db_for_read(CollectivityMembership)
    return connections[alias], _roles_sql_for(alias)


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


@functools.cache
def _delegates_query():
    from accounts.models import User
    from anct_portal.prepared import Prepared

    # A join rather than EXISTS: one assignment per (user, département) (a unique constraint),
    # so no duplicates. Compiled once per process: every submission asks (the ORM spent 0.35 ms
    # of CPU building it, for a 0.05 ms query).
    return Prepared(
        lambda p: User.objects.filter(
            is_active=True, delegate_assignments__departement_id=p.departement
        )
    )


def delegates_of(departement_id) -> list:
    """The active delegates of a département (a list of users, in the users' order)."""
    return _delegates_query().run(departement=departement_id)
