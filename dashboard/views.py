import csv
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from dashboard import charts, markup, selectors
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


def _build(request, scope, *, now=None, version=None):
    reference = selectors.reference_data(scope)
    form = DashboardFilterForm(request.GET, reference=reference)
    filters = form.filters()
    sort = request.GET.get("tri", "code")
    descending = request.GET.get("ordre") == "desc"
    data = selectors.dashboard(
        scope, filters, reference, sort=sort, descending=descending, now=now, version=version
    )
    return form, data, sort, descending


def _context(request, scope, *, with_map: bool, now=None, version=None) -> dict:
    form, data, sort, descending = _build(request, scope, now=now, version=version)
    map_data = choropleth(data.departements) if with_map else None
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
        "departement_table_rows": markup.departement_rows(
            data.departements, data.headline["target"]
        ),
        "choropleth": map_data,
        "map_shapes": markup.map_shapes(map_data["shapes"]) if map_data else "",
        "query_string": request.GET.urlencode(),
        "page_path": request.path,
    }


# Which pages keep their body in the cache. Every entry is ~210 KB for all of France: the
# query must not let anyone fill the cache. Sorts: from a fixed list. Filters (free dates):
# only for signed-in staff; the public page caches its unfiltered pages, sorted or not. Any
# other page is rendered as usual, uncached.
SORT_VALUES = {"tri": frozenset(selectors.DEPARTEMENT_SORTS), "ordre": frozenset({"asc", "desc"})}
FILTER_PARAMETERS = frozenset(DashboardFilterForm.base_fields)


def _cacheable(query, scope) -> bool:
    for name, values in query.lists():
        if len(values) != 1:
            return False
        if name in SORT_VALUES:
            if values[0] not in SORT_VALUES[name]:
                return False
        elif scope.is_public or name not in FILTER_PARAMETERS:
            return False
    return True


@dataclass(frozen=True)
class RenderedBody:
    html: SafeString
    form_errors: bool  # the filters had an error: base.html starts the title with "Erreur"


def _render(request, scope, page: str, *, with_map: bool):
    """The page around its body. The body (figures, table, map, charts' data: ~200 KB of HTML
    for all of France) is rendered from the context of ``_context`` alone, without the user or
    the context processors, and cached under everything it depends on
    (``selectors.page_cache_key``): the latest transition and the reference rows among them,
    so that a change to any request shows at once. Header, menu and messages are the user's:
    rendered on every request."""
    now, version, key = timezone.now(), None, None
    if _cacheable(request.GET, scope):
        version, reference_version = selectors.versions()
        key = selectors.page_cache_key(
            scope,
            page=page,
            params=list(request.GET.lists()),
            language=translation.get_language(),
            data_version=version,
            reference_version=reference_version,
            now=now,
        )
    body = selectors.cache_get(key, local=True) if key else None
    if not isinstance(body, RenderedBody):
        context = _context(request, scope, with_map=with_map, now=now, version=version)
        html = get_template(f"dashboard/_{page}_body.html").render(context)
        body = RenderedBody(html=html, form_errors=bool(context["form"].errors))
        if key:
            selectors.cache_set(key, body, local=True)
    context = {
        "body": body.html,  # the template's SafeString (pickled as such by the cache)
        "form": {"errors": body.form_errors},  # all base.html reads of the form
    }
    return render(request, f"dashboard/{page}.html", context)


@login_required
@require_GET
def kpi(request):
    """Delegates (their départements) and national staff (all of France); others: 403."""
    scope = selectors.scope_for(request.user)
    return _render(request, scope, "kpi", with_map=scope.kind == "national")


@require_GET
def public(request):
    """Anonymous aggregate statistics: national and per-département figures, nothing else."""
    return _render(request, selectors.PUBLIC_SCOPE, "public", with_map=True)


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
