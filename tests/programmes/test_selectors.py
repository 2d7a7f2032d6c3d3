import pytest

from programmes.selectors import (
    commune_programme_links,
    contracts_for_commune,
    programmes_for_commune,
    search_territories,
)
from territories.enums import CollectivityKind
from tests.programmes.factories import (
    ProgrammeFactory,
    ProgrammeMembershipFactory,
    ProgrammeTerritoryFactory,
)
from tests.territories.factories import (
    CollectivityFactory,
    CommuneFactory,
    DepartementFactory,
    EPCIFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting():
    departement = DepartementFactory(code="59", name="Nord")
    epci = EPCIFactory(siren="200043396", name="CA Maubeuge Val de Sambre", departement=departement)
    commune = CommuneFactory(code="59392", name="Maubeuge", departement=departement, epci=epci)
    neighbour = CommuneFactory(code="59324", name="Jeumont", departement=departement, epci=epci)
    pvd, ti, acv = (
        ProgrammeFactory(code="pvd", position=2),
        ProgrammeFactory(code="ti", position=3),
        ProgrammeFactory(code="acv", position=1),
    )
    ProgrammeMembershipFactory(territory__programme=pvd, commune=commune)
    ProgrammeMembershipFactory(territory__programme=ti, commune=None, epci=epci)
    ProgrammeMembershipFactory(territory__programme=acv, commune=neighbour)
    return {"commune": commune, "neighbour": neighbour, "epci": epci, "pvd": pvd, "ti": ti}


def test_programmes_for_commune_direct_and_through_its_epci(setting):
    assert [p.code for p in programmes_for_commune(setting["commune"])] == ["pvd", "ti"]
    assert [p.code for p in programmes_for_commune(setting["neighbour"])] == ["acv", "ti"]


def test_a_commune_without_epci_only_gets_its_own_programmes(setting):
    alone = CommuneFactory(epci=None)
    assert list(programmes_for_commune(alone)) == []
    ProgrammeMembershipFactory(territory__programme=setting["pvd"], commune=alone)
    assert list(programmes_for_commune(alone)) == [setting["pvd"]]


def test_a_programme_appears_once_even_with_several_memberships(setting):
    territory = ProgrammeTerritoryFactory(programme=setting["ti"])
    ProgrammeMembershipFactory(territory=territory, commune=setting["commune"])
    assert [p.code for p in programmes_for_commune(setting["commune"])] == ["pvd", "ti"]
    links = {link.programme.code: link for link in commune_programme_links(setting["commune"])}
    assert links["ti"].direct and links["ti"].through_epci == setting["epci"]
    assert links["pvd"].direct and links["pvd"].through_epci is None


def test_contracts_cover_a_commune_through_itself_its_epci_or_its_departement(setting):
    from programmes.models import Contract

    commune = setting["commune"]
    by_departement = Contract.objects.create(code="a", name="A", kind="pact")
    by_departement.departements.add(commune.departement)
    by_epci = Contract.objects.create(code="b", name="B", kind="pact")
    by_epci.epcis.add(setting["epci"])
    by_commune = Contract.objects.create(code="c", name="C", kind="pact")
    by_commune.communes.add(commune)
    elsewhere = Contract.objects.create(code="d", name="D", kind="pact")
    elsewhere.departements.add(DepartementFactory())
    assert list(contracts_for_commune(commune)) == [by_departement, by_epci, by_commune]


def test_search_by_name_code_or_siren_gives_each_result_its_programmes(setting):
    for territory in (setting["commune"], setting["neighbour"]):
        CollectivityFactory(commune=territory)
    CollectivityFactory(epci_level=True, epci=setting["epci"])

    results, more = search_territories("maubeuge")
    assert not more
    assert [(r.collectivity.kind, [p.code for p in r.programmes]) for r in results] == [
        (CollectivityKind.COMMUNE, ["pvd", "ti"]),
        (CollectivityKind.EPCI, ["ti"]),
    ]
    assert [r.territory for r in search_territories("59324")[0]] == [setting["neighbour"]]
    assert [r.territory for r in search_territories("200043396")[0]] == [setting["epci"]]
    assert search_territories("  ") == ([], False)
    assert search_territories("Sambre")[0][0].territory == setting["epci"]  # a word inside


def test_search_is_accent_and_case_insensitive_and_exact_names_come_first():
    CollectivityFactory(commune=CommuneFactory(name="Saint-Étienne-du-Bois", population=2_000))
    CollectivityFactory(commune=CommuneFactory(name="Saint-Étienne", population=170_000))
    CollectivityFactory(commune=CommuneFactory(name="Saint-Étienne-de-Tinée", population=400))
    names = [r.territory.name for r in search_territories("st etienne")[0]]
    assert names == ["Saint-Étienne", "Saint-Étienne-du-Bois", "Saint-Étienne-de-Tinée"]
    results, more = search_territories("saint", limit=2)
    assert len(results) == 2 and more
