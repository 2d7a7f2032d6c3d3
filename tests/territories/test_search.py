"""search_collectivities and the /territoires/recherche endpoint, on small factory data."""

import pytest
from django.urls import reverse

from territories.enums import CollectivityKind
from territories.models import Collectivity
from territories.selectors import search_collectivities
from tests.territories.factories import CollectivityFactory, DepartementFactory

pytestmark = pytest.mark.django_db


def commune(name, code, population=1000, departement=None):
    return CollectivityFactory(
        commune__name=name,
        commune__code=code,
        commune__population=population,
        **({"commune__departement": departement} if departement else {}),
    )


def names(query, **kwargs):
    return [c.name for c in search_collectivities(query, **kwargs)]


@pytest.fixture
def loire():
    return DepartementFactory(code="42", name="Loire")


def test_accents_case_punctuation_and_abbreviations_do_not_matter(loire):
    commune("Saint-Étienne", "42218", 173_136, loire)

    for query in ("saint etienne", "SAINT-ÉTIENNE", "st etienne", "St-Étienne", " saint  étienne "):
        assert names(query) == ["Saint-Étienne"], query


def test_exact_name_comes_before_longer_names_even_bigger_ones(loire):
    commune("Saint-Étienne-du-Grand", "76575", 500_000)
    commune("Saint-Étienne", "42218", 173_136, loire)
    commune("Saint-Étienne-de-Baïgorry", "64477", 1_500)

    assert names("saint etienne") == [
        "Saint-Étienne",
        "Saint-Étienne-du-Grand",
        "Saint-Étienne-de-Baïgorry",
    ]


def test_exact_code_comes_first(loire):
    commune("Saint-Étienne", "42218", 173_136, loire)
    # A (made-up) bigger name containing the same digits must not come first.
    commune("Résidence 42218", "75056", 2_100_000)

    assert names("42218") == ["Saint-Étienne", "Résidence 42218"]


def test_epci_found_by_siren_and_departement_by_code(loire):
    epci = CollectivityFactory(epci_level=True, epci__siren="244200770", epci__name="SEM")
    Collectivity.objects.create(
        kind=CollectivityKind.DEPARTEMENT, code="42", name="Loire", departement=loire
    )

    assert [c.pk for c in search_collectivities("244 200 770")] == [epci.pk]
    assert names("42") == ["Loire"]


def test_prefix_comes_before_contains_whatever_the_population():
    commune("Saint-Étienne", "42218", 173_136)
    commune("Étienneville", "50999", 120)

    assert names("etienne") == ["Étienneville", "Saint-Étienne"]


def test_population_breaks_ties_within_a_rank_unknown_last():
    commune("Beaumont-sur-Oise", "95052", 9_000)
    commune("Beaumont", "63032", None)
    commune("Beaumont-Hague", "50041", 3_000)
    commune("Beaumont-de-Lomagne", "82013", 3_700)

    # "Beaumont" alone is the exact name; the three others start with it.
    assert names("beaumont") == [
        "Beaumont",
        "Beaumont-sur-Oise",
        "Beaumont-de-Lomagne",
        "Beaumont-Hague",
    ]
    assert names("mont") == [
        "Beaumont-sur-Oise",
        "Beaumont-de-Lomagne",
        "Beaumont-Hague",
        "Beaumont",
    ]


def test_kinds_filter_and_limit():
    commune("Lyon", "69123", 520_774)
    CollectivityFactory(epci_level=True, epci__name="Métropole de Lyon", epci__population=1_400_000)

    assert names("lyon") == ["Lyon", "Métropole de Lyon"]
    assert names("lyon", kinds=["epci"]) == ["Métropole de Lyon"]
    assert names("lyon", kinds=["commune"]) == ["Lyon"]
    assert names("lyon", limit=1) == ["Lyon"]
    assert names("lyon", kinds=["nonsense"]) == []


@pytest.mark.parametrize("query", ["", "a", " ", "-", "é", "\x00", None])
def test_too_short_queries_find_nothing(query):
    commune("Aa", "01001")

    assert names(query) == []


# Endpoint ------------------------------------------------------------------------------------


def test_endpoint_returns_ranked_results_with_their_departement(client, loire):
    saint_etienne = commune("Saint-Étienne", "42218", 173_136, loire)
    commune("Saint-Étienne-du-Rouvray", "76575", 28_000)

    response = client.get(reverse("territories:search"), {"q": "st etienne", "types": "commune"})

    assert response.status_code == 200
    assert reverse("territories:search") == "/territoires/recherche"
    results = response.json()["results"]
    assert results[0] == {
        "id": saint_etienne.pk,
        "kind": "commune",
        "code": "42218",
        "name": "Saint-Étienne",
        "departement": {"code": "42", "name": "Loire"},
        "population": 173_136,
        "label": "Saint-Étienne (42218) – Loire",
    }
    assert [r["name"] for r in results] == ["Saint-Étienne", "Saint-Étienne-du-Rouvray"]


def test_endpoint_filters_on_types(client):
    commune("Lyon", "69123", 520_774)
    CollectivityFactory(epci_level=True, epci__name="Métropole de Lyon")

    response = client.get("/territoires/recherche", {"q": "lyon", "types": "epci"})

    assert [(r["kind"], r["name"]) for r in response.json()["results"]] == [
        ("epci", "Métropole de Lyon")
    ]
    assert response.json()["results"][0]["label"].startswith("Métropole de Lyon (EPCI) – ")


def test_endpoint_rejects_unknown_types_with_a_400(client):
    response = client.get("/territoires/recherche", {"q": "lyon", "types": "commune,ville"})

    assert response.status_code == 400
    assert "ville" in response.json()["error"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "a"},
        {"q": "\x00\x00"},
        {"q": "%%"},
        {"q": "__"},
        {"q": "x" * 10_000},
        {"q": "🏳️‍🌈 😀"},
        {"q": "' OR 1=1 --"},
        {"q": "lyon", "limit": "beaucoup"},
        {"q": "lyon", "limit": "-3"},
        {"q": "lyon", "limit": "99999999999999999999999"},
        {"q": "lyon", "types": ""},
        {"q": "lyon", "types": ",,"},
    ],
)
def test_endpoint_never_fails_on_odd_input(client, params):
    commune("Lyon", "69123", 520_774)

    response = client.get("/territoires/recherche", params)

    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)


def test_endpoint_is_get_only_and_public(client):
    assert client.post("/territoires/recherche", {"q": "lyon"}).status_code == 405
    assert client.get("/territoires/recherche", {"q": "lyon"}).status_code == 200
