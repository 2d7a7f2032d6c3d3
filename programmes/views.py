"""Public pages: the support offer, the programmes, the domains and the territory pages."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from programmes import selectors
from programmes.enums import NationalInstrument
from programmes.models import Programme
from territories.models import EPCI, Commune

MEMBERS_PER_PAGE = 50
# Search terms longer than this are cut: nobody types a 100-character commune name.
MAX_QUERY_LENGTH = 100


def _query(request) -> str:
    return request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]


def _breadcrumb(current: str, *links: tuple[str, str]) -> dict:
    return {"links": [{"url": url, "title": title} for url, title in links], "current": current}


@require_GET
def programme_list(request):
    return render(
        request,
        "programmes/programme_list.html",
        {
            "programmes": selectors.programme_catalogue(),
            "contracts": selectors.contract_catalogue(),
            "operators": selectors.operators_with_agreements(),
            "instruments": NationalInstrument.choices,
            "breadcrumb": _breadcrumb(_("Programmes et contrats")),
        },
    )


@require_GET
def programme_detail(request, code):
    programme = get_object_or_404(Programme.objects.select_related("domain__parent"), code=code)
    query = _query(request)
    page = Paginator(selectors.programme_members(programme, query), MEMBERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    # The DSFR pagination template reads this attribute ("…" marks the gaps).
    page.pages_list = list(page.paginator.get_elided_page_range(page.number, on_ends=1))
    return render(
        request,
        "programmes/programme_detail.html",
        {
            "programme": programme,
            "counts": selectors.programme_member_counts(programme),
            "page_obj": page,
            "query": query,
            "breadcrumb": _breadcrumb(
                programme.name,
                (reverse("programmes:programme_list"), _("Programmes et contrats")),
            ),
        },
    )


@require_GET
def domain_list(request):
    return render(
        request,
        "programmes/domain_list.html",
        {
            "themes": selectors.priority_domain_tree(),
            "breadcrumb": _breadcrumb(_("Domaines prioritaires")),
        },
    )


@require_GET
def territory_search(request):
    query = _query(request)
    results, more = selectors.search_territories(query)
    if len(results) == 1 and not more:
        # One match answers the question: go straight to its page.
        return redirect(results[0].territory.get_absolute_url())
    return render(
        request,
        "programmes/territory_search.html",
        {
            "query": query,
            "results": results,
            "more": more,
            "breadcrumb": _breadcrumb(_("Ma commune")),
        },
    )


@require_GET
def commune_detail(request, code):
    commune = get_object_or_404(
        Commune.objects.select_related("departement__region", "epci"), code=code
    )
    return render(
        request,
        "programmes/commune_detail.html",
        {
            "commune": commune,
            "links": selectors.commune_programme_links(commune),
            "contracts": selectors.contracts_for_commune(commune),
            "breadcrumb": _breadcrumb(
                commune.name, (reverse("programmes:territory_search"), _("Ma commune"))
            ),
        },
    )


@require_GET
def epci_detail(request, siren):
    epci = get_object_or_404(EPCI.objects.select_related("departement__region"), siren=siren)
    return render(
        request,
        "programmes/epci_detail.html",
        {
            "epci": epci,
            "links": selectors.epci_programme_links(epci),
            "communes": selectors.epci_member_communes(epci),
            "contracts": selectors.contracts_for_epci(epci),
            "breadcrumb": _breadcrumb(
                epci.name, (reverse("programmes:territory_search"), _("Ma commune"))
            ),
        },
    )
