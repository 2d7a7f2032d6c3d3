"""The comité local report in the admin: a printable page, a CSV and a PDF (WeasyPrint)."""

import csv
import io

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from accounts import roles
from engineering_requests import reports
from engineering_requests.admin.access import is_backoffice_user
from engineering_requests.admin.display import escalation_flags, escalation_grounds
from engineering_requests.admin.exports import _csv_cell
from engineering_requests.admin.forms import ComiteReportForm

FORMATS = ("html", "csv", "pdf")


def _filename(report) -> str:
    return f"comite-local-{report.departement.code}-{report.start:%Y%m%d}-{report.end:%Y%m%d}"


def report_csv(report) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    write = lambda *cells: writer.writerow([_csv_cell(c) for c in cells])  # noqa: E731
    write(_("Rapport au comité local de cohésion territoriale"))
    write(_("Département"), f"{report.departement.code} – {report.departement.name}")
    write(_("Période"), report.start, report.end)
    write()
    write(_("Indicateur"), _("Valeur"))
    for label, value in report.figure_rows():
        write(str(label), value)
    write()
    write(_("Réponses locales"))
    write(
        _("Référence"),
        _("Collectivité"),
        _("Intitulé du projet"),
        _("Interlocuteur unique"),
        _("Organisme"),
        _("E-mail de l'interlocuteur"),
        _("Acteur de l'annuaire"),
        _("Réponse locale le"),
        _("Statut"),
        _("Bilan"),
    )
    for r in report.local_requests:
        write(
            r.reference,
            r.collectivity.name,
            r.title,
            r.contact_name,
            r.contact_organisation,
            r.contact_email,
            r.local_provider.name if r.local_provider else "",
            r.resolved_locally_at,
            r.get_state_display(),
            r.outcome,
        )
    write()
    write(_("Transmissions à l'ANCT"))
    write(
        _("Référence"),
        _("Collectivité"),
        _("Intitulé du projet"),
        _("Transmise le"),
        _("Motifs"),
        _("Indicateurs"),
        _("Issue"),
        _("Instrument national"),
        _("Opérateur"),
        _("Montant accordé (€)"),
        _("Motif du renvoi"),
        _("Statut actuel"),
    )
    for r in report.escalations:
        write(
            r.reference,
            r.collectivity.name,
            r.title,
            r.escalated_at,
            " ; ".join(escalation_grounds(r)),
            " ; ".join(escalation_flags(r)),
            r.outcome_label,
            r.get_national_instrument_display() if r.national_instrument else "",
            r.operator.name if r.operator else "",
            r.granted_amount,
            r.referral_reason if r.outcome_code == reports.EscalationOutcome.REFERRED_BACK else "",
            r.get_state_display(),
        )
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report)}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _refuse_fetch(url, *args, **kwargs):
    # The PDF is made from our own template with inline styles: nothing is fetched, so a
    # crafted text can never make the server request a URL.
    raise ValueError(f"External resource refused: {url}")


def report_pdf(report) -> HttpResponse:
    from weasyprint import HTML

    html = render_to_string(
        "admin/engineering_requests/engineeringrequest/comite_report_document.html",
        {"report": report, "standalone": True},
    )
    pdf = HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(report)}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


def comite_report_view(model_admin, request):
    from engineering_requests.admin.requests import audit

    user = request.user
    if not is_backoffice_user(user):
        raise PermissionDenied
    start, end = ComiteReportForm.default_period()
    data = request.GET if "departement" in request.GET else None
    if data is None and len(roles.departement_ids(user)) == 1 and not roles.is_national_staff(user):
        # A delegate of one département gets their current quarter straight away.
        data = {"departement": roles.departement_ids(user)[0], "start": start, "end": end}
    form = ComiteReportForm(data, user=user, initial={"start": start, "end": end})
    report = None
    if form.is_valid():
        report = reports.comite_local_report(user=user, **form.cleaned_data)
        fmt = request.GET.get("format", "html")
        if fmt in ("csv", "pdf"):
            audit(
                request,
                message=_("Rapport du comité local (%(format)s) : %(dep)s, du %(start)s au %(end)s")
                % {
                    "format": fmt.upper(),
                    "dep": report.departement.code,
                    "start": f"{report.start:%d/%m/%Y}",
                    "end": f"{report.end:%d/%m/%Y}",
                },
            )
            return report_csv(report) if fmt == "csv" else report_pdf(report)
    query = request.GET.copy()
    if report is not None and "departement" not in query:
        query.update(
            {"departement": report.departement.pk, "start": report.start, "end": report.end}
        )
    query.pop("format", None)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Rapport au comité local de cohésion territoriale"),
        "subtitle": None,
        "form": form,
        "report": report,
        "query": query.urlencode(),
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(
        request, "admin/engineering_requests/engineeringrequest/comite_report.html", context
    )
