"""Backup and restore: a pg_dump / pg_restore round trip of a populated database gives an
identical copy, and the comparison notices when a copy is not."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from anct_portal import backups
from engineering_requests import services
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest, TransitionLog
from notifications.models import Notification
from tests.engineering_requests.factories import Cast, pdf_upload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def populated():
    """Requests in every state (logs, messages, a document, notifications), committed."""
    cast = Cast.create()
    for state in S.values:
        cast.request_in(state)
    request = cast.request_in(S.INFO_REQUESTED)
    services.provide_info(
        engineering_request=request, user=cast.official, message="Voici le plan.",
        files=[pdf_upload()],
    )  # fmt: skip
    assert TransitionLog.objects.count() > 20 and Notification.objects.count() > 20
    return cast


@pytest.fixture
def scratch():
    name = f"{connection.settings_dict['NAME']}_restore_test"[:63]
    yield name
    backups.drop_database(name)


def test_a_dump_restores_into_an_identical_database(populated, scratch, tmp_path):
    out = io.StringIO()

    call_command("backup_check", scratch=scratch, output=str(tmp_path / "db.dump"), stdout=out)

    report = out.getvalue()
    assert "The restored copy is identical" in report
    assert (
        f"engineering_requests_engineeringrequest: {EngineeringRequest.objects.count()} rows"
        in (report)
    )
    assert (tmp_path / "db.dump").read_bytes().startswith(b"PGDMP")  # custom format


def test_the_comparison_notices_a_row_changed_or_a_sequence_left_behind(populated, scratch,
                                                                        tmp_path):  # fmt: skip
    expected = backups.dump_with_fingerprint(tmp_path / "db.dump")
    backups.create_database(scratch)
    backups.restore(tmp_path / "db.dump", target=scratch)
    with backups.connect(scratch) as conn:
        assert backups.differences(expected, backups.fingerprint(conn)) == []
        request_id = conn.execute(
            "SELECT min(id) FROM engineering_requests_engineeringrequest"
        ).fetchone()[0]
        conn.execute(
            "UPDATE engineering_requests_engineeringrequest SET title = 'autre' WHERE id = %s",
            [request_id],
        )
        conn.execute("DELETE FROM notifications_notification WHERE id = (SELECT min(id) FROM "
                     "notifications_notification)")  # fmt: skip
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('engineering_requests_transitionlog', 'id'), 1)"
        )
        found = backups.differences(expected, backups.fingerprint(conn))

    assert any("checksums engineering_requests_engineeringrequest" in line for line in found)
    assert any("tables notifications_notification" in line for line in found)
    assert "sequence of engineering_requests_transitionlog is behind its largest id" in found


def test_the_command_refuses_to_restore_over_the_database_itself():
    with pytest.raises(CommandError):
        call_command("backup_check", scratch=connection.settings_dict["NAME"])
