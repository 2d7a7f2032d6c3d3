"""Reads. Views and the admin get requests only through ``visible_to``."""

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db import connections, router
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts import roles
from accounts.models import User
from anct_portal.prepared import Prepared, run_together
from engineering_requests import permissions
from engineering_requests.enums import MessageKind, RequestState
from engineering_requests.models import (
    Attachment,
    EngineeringRequest,
    RequestMessage,
    TransitionLog,
)
from programmes.models import Contract, Operator, Programme
from territories.models import Collectivity, Departement


def visible_to(user) -> QuerySet[EngineeringRequest]:
    """The requests this user may see.

    Officials: every request of their collectivités, drafts included. Delegates: the submitted
    requests of their départements. National staff: every submitted request. Local contacts:
    the requests they were named on. Anyone else: nothing.
    """
    queryset = EngineeringRequest.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    not_draft = ~Q(state=RequestState.DRAFT)
    scope = Q(pk__in=[])
    if collectivity_ids := roles.collectivity_ids(user):
        scope |= Q(collectivity_id__in=collectivity_ids)
    if roles.is_national_staff(user):
        scope |= not_draft
    elif departement_ids := roles.departement_ids(user):
        scope |= Q(departement_id__in=departement_ids) & not_draft
    if user.email:
        scope |= Q(contact_email=user.email.lower()) & not_draft
    return queryset.filter(scope)


def timeline(engineering_request) -> QuerySet[TransitionLog]:
    return engineering_request.transition_logs.select_related("actor").order_by("created_at", "pk")


def messages_for(engineering_request, user) -> QuerySet[RequestMessage]:
    """The thread as this user may read it: internal notes only for State staff."""
    from engineering_requests.permissions import is_staff_for

    queryset = engineering_request.messages.select_related("author").prefetch_related("attachments")
    if not is_staff_for(engineering_request, user):
        queryset = queryset.exclude(kind=MessageKind.INTERNAL_NOTE)
    return queryset.order_by("created_at", "pk")


def attachments_for(engineering_request, user):
    from engineering_requests.permissions import is_staff_for

    queryset = engineering_request.attachments.select_related("uploaded_by")
    if not is_staff_for(engineering_request, user):
        queryset = queryset.filter(is_internal=False)
    return queryset.order_by("created_at", "pk")


def backoffice_visible_to(user) -> QuerySet[EngineeringRequest]:
    """The requests this user works on in the admin: the State-staff part of ``visible_to``,
    limited to requests actually submitted (a draft withdrawn before submission never reached
    anyone).

    Delegates: the submitted requests of their départements; national staff: every submitted
    request; anyone else (officials, local contacts): nothing, even for requests they see on
    the portal. Superusers without a role see every submitted request, read-only, for support
    (the services still refuse them any action).

    Written as its own simple condition rather than ``visible_to(user).filter(...)``: the OR of
    every role in ``visible_to`` hides the département from PostgreSQL's estimates and turns a
    0.4 ms indexed page into a 15 ms sort (200,000 rows). A test checks it is a subset.
    """
    return backoffice_requests(backoffice_scope(user))


def backoffice_scope(user) -> tuple[int, ...] | None:
    """The départements of ``backoffice_visible_to``: None for all of them, () for none."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return ()
    if roles.is_national_staff(user):
        return None
    if departement_ids := roles.departement_ids(user):
        return departement_ids
    if user.is_superuser:
        return None
    return ()


# Scope -> its queryset, built once (never evaluated: each call returns a copy). The ORM spent
# ~0.2 ms of CPU building its three conditions on every admin page.
_BACKOFFICE_REQUESTS: dict[tuple[int, ...] | None, QuerySet[EngineeringRequest]] = {}
_BACKOFFICE_REQUESTS_MAX = 512


def backoffice_requests(departement_ids: tuple[int, ...] | None) -> QuerySet[EngineeringRequest]:
    """The submitted requests of these départements (``backoffice_scope``); a function of its
    argument only, so that the admin's change page can compile its SQL once per shape."""
    if departement_ids is not None:
        departement_ids = tuple(departement_ids)
    queryset = _BACKOFFICE_REQUESTS.get(departement_ids)
    if queryset is None:
        queryset = _build_backoffice_requests(departement_ids)
        if len(_BACKOFFICE_REQUESTS) >= _BACKOFFICE_REQUESTS_MAX:
            _BACKOFFICE_REQUESTS.clear()
        _BACKOFFICE_REQUESTS[departement_ids] = queryset
    return queryset.all()


