"""Reads of the programmes app. Each function runs a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce

from programmes.member_files import COMMUNE_CODE, SIREN, normalize_code
from programmes.models import (
    Contract,
    Operator,
    PriorityDomain,
    Programme,
    ProgrammeMembership,
)
from territories.enums import CollectivityKind
from territories.models import EPCI, Collectivity, Commune
from territories.selectors import search_collectivities
from territories.text import normalize

_ORDER = ("position", "name")


def _commune_or_its_epci(commune: Commune) -> Q:
    condition = Q(commune_id=commune.pk)
    if commune.epci_id:
        condition |= Q(epci_id=commune.epci_id)
    return condition


def programmes_for_commune(commune: Commune) -> QuerySet[Programme]:
    """The programmes a commune belongs to, directly or through its EPCI."""
    members = ProgrammeMembership.objects.filter(_commune_or_its_epci(commune))
    return Programme.objects.filter(Exists(members.filter(programme=OuterRef("pk")))).order_by(
        *_ORDER
    )


def programmes_for_epci(epci: EPCI) -> QuerySet[Programme]:
    members = ProgrammeMembership.objects.filter(epci=epci)
    return Programme.objects.filter(Exists(members.filter(programme=OuterRef("pk")))).order_by(
        *_ORDER
    )


@dataclass
class ProgrammeLink:
    """How a territory belongs to one programme (for the territory pages)."""

    programme: Programme
    territory_names: list[str] = field(default_factory=list)
    signed_on: date | None = None
    direct: bool = False
    through_epci: EPCI | None = None


def _links(memberships) -> list[ProgrammeLink]:
    links: dict[int, ProgrammeLink] = {}
    for membership in memberships:
        link = links.setdefault(membership.programme_id, ProgrammeLink(membership.programme))
        if membership.territory.name not in link.territory_names:
            link.territory_names.append(membership.territory.name)
        signed_on = membership.signed_on or membership.territory.signed_on
        if signed_on and (link.signed_on is None or signed_on < link.signed_on):
            link.signed_on = signed_on
        if membership.commune_id:
            link.direct = True
        else:
            link.through_epci = membership.epci
    return sorted(links.values(), key=lambda link: (link.programme.position, link.programme.name))


def commune_programme_links(commune: Commune) -> list[ProgrammeLink]:
    """One query: the commune's programmes, saying whether it belongs directly or via its EPCI."""
    return _links(
        ProgrammeMembership.objects.filter(_commune_or_its_epci(commune)).select_related(
            "programme", "territory", "epci"
        )
    )


def epci_programme_links(epci: EPCI) -> list[ProgrammeLink]:
    return _links(
        ProgrammeMembership.objects.filter(epci=epci).select_related(
            "programme", "territory", "epci"
        )
    )


@dataclass
class CommuneRow:
    commune: Commune
    programmes: list[Programme]


def epci_member_communes(epci: EPCI) -> list[CommuneRow]:
    """Two queries: the EPCI's communes, each with the programmes it belongs to directly."""
    communes = list(epci.communes.order_by("name"))
    programmes: dict[int, list[Programme]] = {}
    for membership in (
        ProgrammeMembership.objects.filter(commune__epci=epci)
        .select_related("programme")
        .order_by("programme__position", "programme__name")
    ):
        current = programmes.setdefault(membership.commune_id, [])
        if membership.programme not in current:
            current.append(membership.programme)
    return [CommuneRow(commune, programmes.get(commune.pk, [])) for commune in communes]


def contracts_for_commune(commune: Commune) -> QuerySet[Contract]:
    covering = Q(communes=commune) | Q(departements=commune.departement_id)
    if commune.epci_id:
        covering |= Q(epcis=commune.epci_id)
    return Contract.objects.filter(pk__in=Contract.objects.filter(covering).values("pk")).order_by(
        "status", "name"
    )


def contracts_for_epci(epci: EPCI) -> QuerySet[Contract]:
    covering = Q(epcis=epci) | Q(departements=epci.departement_id)
    return Contract.objects.filter(pk__in=Contract.objects.filter(covering).values("pk")).order_by(
        "status", "name"
    )


# --- Catalogue pages -----------------------------------------------------------------------


def programme_catalogue() -> QuerySet[Programme]:
    """One query: programmes with their domain and member counts."""
    return (
        Programme.objects.select_related("domain__parent")
        .annotate(
            commune_count=Count("memberships__commune", distinct=True),
            epci_count=Count("memberships__epci", distinct=True),
        )
        .order_by(*_ORDER)
    )


def contract_catalogue() -> QuerySet[Contract]:
    """Two queries: contracts with their territory counts, and their départements."""
    return (
        Contract.objects.annotate(
            epci_count=Count("epcis", distinct=True),
            commune_count=Count("communes", distinct=True),
        )
        .prefetch_related("departements")
        .order_by("status", "name")
    )


