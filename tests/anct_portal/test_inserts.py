"""``anct_portal.inserts.Inserts``: rows written in one statement are the rows ``save`` writes."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from anct_portal.inserts import Inserts
from engineering_requests.models import EngineeringRequest
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.engineering_requests.factories import EngineeringRequestFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]


def notification(user, key, **fields):
    return Notification(
        event="submitted",
        audience="delegates",
        channel="email",
        recipient=user,
        email=user.email,
        context={"subject": "Demande « l'école » : ING-2026-000001", "n": [1, None, "é"]},
        dedup_key=key,
        **fields,
    )


def values(queryset):
    return [{k: v for k, v in row.items() if k not in ("id", "dedup_key")} for row in queryset]


def test_rows_are_what_save_writes_and_come_back_with_their_keys():
    user = UserFactory()
    when = timezone.now() - datetime.timedelta(days=3)
    notification(user, "saved", created_at=when, retry_at=when).save()
    inserts = Inserts()
    rows = [
        notification(user, "one", created_at=when, retry_at=when),
        notification(user, "two", created_at=when, retry_at=when),
    ]
    inserts.add_rows("rows", rows, fields=None, returning=("id", "dedup_key"))
    with transaction.atomic():
        result = inserts.run()
    by_key = {key: pk for pk, key in result["rows"]}
    assert set(by_key) == {"one", "two"}
    assert Notification.objects.get(pk=by_key["two"]).dedup_key == "two"
    saved = values(Notification.objects.filter(dedup_key="saved").values())
    assert values(Notification.objects.filter(dedup_key="one").values()) == saved
    assert values(Notification.objects.filter(dedup_key="two").values()) == saved


def test_a_conflict_clause_leaves_existing_rows_out_of_what_comes_back():
    user = UserFactory()
    notification(user, "there").save()
    inserts = Inserts()
    inserts.add_rows(
        "rows",
        [notification(user, "there"), notification(user, "new")],
        suffix="ON CONFLICT (dedup_key) DO NOTHING",
        returning=("dedup_key",),
    )
    with transaction.atomic():
        assert inserts.run() == {"rows": [("new",)]}
    assert Notification.objects.filter(dedup_key="there").count() == 1


def test_a_row_with_its_key_decimals_dates_and_empty_values_is_written_as_save_writes_it():
    model = EngineeringRequestFactory(estimated_budget=Decimal("1234.50"))
    row = EngineeringRequest.objects.values().get(pk=model.pk)
    copy = EngineeringRequest.objects.get(pk=model.pk)
    copy.pk = model.pk + 1_000
    copy.reference = None
    copy.desired_start = datetime.date(2030, 2, 3)
    inserts = Inserts()
    inserts.add_rows("request", [copy])
    with transaction.atomic():
        assert inserts.run() == {}
    written = EngineeringRequest.objects.values().get(pk=copy.pk)
    assert written["estimated_budget"] == Decimal("1234.50")
    assert written["desired_start"] == datetime.date(2030, 2, 3)
    assert written["updated_at"] >= row["updated_at"]  # auto_now, as save sets it
    different = {"id", "reference", "desired_start", "updated_at"}
    assert {k: v for k, v in written.items() if k not in different} == {
        k: v for k, v in row.items() if k not in different
    }