def _build_backoffice_requests(departement_ids):
    queryset = EngineeringRequest.objects.filter(submitted_at__isnull=False).exclude(
        state=RequestState.DRAFT
    )
    if departement_ids is None:
        return queryset
    if not departement_ids:
        return queryset.none()
    return queryset.filter(departement_id__in=departement_ids)


# Portal pages ------------------------------------------------------------------------------


def of_my_collectivities(user) -> QuerySet[EngineeringRequest]:
    """ "Mes demandes": the visible requests carried by the user's own collectivités.

    The same rows as ``visible_to(user).filter(collectivity_id__in=…)`` (officials see every
    request of their collectivités), written without ``visible_to``'s OR so that the
    collectivity indexes serve the counts and the order (tests check both agree)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return EngineeringRequest.objects.none()
    return EngineeringRequest.objects.filter(collectivity_id__in=roles.collectivity_ids(user))


def followed_by(user) -> QuerySet[EngineeringRequest]:
    """The requests on which the user was named interlocuteur unique."""
    email = (getattr(user, "email", "") or "").lower()
    if not email:
        return EngineeringRequest.objects.none()
    return visible_to(user).filter(contact_email=email)


def waiting_first(queryset) -> QuerySet[EngineeringRequest]:
    """What waits for the official first: answers to give, then drafts, then the open ones
    (the order of the ``request_waiting_first_idx`` index)."""
    from engineering_requests.models import waiting_priority

    return queryset.annotate(priority=waiting_priority()).order_by(
        "priority", "-last_transition_at", "-pk"
    )


# The request page --------------------------------------------------------------------------
# Its queries have the same shape for every request: compiled once per process (building and
# compiling them with the ORM cost ~4 ms of CPU a page, PostgreSQL answers in ~0.2 ms). Tests
# check they give what the querysets above give.


# What the page shows of a person (``get_full_name`` needs ``deleted_at``): no password hash
# or other column read for it.
PAGE_PERSON_FIELDS = ("first_name", "last_name", "email", "job_title", "deleted_at")


def _with_person(queryset, relation):
    own = [field.name for field in queryset.model._meta.concrete_fields]
    return queryset.select_related(relation).only(
        *own, *(f"{relation}__{name}" for name in PAGE_PERSON_FIELDS)
    )


def _page_row(p):
    return EngineeringRequest.objects.filter(pk=p.request)


def _page_timeline(p):
    return _with_person(timeline(EngineeringRequest(pk=p.request)), "actor")


def _page_messages(staff):
    def build(p):
        queryset = RequestMessage.objects.filter(engineering_request_id=p.request)
        queryset = _with_person(queryset, "author")
        if not staff:
            queryset = queryset.exclude(kind=MessageKind.INTERNAL_NOTE)
        return queryset.order_by("created_at", "pk")

    return build


def _page_attachments(staff):
    def build(p):
        queryset = Attachment.objects.filter(engineering_request_id=p.request)
        queryset = _with_person(queryset, "uploaded_by")
        if not staff:
            queryset = queryset.filter(is_internal=False)
        return queryset.order_by("created_at", "pk")

    return build


def _page_domains(p):
    # The order's columns are selected too: the one-statement read aggregates the rows by them.
    return (
        EngineeringRequest(pk=p.request)
        .domains.order_by("position", "name")
        .values_list("name", "position")
    )


_PAGE_ROW = Prepared(_page_row)
_PAGE_LISTS = {
    "timeline": Prepared(_page_timeline),
    "messages": {staff: Prepared(_page_messages(staff)) for staff in (False, True)},
    "attachments": {staff: Prepared(_page_attachments(staff)) for staff in (False, True)},
    "domains": Prepared(_page_domains),
}
# What the page shows of the request's related rows, each read by its id (one row: no order).
_PAGE_RELATED = {
    "collectivity": Prepared(
        lambda p: Collectivity.objects.filter(pk=p.id).only("kind", "code", "name").order_by()
    ),
    "departement": Prepared(
        lambda p: Departement.objects.filter(pk=p.id).only("code", "name").order_by()
    ),
    "programme": Prepared(lambda p: Programme.objects.filter(pk=p.id).only("name").order_by()),
    "contract": Prepared(lambda p: Contract.objects.filter(pk=p.id).only("name").order_by()),
    "operator": Prepared(lambda p: Operator.objects.filter(pk=p.id).only("name").order_by()),
    "submitted_by": Prepared(
        lambda p: User.objects.filter(pk=p.id).only(*PAGE_PERSON_FIELDS).order_by()
    ),
    "assigned_delegate": Prepared(
        lambda p: User.objects.filter(pk=p.id).only(*PAGE_PERSON_FIELDS).order_by()
    ),
}


def request_by_pk(pk) -> EngineeringRequest | None:
    """The request's own row (no related row), or None. Not a visibility check: the caller
    asks ``permissions.can_view`` (the mirror of ``visible_to``, tests check they agree)."""
    found = _PAGE_ROW.run(request=pk)
    return found[0] if found else None


@dataclass
class RequestPageLists:
    timeline: list
    messages: list
    attachments: list
    domains: list


def request_page_lists(engineering_request, user) -> RequestPageLists:
    """In one round trip: the lists of the request page as ``timeline``, ``messages_for``,
    ``attachments_for`` and the domains' names give them, and the related rows the page shows
    (collectivité, département, programme, contract, operator, who submitted, the delegate),
    set on ``engineering_request`` as ``select_related`` would. Each message's attachments,
    among those, are its ``page_attachments``."""
    er = engineering_request
    staff = permissions.is_staff_for(er, user)
    runs = [
        (_PAGE_LISTS["timeline"], {"request": er.pk}),
        (_PAGE_LISTS["messages"][staff], {"request": er.pk}),
        (_PAGE_LISTS["attachments"][staff], {"request": er.pk}),
        (_PAGE_LISTS["domains"], {"request": er.pk}),
    ]
    # The optional ones only when set (fewer subqueries for PostgreSQL to plan).
    related = [name for name in _PAGE_RELATED if getattr(er, f"{name}_id") is not None]
    runs.extend((_PAGE_RELATED[name], {"id": getattr(er, f"{name}_id")}) for name in related)
    results = run_together(runs)
    logs, messages, attachments, domains = results[:4]
    found = dict(zip(related, results[4:], strict=True))
    for name in _PAGE_RELATED:
        rows = found.get(name)
        setattr(er, name, rows[0] if rows else None)
    # A message's files are attachments of its request (the services attach them so): no
    # query of their own.
    files: dict[int, list] = {}
    for attachment in attachments:
        if attachment.message_id is not None:
            files.setdefault(attachment.message_id, []).append(attachment)
    for message in messages:
        message.page_attachments = files.get(message.pk, [])
    return RequestPageLists(logs, messages, attachments, [name for name, _position in domains])


# The officials' request tables in plain SQL ------------------------------------------------
#
# "Mes demandes" and "Demandes que je suis" run three queries (does the user follow any
# request, counts by state, the page's rows) on every visit; the ORM spent ~1.5 ms of CPU
# building them (the OR of ``visible_to``, the CASE of ``waiting_first``, ``select_related``
# and ``only``) and ~0.05 ms per model instance. The same queries are written here once, with
# table and column names from the models and every value as a parameter; tests check they
# return what ``of_my_collectivities``, ``followed_by`` and ``waiting_first`` return.


class TableRow(NamedTuple):
    """What a row of the officials' request tables shows."""

    pk: int
    reference: str | None
    state: str
    title: str
    last_transition_at: datetime | None
    collectivity_name: str


