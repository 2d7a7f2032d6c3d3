import csv

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard import charts, selectors
from dashboard.forms import DashboardFilterForm
from dashboard.map import choropleth

CSV_COLUMNS = [
    ("code_departement", "code"),
    ("departement", "name"),
    ("region", "region"),
    ("demandes_deposees", "submitted"),
    ("reponses_locales", "local"),
    ("appuis_nationaux", "national"),
    ("demandes_tranchees", "decided"),
    ("taux_resolution_locale_pct", "rate"),
    ("demandes_en_cours", "open"),
    ("delai_median_prise_en_charge_jours", "review_median"),
    ("delai_median_decision_jours", "decision_median"),
]


def _build(request, scope):
    reference = selectors.reference_data(scope)
    form = DashboardFilterForm(request.GET, reference=reference)
    filters = form.filters()
    sort = request.GET.get("tri", "code")
    descending = request.GET.get("ordre") == "desc"
    data = selectors.dashboard(scope, filters, reference, sort=sort, descending=descending)
    return form, data, sort, descending


def _context(request, scope, *, with_map: bool) -> dict:
    form, data, sort, descending = _build(request, scope)
    return {
        "form": form,
        "scope": scope,
        "data": data,
        "headline": data.headline,
        "decisions": data.decisions,
        "trend": data.trend,
        "departement_rows": data.departements,
        "sort_links": charts.sort_links(request.GET, sort, descending),
        "chart_data": charts.chart_data(data),
        "choropleth": choropleth(data.departements) if with_map else None,
        "query_string": request.GET.urlencode(),
    }


@login_required
@require_GET
def kpi(request):
    """Delegates (their départements) and national staff (all of France); others: 403."""
    scope = selectors.scope_for(request.user)
    context = _context(request, scope, with_map=scope.kind == "national")
    return render(request, "dashboard/kpi.html", context)


@require_GET
def public(request):
    """Anonymous aggregate statistics: national and per-département figures, nothing else."""
    context = _context(request, selectors.PUBLIC_SCOPE, with_map=True)
    return render(request, "dashboard/public.html", context)


@require_GET
def public_csv(request):
    _form, data, _sort, _descending = _build(request, selectors.PUBLIC_SCOPE)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"statistiques-ingenierie-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow([name for name, _key in CSV_COLUMNS])
    headline = data.headline
    national_median = {d["code"]: d["median"] for d in headline["delays"]}
    total = {
        "code": "FR",
        "name": "France",
        "region": "",
        "submitted": headline["submitted"],
        "local": headline["local"],
        "national": headline["national"],
        "decided": headline["decided"],
        "rate": headline["rate"],
        "open": headline["backlog"]["total"],
        "review_median": national_median["review"],
        "decision_median": national_median["decision"],
    }
    for row in [total, *data.departements]:
        writer.writerow([_csv_value(row[key]) for _name, key in CSV_COLUMNS])
    return response


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return value
