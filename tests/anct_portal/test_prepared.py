"""``anct_portal.prepared.Prepared`` for the reads of the request form and of the notifications:
the ORM's own SQL, compiled once, gives the same instances as the queryset would, list values
included. (The request page's reads: tests/engineering_requests/test_request_page_reads.py.)"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import roles
from accounts.models import User
from engineering_requests import forms, views
from programmes.enums import ProgrammeStatus
from programmes.models import Contract, PriorityDomain, Programme
from territories.models import Collectivity
from tests.accounts.factories import DelegateFactory, UserFactory
from tests.programmes.factories import PriorityDomainFactory, ProgrammeFactory
from tests.territories.factories import CollectivityFactory, DepartementFactory

pytestmark = pytest.mark.django_db


def values(instances) -> list[tuple]:
    """Everything the ORM loaded: model, primary key and every field's value."""
    return [(type(i), i.pk, {k: v for k, v in vars(i).items() if k != "_state"}) for i in instances]


def test_the_delegates_are_those_the_queryset_gives():
    departement = DepartementFactory()
    delegates = DelegateFactory.create_batch(3, departements=[departement])
    DelegateFactory(departements=[departement], is_active=False)
    DelegateFactory(departements=[DepartementFactory()])
    UserFactory()
    expected = User.objects.filter(
        is_active=True, delegate_assignments__departement_id=departement.pk
    )
    with CaptureQueriesContext(connection) as queries:
        found = roles.delegates_of(departement.pk)
    assert len(queries) == 1
    assert values(found) == values(expected) and len(found) == 3
    assert {u.pk for u in found} == {u.pk for u in delegates}
    assert all(u._state.db == "default" and not u._state.adding for u in found)
    assert found[0].date_joined.tzinfo is not None  # converted as the ORM converts it
    assert roles.delegates_of(DepartementFactory().pk) == []


def test_the_request_forms_catalogue_rows_are_those_the_querysets_give():
    PriorityDomainFactory.create_batch(3)
    ProgrammeFactory.create_batch(2)
    ProgrammeFactory(status=ProgrammeStatus.CLOSED)
    for index, status in enumerate([ProgrammeStatus.ACTIVE, ProgrammeStatus.CLOSED] * 2):
        Contract.objects.create(
            code=f"crte-{index}",
            name=f"CRTE {3 - index}",
            kind="cohesion_contract",
            status=status,
            start_date=datetime.date(2024, 1, index + 1),
        )
    cases = [
        (forms.ALL_DOMAINS, PriorityDomain.objects.order_by("position", "name")),
        (forms.ACTIVE_PROGRAMMES, Programme.objects.filter(status=ProgrammeStatus.ACTIVE)),
        (
            forms.ACTIVE_CONTRACTS,
            Contract.objects.filter(status=ProgrammeStatus.ACTIVE).order_by("name"),
        ),
    ]
    for compiled, queryset in cases:
        found = compiled.run()
        assert found and values(found) == values(queryset)


def test_a_list_value_is_compiled_for_its_length():
    collectivities = sorted(CollectivityFactory.create_batch(3), key=lambda c: c.name)
    ids = [c.pk for c in collectivities]
    query = views._SENT_COLLECTIVITIES
    for chosen in (ids, ids[:1], ids[1:], [ids[2], ids[0]], [ids[0], ids[0]]):
        expected = Collectivity.objects.filter(pk__in=chosen).order_by("name")
        assert values(query.run(ids=chosen)) == values(expected)
    with CaptureQueriesContext(connection) as queries:
        assert query.run(ids=[]) == []  # the ORM would not query either
    assert len(queries) == 0


def _prepared_statements() -> dict[str, tuple[int, int]]:
    """This connection's prepared statements: text -> (generic plans, custom plans)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {text: (generic, custom) for text, generic, custom in cursor.fetchall()}


def test_the_prepared_cursor_keeps_its_statements_prepared_and_logged():
    from anct_portal.prepared import prepared_cursor

    with CaptureQueriesContext(connection) as queries:
        for number in range(8):
            with prepared_cursor(connection.alias) as cursor:
                cursor.execute("SELECT %s::int + 1000", [number])
                assert cursor.fetchone() == (number + 1000,)
    assert len(queries) == 8  # counted by the query budgets' tests like any other
    assert queries[0]["sql"] == "SELECT 0::int + 1000"  # logged with its values
    generic, custom = _prepared_statements()["SELECT $1::int + 1000"]
    assert generic + custom == 8
    # The ORM's statements and ordinary cursors are never prepared.
    with connection.cursor() as cursor:
        for _ in range(8):
            cursor.execute("SELECT %s::int + 2000", [1])
    list(User.objects.filter(pk=-1))
    assert not [
        text for text in _prepared_statements() if "2000" in text or "accounts_user" in text
    ]


def test_without_prepared_statements_it_is_an_ordinary_cursor(monkeypatch):
    """``DATABASE_PREPARED_STATEMENTS=false`` (a pooler in transaction mode): psycopg's
    threshold is None, and nothing is prepared."""
    from anct_portal.prepared import prepared_cursor

    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    for number in range(6):
        with prepared_cursor(connection.alias) as cursor:
            cursor.execute("SELECT %s::int + 3000", [number])
            assert cursor.fetchone() == (number + 3000,)
    assert not [text for text in _prepared_statements() if "3000" in text]