@functools.cache
def _table_sql(alias: str) -> dict:
    from territories.models import Collectivity

    qn = connections[alias].ops.quote_name
    request = qn(EngineeringRequest._meta.db_table)
    collectivity = qn(Collectivity._meta.db_table)

    def column(name, model=EngineeringRequest, table=request):
        return f"{table}.{qn(model._meta.get_field(name).column)}"

    state = column("state")
    return {
        "request": request,
        "state": state,
        "collectivity_id": column("collectivity"),
        "contact_email": column("contact_email"),
        "reference": column("reference"),
        "title": column("title"),
        "columns": ", ".join(
            (
                column("id"),
                column("reference"),
                state,
                column("title"),
                column("last_transition_at"),
                column("name", Collectivity, collectivity),
            )
        ),
        "join": (
            f"INNER JOIN {collectivity} ON ({column('collectivity')} = "
            f"{column('id', Collectivity, collectivity)})"
        ),
        # ``waiting_first``: the expression of the ``request_waiting_first_idx`` index.
        "order": (
            f"CASE WHEN {state} = %s THEN 0 WHEN {state} = %s THEN 1 "
            f"WHEN {state} IN ({', '.join(['%s'] * len(RequestState.open_states()))}) THEN 2 "
            f"ELSE 3 END ASC, {column('last_transition_at')} DESC, {column('id')} DESC"
        ),
        "order_params": [
            RequestState.INFO_REQUESTED.value,
            RequestState.DRAFT.value,
            *(str(value) for value in RequestState.open_states()),
        ],
    }


