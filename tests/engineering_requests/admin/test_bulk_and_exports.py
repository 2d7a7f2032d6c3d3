"""Bulk start-review with a per-request report, and exports (CSV streamed, XLSX in constant
memory) with French headers, logged for audit."""

import csv
import io
import tracemalloc
import zipfile

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from engineering_requests.admin import exports
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from tests.engineering_requests.admin.conftest import changelist_url, export_url, messages_of
from tests.engineering_requests.admin.test_changelist import bulk_requests

pytestmark = pytest.mark.django_db


def run_action(client, action, requests, **extra):
    return client.post(
        changelist_url(),
        {"action": action, "_selected_action": [r.pk for r in requests], "index": 0, **extra},
        follow=True,
    )


def test_bulk_start_review_reports_each_failure(admin_as, cast):
    first, second = cast.request_in(S.SUBMITTED), cast.request_in(S.SUBMITTED)
    busy = cast.request_in(S.IN_REVIEW)
    response = run_action(admin_as(cast.delegate), "take_in_review", [first, second, busy])

    notes = messages_of(response)
    assert any("2 demandes prises en charge" in m and first.reference in m for m in notes)
    assert any(busy.reference in m and "En instruction" in m for m in notes), notes
    for request in (first, second):
        request.refresh_from_db()
        assert (request.state, request.assigned_delegate) == (S.IN_REVIEW, cast.delegate)
    assert LogEntry.objects.filter(user=cast.delegate).count() == 2


def test_bulk_start_review_is_for_delegates_only(admin_as, cast):
    request = cast.request_in(S.SUBMITTED)
    client = admin_as(cast.national)
    choices = dict(
        client.get(changelist_url()).context_data["action_form"].fields["action"].choices
    )
    assert "take_in_review" not in choices and "export_csv" in choices
    run_action(client, "take_in_review", [request])
    request.refresh_from_db()
    assert request.state == S.SUBMITTED


def test_csv_export_of_the_filtered_list_in_french(admin_as, cast):
    escalated = cast.request_in(S.ESCALATED, title="Pont de la Creuse ; réparation")
    submitted = cast.request_in(S.SUBMITTED)
    response = admin_as(cast.national).get(export_url("csv", "?statut=escalated"))

    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="demandes-')
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    header, lines = rows[0], rows[1:]
    assert header[:3] == ["Référence", "Statut", "Collectivité"]
    assert "Motif : projet innovant ou complexe" in header
    assert [line[0] for line in lines] == [escalated.reference]
    line = dict(zip(header, lines[0], strict=True))
    assert line["Statut"] == "Transmise à l'ANCT"
    assert line["Intitulé du projet"] == "Pont de la Creuse ; réparation"
    assert line["Expertise rare"] == "oui" and line["Budget estimé (€)"] == "250000,00"
    assert submitted.reference not in text
    entry = LogEntry.objects.get(user=cast.national, object_id=None)
    assert "Export CSV" in entry.change_message and "statut=escalated" in entry.change_message


def test_xlsx_export_of_the_selection(admin_as, cast):
    chosen, other = cast.request_in(S.IN_REVIEW), cast.request_in(S.IN_REVIEW)
    response = run_action(admin_as(cast.delegate), "export_xlsx", [chosen])
    assert response["Content-Disposition"].startswith('attachment; filename="demandes-')
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode()
        strings = (
            workbook.read("xl/sharedStrings.xml").decode()
            if "xl/sharedStrings.xml" in (workbook.namelist())
            else ""
        )
    cells = sheet + strings
    assert "Référence" in cells and "Interlocuteur unique" in cells
    assert chosen.reference in cells and other.reference not in cells
    assert LogEntry.objects.filter(user=cast.delegate, change_message__contains="XLSX").exists()


@pytest.fixture
def ten_thousand(cast):
    return bulk_requests(10_000, collectivities=[cast.collectivity], official=cast.official)


def _peak_while(consume) -> int:
    tracemalloc.start()
    try:
        consume()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_exports_of_ten_thousand_rows_stream_in_constant_memory(admin_as, cast, ten_thousand):
    client = admin_as(cast.national)
    response = client.get(export_url("csv"))
    assert response.streaming
    lines, size = 0, 0

    def stream():
        nonlocal lines, size
        for chunk in response.streaming_content:
            lines += chunk.count(b"\r\n")
            size += len(chunk)

    with CaptureQueriesContext(connection) as queries:
        csv_peak = _peak_while(stream)
    assert lines == 10_001  # header + every row
    # The rows were read chunk by chunk: one domains prefetch per chunk.
    prefetches = [q for q in queries.captured_queries if "prioritydomain" in q["sql"]]
    assert len(prefetches) == 10_000 // exports.CHUNK_SIZE

    # Loading a tenth of the rows at once, for comparison: the whole export at once would
    # take about ten times that.
    sample = EngineeringRequest.objects.filter(pk__in=[r.pk for r in ten_thousand[:1_000]])
    reset_queries()
    sample_peak = _peak_while(
        lambda: [
            [c.value(r) for c in exports.COLUMNS] for r in list(exports.export_queryset(sample))
        ]
    )

    holder = {}
    xlsx_peak = _peak_while(lambda: holder.update(response=client.get(export_url("xlsx"))))
    content = b"".join(holder["response"].streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        assert workbook.read("xl/worksheets/sheet1.xml").count(b"<row ") == 10_001

    print(
        f"\nExports of 10,000 rows: CSV {size / 1e6:.1f} MB streamed with a peak of "
        f"{csv_peak / 1e6:.1f} MB; XLSX {len(content) / 1e6:.1f} MB, "
        f"peak {xlsx_peak / 1e6:.1f} MB; "
        f"1,000 rows loaded at once: {sample_peak / 1e6:.1f} MB"
    )
    assert csv_peak < 2 * sample_peak  # 10 × the rows, not 10 × the memory
    assert xlsx_peak < 2 * sample_peak


def test_exports_are_refused_outside_the_back_office(client, cast):
    client.force_login(cast.official)
    assert client.get(export_url("csv")).status_code == 302  # to the admin login
