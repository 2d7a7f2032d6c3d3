"""Demo data for ``create_demo_data``: programme members and local providers without the
official files, so that a fresh ``make run`` shows territory pages with programmes."""

from collections.abc import Iterable

from django.db import transaction

from programmes.enums import ProviderKind
from programmes.models import LocalProvider, Programme, ProgrammeMembership
from programmes.services import add_programme_member, load_catalogue
from territories.models import Commune, Departement

# Handed out in turn, one per commune; the first commune's EPCI also joins Territoires
# d'industrie so that the demo shows a membership "through the EPCI".
DEMO_PROGRAMMES = ("pvd", "acv", "villages_avenir", "france_services")
DEMO_TERRITORY_PREFIX = "demo-"


@transaction.atomic
def mark_demo_memberships(
    communes: Iterable[Commune], *, programme_codes: Iterable[str] = DEMO_PROGRAMMES
) -> list[ProgrammeMembership]:
    """Make each commune a member of a demo programme; safe to call again."""
    codes = list(programme_codes)
    needed = {*codes, "ti"}
    if Programme.objects.filter(code__in=needed).count() < len(needed):
        load_catalogue()
    programmes = Programme.objects.in_bulk(list(needed), field_name="code")
    memberships = []
    for index, commune in enumerate(communes):
        programme = programmes[codes[index % len(codes)]]
        memberships.append(
            add_programme_member(
                programme=programme,
                territory_id=f"{DEMO_TERRITORY_PREFIX}{programme.code}-{commune.code}",
                territory_name=f"{programme.name} – {commune.name} (démonstration)",
                commune=commune,
            )
        )
        if index == 0 and commune.epci_id:
            memberships.append(
                add_programme_member(
                    programme=programmes["ti"],
                    territory_id=f"{DEMO_TERRITORY_PREFIX}ti-{commune.epci.siren}",
                    territory_name=f"Territoire d'industrie {commune.epci.name} (démonstration)",
                    epci=commune.epci,
                )
            )
    return memberships


@transaction.atomic
def ensure_demo_local_providers(departement: Departement) -> list[LocalProvider]:
    """Three typical local engineering providers of a département (demo e-mail addresses)."""
    slug = departement.code.lower()
    providers = []
    for kind, name, email in (
        (
            ProviderKind.TECHNICAL_AGENCY,
            f"Agence technique départementale – {departement.name}",
            f"contact@atd-{slug}.demo.test",
        ),
        (
            ProviderKind.CAUE,
            f"CAUE – {departement.name}",
            f"contact@caue-{slug}.demo.test",
        ),
        (
            ProviderKind.DDT,
            f"Direction départementale des territoires – {departement.name}",
            f"ddt@{slug}.demo.test",
        ),
    ):
        provider, _created = LocalProvider.objects.get_or_create(
            departement=departement, kind=kind, name=name, defaults={"email": email}
        )
        providers.append(provider)
    return providers
