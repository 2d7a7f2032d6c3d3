"""CSV and XLSX exports of requests, streamed in constant memory.

Rows are read with ``.iterator(chunk_size=...)`` (a server-side cursor on PostgreSQL) and their
domains prefetched chunk by chunk; CSV lines are sent as they are made, and the XLSX workbook
is written by xlsxwriter in ``constant_memory`` mode to a temporary file that is then streamed.
"""

import csv
import datetime
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter
from django.db.models import Prefetch
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engineering_requests.admin.display import days_since
from programmes.models import PriorityDomain

CHUNK_SIZE = 500
CSV_BATCH_ROWS = 200  # lines joined into one chunk of the response


@dataclass(frozen=True)
class Column:
    header: str
    value: object  # callable(request) -> str | int | Decimal | date | datetime | bool | None
    width: int = 18


def _display(field):
    return lambda r: getattr(r, f"get_{field}_display")() if getattr(r, field) else ""


def _user(field):
    def value(r):
        user = getattr(r, field)
        return (user.get_full_name() or user.email) if user else ""

    return value


COLUMNS = [
    Column(_("Référence"), lambda r: r.reference, 16),
    Column(_("Statut"), lambda r: r.get_state_display(), 22),
    Column(_("Collectivité"), lambda r: r.collectivity.name, 28),
    Column(_("Code INSEE ou SIREN"), lambda r: r.collectivity.code, 12),
    Column(_("Département"), lambda r: r.departement.code, 8),
    Column(_("Nom du département"), lambda r: r.departement.name, 18),
    Column(_("Intitulé du projet"), lambda r: r.title, 40),
    Column(_("Type d'ingénierie"), _display("engineering_kind"), 24),
    Column(_("Forme d'intervention"), _display("intervention_form"), 24),
    Column(_("Programme"), lambda r: r.programme.name if r.programme else "", 24),
    Column(_("Contrat ou pacte"), lambda r: r.contract.name if r.contract else "", 24),
    Column(_("Domaines prioritaires"), lambda r: ", ".join(d.name for d in r.domains.all()), 32),
    Column(_("Budget estimé (€)"), lambda r: r.estimated_budget, 14),
    Column(_("Déposée le"), lambda r: r.submitted_at, 12),
    Column(_("Ancienneté (jours)"), lambda r: days_since(r.submitted_at), 10),
    Column(_("Délégué en charge"), _user("assigned_delegate"), 22),
    Column(_("Interlocuteur unique"), lambda r: r.contact_name, 22),
    Column(_("Organisme de l'interlocuteur"), lambda r: r.contact_organisation, 26),
    Column(_("E-mail de l'interlocuteur"), lambda r: r.contact_email, 26),
    Column(_("Réponse locale le"), lambda r: r.resolved_locally_at, 12),
    Column(_("Transmise à l'ANCT le"), lambda r: r.escalated_at, 12),
    Column(_("Motif : fragilité"), lambda r: r.fragility_rationale, 30),
    Column(
        _("Motif : ressources locales insuffisantes"),
        lambda r: r.insufficient_resources_rationale,
        30,
    ),
    Column(_("Motif : projet innovant ou complexe"), lambda r: r.innovative_rationale, 30),
    Column(_("Expertise rare"), lambda r: r.rare_expertise, 8),
    Column(_("Envergure nationale"), lambda r: r.national_scope, 8),
    Column(_("Instrument national"), _display("national_instrument"), 26),
    Column(_("Opérateur"), lambda r: r.operator.name if r.operator else "", 16),
    Column(_("Montant accordé (€)"), lambda r: r.granted_amount, 14),
    Column(_("Décision nationale le"), lambda r: r.decided_at, 12),
    Column(_("Terminée le"), lambda r: r.completed_at, 12),
    Column(_("Dernier changement de statut"), lambda r: r.last_transition_at, 12),
]


def export_queryset(queryset):
    """The rows to export, with everything the columns read fetched in bulk."""
    return (
        queryset.prefetch_related(None)  # the change list's own prefetch, if any
        .select_related(
            "collectivity", "departement", "programme", "contract", "assigned_delegate", "operator"
        )
        .prefetch_related(Prefetch("domains", queryset=PriorityDomain.objects.only("pk", "name")))
        .order_by("-submitted_at", "-pk")
    )


def iter_rows(queryset) -> Iterator[list]:
    for engineering_request in export_queryset(queryset).iterator(chunk_size=CHUNK_SIZE):
        yield [column.value(engineering_request) for column in COLUMNS]


def _local(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value) if timezone.is_aware(value) else value
    return value


# CSV: semicolon-separated, UTF-8 with a BOM, French dates and decimal commas, as spreadsheet
# programs configured for France expect.


def _csv_cell(value) -> str:
    value = _local(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    return str(value)


class _Echo:
    def write(self, value):
        return value


def csv_chunks(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([str(h) for h in header])
    batch = []
    for row in rows:
        batch.append(writer.writerow([_csv_cell(cell) for cell in row]))
        if len(batch) >= CSV_BATCH_ROWS:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def csv_response(queryset, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_chunks([c.header for c in COLUMNS], iter_rows(queryset)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# XLSX.


def write_xlsx(path: str, headers, widths, rows, *, sheet_name: str) -> None:
    workbook = xlsxwriter.Workbook(
        path, {"constant_memory": True, "tmpdir": tempfile.gettempdir(), "remove_timezone": True}
    )
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    date = workbook.add_format({"num_format": "dd/mm/yyyy"})
    money = workbook.add_format({"num_format": "# ##0.00"})
    sheet = workbook.add_worksheet(sheet_name[:31])
    for index, (header, width) in enumerate(zip(headers, widths, strict=True)):
        sheet.set_column(index, index, width)
        sheet.write_string(0, index, str(header), bold)
    sheet.freeze_panes(1, 0)
    row_index = 0
    for row_index, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            value = _local(value)
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_string(row_index, col, "oui" if value else "non")
            elif isinstance(value, datetime.datetime | datetime.date):
                sheet.write_datetime(row_index, col, value, date)
            elif isinstance(value, Decimal):
                sheet.write_number(row_index, col, float(value), money)
            elif isinstance(value, int):
                sheet.write_number(row_index, col, value)
            else:
                sheet.write_string(row_index, col, str(value))
    if row_index:
        sheet.autofilter(0, 0, row_index, len(headers) - 1)
    workbook.close()


def xlsx_file_response(headers, widths, rows, *, filename: str, sheet_name: str) -> FileResponse:
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(path, headers, widths, rows, sheet_name=sheet_name)
        stream = open(path, "rb")  # noqa: SIM115 - closed by the response
    finally:
        # The open file stays readable after its name is removed (POSIX): nothing is left
        # behind, even when the client goes away mid-download.
        os.unlink(path)
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "no-store"
    return response


def xlsx_response(queryset, filename: str) -> FileResponse:
    return xlsx_file_response(
        [c.header for c in COLUMNS],
        [c.width for c in COLUMNS],
        iter_rows(queryset),
        filename=filename,
        sheet_name=str(_("Demandes")),
    )
