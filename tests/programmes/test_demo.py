import pytest

from programmes.demo import ensure_demo_local_providers, mark_demo_memberships
from programmes.models import LocalProvider, Programme, ProgrammeMembership
from programmes.selectors import programmes_for_commune
from tests.territories.factories import CommuneFactory, DepartementFactory, EPCIFactory

pytestmark = pytest.mark.django_db


def test_demo_communes_become_members_without_the_official_files():
    epci = EPCIFactory()
    communes = [CommuneFactory(epci=epci), CommuneFactory(), CommuneFactory()]
    mark_demo_memberships(communes)
    assert Programme.objects.filter(code="pvd").exists()  # the catalogue was loaded
    assert [p.code for p in programmes_for_commune(communes[0])] == ["pvd", "ti"]
    assert [p.code for p in programmes_for_commune(communes[1])] == ["acv"]
    assert [p.code for p in programmes_for_commune(communes[2])] == ["villages_avenir"]
    count = ProgrammeMembership.objects.count()
    mark_demo_memberships(communes)
    assert ProgrammeMembership.objects.count() == count


def test_demo_local_providers_are_created_once():
    departement = DepartementFactory(code="80", name="Somme")
    providers = ensure_demo_local_providers(departement)
    assert len(providers) == 3
    assert ensure_demo_local_providers(departement) == providers
    assert LocalProvider.objects.filter(departement=departement).count() == 3
    assert all(p.email.endswith(".demo.test") for p in providers)
