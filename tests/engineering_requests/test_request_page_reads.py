"""The request page's reads, compiled once per process (``anct_portal.prepared``), give what
the selectors' querysets give, for every role."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anct_portal import prepared
from engineering_requests import selectors, services
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from programmes.models import Contract
from tests.engineering_requests.factories import AttachmentFactory, RequestMessageFactory
from tests.programmes.factories import PriorityDomainFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

FIELDS = [field.attname for field in EngineeringRequest._meta.concrete_fields]


PERSON = ["id", *selectors.PAGE_PERSON_FIELDS]


def values(instance, fields=None):
    fields = fields or [field.attname for field in instance._meta.concrete_fields]
    return {name: getattr(instance, name) for name in fields}


@pytest.fixture
def busy_request(cast):
    """A request with national support, a thread, internal notes, files on messages and
    apart, a programme and a contract."""
    request = cast.request_in(S.NATIONAL_SUPPORT)
    EngineeringRequest.objects.filter(pk=request.pk).update(
        programme=ProgrammeFactory(),
        contract=Contract.objects.create(
            code="crte-test",
            name="CRTE « test »",
            kind=Contract._meta.get_field("kind").choices[0][0],
        ),
    )
    message = services.post_message(engineering_request=request, user=cast.official, body="Bonjour")
    AttachmentFactory(engineering_request=request, uploaded_by=cast.official, message=message)
    AttachmentFactory(engineering_request=request, uploaded_by=cast.delegate, internal=True)
    note = RequestMessageFactory(engineering_request=request, author=cast.delegate, internal=True)
    AttachmentFactory(
        engineering_request=request, uploaded_by=cast.delegate, message=note, internal=True
    )
    AttachmentFactory(engineering_request=request, uploaded_by=cast.official)
    request.domains.set(PriorityDomainFactory.create_batch(2))
    return EngineeringRequest.objects.get(pk=request.pk)


def test_the_row_is_the_request_s_row(busy_request):
    found = selectors.request_by_pk(busy_request.pk)
    assert values(found, FIELDS) == values(busy_request, FIELDS)
    assert selectors.request_by_pk(busy_request.pk + 1000) is None


@pytest.mark.parametrize("together", [True, False])
def test_the_lists_are_the_selectors_lists_for_every_role(
    busy_request, cast, together, monkeypatch
):
    if not together:  # the one-query-each path, as on databases other than PostgreSQL
        monkeypatch.setattr(prepared, "run_together", lambda runs: [p.run(**v) for p, v in runs])
        monkeypatch.setattr(selectors, "run_together", prepared.run_together)
    expected_related = EngineeringRequest.objects.select_related(
        "collectivity",
        "departement",
        "programme",
        "contract",
        "operator",
        "submitted_by",
        "assigned_delegate",
    ).get(pk=busy_request.pk)
    for user in (cast.official, cast.delegate, cast.national, cast.contact):
        er = selectors.request_by_pk(busy_request.pk)
        with CaptureQueriesContext(connection) as queries:
            lists = selectors.request_page_lists(er, user)
        assert len(queries) <= (2 if together else 12)  # (the roles, once per user)
        logs = list(selectors.timeline(busy_request))
        assert [values(log) for log in lists.timeline] == [values(log) for log in logs]
        assert [values(log.actor, PERSON) for log in lists.timeline] == [
            values(log.actor, PERSON) for log in logs
        ]
        messages = list(selectors.messages_for(busy_request, user))
        assert [values(m) for m in lists.messages] == [values(m) for m in messages]
        assert [values(m.author, PERSON) for m in lists.messages] == [
            values(m.author, PERSON) for m in messages
        ]
        for found, message in zip(lists.messages, messages, strict=True):
            expected = [a.pk for a in message.attachments.all() if a in lists.attachments]
            assert [a.pk for a in found.page_attachments] == expected
        attachments = list(selectors.attachments_for(busy_request, user))
        assert [values(a) for a in lists.attachments] == [values(a) for a in attachments]
        assert [values(a.uploaded_by, PERSON) for a in lists.attachments] == [
            values(a.uploaded_by, PERSON) for a in attachments
        ]
        assert lists.domains == list(busy_request.domains.values_list("name", flat=True))
        assert len(lists.domains) == 2
        with CaptureQueriesContext(connection) as queries:
            for name in ("submitted_by", "assigned_delegate"):
                assert values(getattr(er, name), PERSON) == values(
                    getattr(expected_related, name), PERSON
                )
            for name in ("collectivity", "departement"):
                assert str(getattr(er, name)) == str(getattr(expected_related, name))
                assert getattr(er, name).name == getattr(expected_related, name).name
            for name in ("programme", "contract", "operator"):
                assert getattr(er, name).name == getattr(expected_related, name).name != ""
        assert not queries
    # The official sees neither the internal note nor the internal files; the delegate does.
    official = selectors.request_page_lists(selectors.request_by_pk(busy_request.pk), cast.official)
    delegate = selectors.request_page_lists(selectors.request_by_pk(busy_request.pk), cast.delegate)
    assert len(official.messages) == 1 and len(delegate.messages) == 2
    assert len(official.attachments) == 2 and len(delegate.attachments) == 4


def test_a_request_without_optional_relations(cast):
    draft = cast.draft()
    er = selectors.request_by_pk(draft.pk)
    lists = selectors.request_page_lists(er, cast.official)
    assert er.programme is None and er.contract is None and er.operator is None
    assert er.assigned_delegate is None and er.submitted_by == cast.official
    assert lists.timeline == [] and lists.messages == [] and lists.attachments == []


def test_a_placeholder_the_orm_would_change_is_refused():
    from engineering_requests.models import TransitionLog

    with pytest.raises(ValueError):
        prepared.Prepared(lambda p: TransitionLog.objects.filter(id__gt=p.x + 1)).compiled()
    unused = prepared.Prepared(lambda p: (p.unused, TransitionLog.objects.filter(id=3))[1])
    with pytest.raises(ValueError):
        unused.compiled()


def test_prepared_tuples_and_columns_json_cannot_carry(busy_request):
    """``values_list`` tuples, and a column type the JSON path does not decode (read apart)."""
    import datetime

    from django.db.models import DurationField, Value

    from engineering_requests.models import TransitionLog

    tuples = prepared.Prepared(
        lambda p: (
            TransitionLog.objects.filter(engineering_request_id=p.request)
            .order_by("pk")
            .values_list("pk", "transition", "created_at")
        )
    )
    floats = prepared.Prepared(
        lambda p: (
            TransitionLog.objects.filter(engineering_request_id=p.request)
            .order_by("pk")
            .values_list(
                Value(datetime.timedelta(seconds=1), output_field=DurationField()), flat=True
            )
        )
    )
    expected = list(
        TransitionLog.objects.filter(engineering_request=busy_request)
        .order_by("pk")
        .values_list("pk", "transition", "created_at")
    )
    assert tuples.run(request=busy_request.pk) == expected
    assert not floats.compiled().jsonable
    with CaptureQueriesContext(connection) as queries:
        found = prepared.run_together(
            [(tuples, {"request": busy_request.pk}), (floats, {"request": busy_request.pk})]
        )
    assert found == [expected, [datetime.timedelta(seconds=1)] * len(expected)]
    assert len(queries) == 2


def test_read_together_each_list_in_its_own_order(busy_request):
    """One statement, and each list aggregated in its queryset's order (``json_agg(… ORDER BY
    …)``: PostgreSQL does not promise to keep a subquery's order inside an aggregate)."""
    from engineering_requests.models import TransitionLog

    def logs(*order):
        return prepared.Prepared(
            lambda p: TransitionLog.objects.filter(engineering_request_id=p.request).order_by(
                *order
            )
        )

    runs = [(logs("-created_at", "-pk"), {"request": busy_request.pk}),
            (logs("transition", "pk"), {"request": busy_request.pk})]  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        newest_first, by_transition = prepared.run_together(runs)
    assert len(queries) == 1
    assert "ORDER BY q0.c" in queries[0]["sql"] and "ORDER BY q1.c" in queries[0]["sql"]
    for found, order in (
        (newest_first, ("-created_at", "-pk")),
        (by_transition, ("transition", "pk")),
    ):
        expected = list(
            TransitionLog.objects.filter(engineering_request=busy_request).order_by(*order)
        )
        assert [log.pk for log in found] == [log.pk for log in expected] and len(expected) > 2