class RequestTable:
    """The requests of an officials' table: a condition in SQL and its parameters, counted by
    state, and sliced (as ``Paginator`` does) into pages of ``TableRow`` in the order of
    ``waiting_first``. ``None`` as condition: no request at all, and no query."""

    def __init__(self, condition: str | None, params=(), *, alias: str | None = None):
        self.alias = alias or router.db_for_read(EngineeringRequest)
        self.sql = _table_sql(self.alias)
        self.condition = condition
        self.params = list(params)

    @classmethod
    def of_my_collectivities(cls, user) -> "RequestTable":
        """The rows of ``of_my_collectivities(user)``."""
        table = cls(None)
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return table
        if collectivity_ids := roles.collectivity_ids(user):
            placeholders = ", ".join(["%s"] * len(collectivity_ids))
            table.condition = f"{table.sql['collectivity_id']} IN ({placeholders})"
            table.params = list(collectivity_ids)
        return table

    @classmethod
    def followed_by(cls, user) -> "RequestTable":
        """The rows of ``followed_by(user)``: named on the request, which is no draft unless
        one of the user's collectivités carries it (what ``visible_to`` leaves of its OR once
        the e-mail matches)."""
        email = (getattr(user, "email", "") or "").lower()
        if not email or not getattr(user, "is_authenticated", False) or not user.is_active:
            return cls(None)
        table = cls(None)
        sql = table.sql
        not_draft = f"NOT ({sql['state']} = %s)"
        if collectivity_ids := roles.collectivity_ids(user):
            placeholders = ", ".join(["%s"] * len(collectivity_ids))
            table.condition = (
                f"{sql['contact_email']} = %s AND "
                f"({sql['collectivity_id']} IN ({placeholders}) OR {not_draft})"
            )
            table.params = [email, *collectivity_ids, RequestState.DRAFT.value]
        else:
            table.condition = f"{sql['contact_email']} = %s AND {not_draft}"
            table.params = [email, RequestState.DRAFT.value]
        return table

    def filter(self, *, query: str = "", state: str = "") -> "RequestTable":
        """Those whose reference or title contains ``query`` (as ``icontains``), in ``state``."""
        if self.condition is None or not (query or state):
            return self
        connection = connections[self.alias]
        condition, params = [self.condition], list(self.params)
        if query:
            lookup = {
                name: connection.ops.lookup_cast("icontains", "CharField") % self.sql[name]
                for name in ("reference", "title")
            }
            operator = connection.operators["icontains"]
            pattern = f"%{connection.ops.prep_for_like_query(query)}%"
            condition.append(
                f"({lookup['reference']} {operator % '%s'} OR {lookup['title']} {operator % '%s'})"
            )
            params += [pattern, pattern]
        if state:
            condition.append(f"{self.sql['state']} = %s")
            params.append(state)
        return RequestTable(" AND ".join(f"({c})" for c in condition), params, alias=self.alias)

    def _fetch(self, sql: str, params) -> list[tuple]:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def exists(self) -> bool:
        if self.condition is None:
            return False
        sql = self.sql
        return bool(
            self._fetch(
                f"SELECT 1 FROM {sql['request']} WHERE {self.condition} LIMIT 1",  # noqa: S608
                self.params,
            )
        )

    def counts_by_state(self) -> dict[str, int]:
        # COUNT(*) rather than COUNT(id): an index-only scan of (collectivity, state) answers it.
        if self.condition is None:
            return {}
        sql = self.sql
        return dict(
            self._fetch(
                f"SELECT {sql['state']}, COUNT(*) FROM {sql['request']} "  # noqa: S608
                f"WHERE {self.condition} GROUP BY {sql['state']}",
                self.params,
            )
        )

    def __getitem__(self, page: slice) -> list[TableRow]:
        """``table[start:stop]``: those rows, what waits for the official first."""
        if self.condition is None or page.stop <= page.start:
            return []
        sql = self.sql
        rows = self._fetch(
            f"SELECT {sql['columns']} FROM {sql['request']} {sql['join']} "  # noqa: S608
            f"WHERE {self.condition} ORDER BY {sql['order']} LIMIT %s OFFSET %s",
            [*self.params, *sql["order_params"], page.stop - page.start, page.start],
        )
        connection = connections[self.alias]
        if settings.USE_TZ and not connection.features.supports_timezones:
            # What the ORM's converters do on SQLite: naive values are in the database's zone.
            return [
                TableRow._make((*row[:4], _aware(row[4], connection.timezone), row[5]))
                for row in rows
            ]
        return [TableRow._make(row) for row in rows]


def _aware(value, zone):
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, zone)
    return value
