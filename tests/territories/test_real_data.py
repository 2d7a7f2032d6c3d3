"""The committed COG 2026 file, loaded once for the whole module (a few seconds)."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from territories.enums import CollectivityKind, Zone
from territories.models import EPCI, Collectivity, Commune, Departement, Region
from territories.selectors import search_collectivities
from territories.services import load_territories

pytestmark = pytest.mark.django_db

MODELS = (Collectivity, Commune, EPCI, Departement, Region)  # children first


@pytest.fixture(scope="module")
def cog2026(django_db_setup, django_db_blocker):
    """Load the real file outside the tests' transactions, and empty the tables afterwards."""
    with django_db_blocker.unblock():
        report = load_territories()
        yield report
        # Plain DELETEs, children first: no TRUNCATE ... CASCADE into other apps' tables.
        with connection.cursor() as cursor:
            for model in MODELS:
                cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608


def test_counts_of_the_committed_file(cog2026):
    created = {kind: r.created for kind, r in cog2026.kinds.items()}
    assert created == {
        "regions": 26,
        "departements": 109,
        "epci": 1255,
        "communes": 34_969,
        "collectivities": 26 + 109 + 1255 + 34_969,
    }
    assert Region.objects.count() == 26
    assert Region.objects.exclude(zone=Zone.COM).count() == 18
    assert Departement.objects.count() == 109
    assert Departement.objects.exclude(zone=Zone.COM).count() == 101
    assert Commune.objects.count() == 34_969
    assert EPCI.objects.count() == 1255
    # Only islands and overseas collectivités belong to no EPCI.
    assert Commune.objects.filter(epci__isnull=True).count() == 98

    per_kind = dict(Collectivity.objects.values_list("kind").annotate(n=Count("id")))
    assert per_kind == {"commune": 34_969, "epci": 1255, "departement": 109, "region": 26}
    assert Collectivity.objects.filter(kind="commune", commune__isnull=True).count() == 0
    assert Collectivity.objects.filter(kind="epci", epci__isnull=True).count() == 0
    assert Collectivity.objects.filter(kind="region", region__isnull=True).count() == 0
    assert cog2026.source["licence"] == "Licence Ouverte / Open Licence 2.0"


def test_spot_checks(cog2026):
    bouillante = Commune.objects.select_related("departement__region", "epci").get(code="97106")
    assert bouillante.name == "Bouillante"
    assert bouillante.departement.code == "971"
    assert bouillante.departement.region.name == "Guadeloupe"
    assert (bouillante.epci.siren, bouillante.epci.name) == ("249710070", "CA Grand Sud Caraïbe")

    # The EPCI comes from the EPCI member lists.
    assert Commune.objects.get(code="69123").epci.kind == "MET69"
    assert Commune.objects.get(code="74042").epci.siren == "200000172"
    assert Commune.objects.get(code="42218").epci.name == "Saint-Étienne Métropole"
    assert Commune.objects.get(code="29155").epci is None  # Ouessant
    assert Commune.objects.get(code="97502").siren == ""  # COM: no SIREN in the COG

    def departement_of(kind, code):
        return Collectivity.objects.get(kind=kind, code=code).departement.code

    assert departement_of(CollectivityKind.COMMUNE, "97106") == "971"
    assert departement_of(CollectivityKind.REGION, "84") == "69"  # chef-lieu: Lyon
    assert departement_of(CollectivityKind.REGION, "94") == "2A"  # chef-lieu: Ajaccio
    # COG quirk: the TAAF's chef-lieu is 97502 (Saint-Pierre-et-Miquelon); they stay in 984.
    assert departement_of(CollectivityKind.REGION, "984") == "984"
    # CC d'Aire-sur-l'Adour: 12 communes in the Landes, 10 in the Gers, most people in the Landes.
    aire = EPCI.objects.get(name="CC d'Aire-sur-l'Adour")
    assert aire.departement.code == "40"
    assert aire.collectivity.departement_id == aire.departement_id


def test_second_run_changes_nothing(cog2026, capsys):
    before = {model.__name__: sorted(model.objects.values_list()) for model in MODELS}

    call_command("load_territories")

    assert "Aucun changement : les territoires étaient déjà à jour." in capsys.readouterr().out
    after = {model.__name__: sorted(model.objects.values_list()) for model in MODELS}
    assert after == before


@pytest.mark.postgres
def test_search_ranking_on_the_full_data(cog2026, client):
    def first(query, **kwargs):
        result = search_collectivities(query, **kwargs)[0]
        return (result.kind, result.code)

    assert first("saint etienne") == ("commune", "42218")
    assert first("st-étienne") == ("commune", "42218")
    assert first("42218") == ("commune", "42218")
    assert first("244200770") == ("epci", "244200770")
    assert first("Bouillante") == ("commune", "97106")
    assert first("ile de france") == ("region", "11")
    assert first("lyon", kinds=["epci"]) == ("epci", "200046977")

    response = client.get("/territoires/recherche", {"q": "saint etienne", "types": "commune"})
    assert response.json()["results"][0]["label"] == "Saint-Étienne (42218) – Loire"

    # Load time and search latency are measured by `make bench`, not asserted here.
