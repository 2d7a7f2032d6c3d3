from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from territories.enums import CollectivityKind
from territories.selectors import MIN_QUERY_LENGTH, search_collectivities

LABELS = {
    CollectivityKind.COMMUNE: gettext_lazy("%(name)s (%(code)s) – %(departement)s"),
    CollectivityKind.EPCI: gettext_lazy("%(name)s (EPCI) – %(departement)s"),
    CollectivityKind.DEPARTEMENT: gettext_lazy("%(name)s (département %(code)s)"),
    CollectivityKind.REGION: gettext_lazy("%(name)s (région)"),
}


def _label(collectivity) -> str:
    return str(LABELS[collectivity.kind]) % {
        "name": collectivity.name,
        "code": collectivity.code,
        "departement": collectivity.departement.name,
    }


# Public reference data: browsers and proxies may keep an answer for a few minutes.
@cache_control(public=True, max_age=300)
@require_GET
def search(request):
    """Autocomplete of collectivités: ``?q=saint etienne&types=commune,epci[&limit=20]``."""
    query = request.GET.get("q", "").strip()
    kinds = None
    if types := request.GET.get("types", "").strip():
        kinds = [kind.strip() for kind in types.split(",") if kind.strip()]
        unknown = sorted(set(kinds) - set(CollectivityKind.values))
        if unknown:
            return JsonResponse(
                {
                    "error": _("Type inconnu : %(types)s. Types possibles : %(known)s.")
                    % {"types": ", ".join(unknown), "known": ", ".join(CollectivityKind.values)},
                    "results": [],
                },
                status=400,
            )
    try:
        limit = int(request.GET.get("limit", 20))
    except ValueError:
        limit = 20
    if len(query) < MIN_QUERY_LENGTH:
        return JsonResponse({"results": []})
    results = [
        {
            "id": collectivity.pk,
            "kind": collectivity.kind,
            "code": collectivity.code,
            "name": collectivity.name,
            "departement": {
                "code": collectivity.departement.code,
                "name": collectivity.departement.name,
            },
            "population": collectivity.population,
            "label": _label(collectivity),
        }
        for collectivity in search_collectivities(query, kinds=kinds, limit=limit)
    ]
    return JsonResponse({"results": results})