def operators_with_agreements() -> QuerySet[Operator]:
    return Operator.objects.prefetch_related("framework_agreements").order_by("name")


def priority_domain_tree() -> QuerySet[PriorityDomain]:
    """Four queries: themes, their items, and the programmes attached to each."""
    programmes = Prefetch("programmes", queryset=Programme.objects.order_by(*_ORDER))
    items = PriorityDomain.objects.order_by(*_ORDER).prefetch_related(programmes)
    return (
        PriorityDomain.objects.filter(parent=None)
        .order_by(*_ORDER)
        .prefetch_related(Prefetch("children", queryset=items), programmes)
    )


def programme_member_counts(programme: Programme) -> dict[str, int]:
    return ProgrammeMembership.objects.filter(programme=programme).aggregate(
        communes=Count("commune", distinct=True),
        epcis=Count("epci", distinct=True),
        territories=Count("territory", distinct=True),
    )


def programme_members(programme: Programme, query: str = "") -> QuerySet[ProgrammeMembership]:
    """The programme's members by name; ``query`` matches a name, a code or a territory."""
    members = (
        ProgrammeMembership.objects.filter(programme=programme)
        .select_related("territory", "commune__departement", "epci__departement")
        .annotate(member_name=Coalesce("commune__name", "epci__name"))
        .order_by("member_name", "territory__name", "pk")
    )
    query = query.strip()
    if not query:
        return members
    code = normalize_code(query)
    if COMMUNE_CODE.match(code) or SIREN.match(code):
        return members.filter(Q(commune__code=code) | Q(commune__siren=code) | Q(epci__siren=code))
    words = normalize(query)
    return members.filter(
        Q(commune__name__icontains=query)
        | Q(epci__name__icontains=query)
        | Q(territory__name__icontains=query)
        # The accent-free search key of the territories app: "etouvie" finds "Étouvie".
        | Q(commune__collectivity__search_name__contains=words)
        | Q(epci__collectivity__search_name__contains=words)
    )


# --- "Ma commune fait-elle partie d'un programme ?" ----------------------------------------


@dataclass
class TerritoryResult:
    collectivity: Collectivity
    programmes: list[Programme]

    @property
    def is_commune(self) -> bool:
        return self.collectivity.kind == CollectivityKind.COMMUNE

    @property
    def territory(self):
        return self.collectivity.commune if self.is_commune else self.collectivity.epci


def search_territories(query: str, *, limit: int = 20) -> tuple[list[TerritoryResult], bool]:
    """Communes and EPCI matching a name, an INSEE code or a SIREN, with their programmes.

    The matching and ranking are the territories app's (``search_collectivities``). Returns the
    results and whether there were more than ``limit``. Two queries whatever the results.
    """
    text = (query or "").strip()
    if not text:
        return [], False
    code = normalize_code(text)
    if COMMUNE_CODE.match(code) or SIREN.match(code):
        text = code  # "1004" typed for "01004", spaces inside a SIREN
    found = search_collectivities(
        text, kinds=[CollectivityKind.COMMUNE, CollectivityKind.EPCI], limit=limit + 1
    ).select_related("commune__departement", "commune__epci", "epci__departement")
    collectivities = list(found)
    more = len(collectivities) > limit
    collectivities = collectivities[:limit]

    commune_ids = {c.commune_id for c in collectivities if c.commune_id}
    epci_ids = {c.epci_id for c in collectivities if c.epci_id} | {
        c.commune.epci_id for c in collectivities if c.commune_id and c.commune.epci_id
    }
    by_commune: dict[int, list[Programme]] = {}
    by_epci: dict[int, list[Programme]] = {}
    if commune_ids or epci_ids:
        for membership in (
            ProgrammeMembership.objects.filter(
                Q(commune_id__in=commune_ids) | Q(epci_id__in=epci_ids)
            )
            .select_related("programme")
            .order_by("programme__position", "programme__name")
        ):
            if membership.commune_id:
                by_commune.setdefault(membership.commune_id, []).append(membership.programme)
            else:
                by_epci.setdefault(membership.epci_id, []).append(membership.programme)

    results = []
    for collectivity in collectivities:
        if collectivity.commune_id:
            programmes = by_commune.get(collectivity.commune_id, []) + by_epci.get(
                collectivity.commune.epci_id, []
            )
        else:
            programmes = by_epci.get(collectivity.epci_id, [])
        unique = {programme.pk: programme for programme in programmes}
        ordered = sorted(unique.values(), key=lambda p: (p.position, p.name))
        results.append(TerritoryResult(collectivity, ordered))
    return results, more
