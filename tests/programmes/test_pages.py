"""Public pages: content, accessibility basics and a constant number of queries."""

import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programmes.services import load_catalogue
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


class _Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.headings: list[int] = []
        self.captions = 0
        self.tables = 0
        self.inputs: list[str] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1
        elif tag == "input" and attrs.get("type") not in {"hidden", "submit"}:
            self.inputs.append(attrs.get("id", ""))
        elif tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])


def assert_accessible(response):
    """One h1 first, no skipped heading level, every table captioned, every input labelled."""
    outline = _Outline()
    html = response.content.decode()
    outline.feed(html[html.index('<main id="contenu"') : html.index("</main>")])
    assert outline.headings and outline.headings[0] == 1, outline.headings
    assert outline.headings.count(1) == 1
    for previous, current in zip(outline.headings, outline.headings[1:], strict=False):
        assert current <= previous + 1, outline.headings
    assert outline.captions == outline.tables
    assert all(field_id in outline.labels for field_id in outline.inputs), outline.inputs


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.fixture
def pvd():
    load_catalogue()
    from programmes.models import Programme

    return Programme.objects.get(code="pvd")


def add_members(programme, count, *, epcis=0):
    for _ in range(count):
        ProgrammeMembershipFactory(territory__programme=programme)
    for _ in range(epcis):
        ProgrammeMembershipFactory(territory__programme=programme, commune=None, epci=EPCIFactory())


def test_menu_has_the_programme_pages(client):
    html = client.get(reverse("home")).content.decode()
    for name in ("programme_list", "domain_list", "territory_search"):
        assert f'href="{reverse(f"programmes:{name}")}"' in html


def test_catalogue_lists_programmes_contracts_operators_and_instruments(client, pvd):
    add_members(pvd, 3)
    response = client.get(reverse("programmes:programme_list"))
    html = response.content.decode()
    assert response.status_code == 200
    for text in (
        "Petites villes de demain",
        "3 communes",
        "Pacte pour la réussite de la Sambre-Avesnois-Thiérache",
        "Contrats de ruralité",
        "Cerema",
        "Convention-cadre ANCT – Cerema",
        "Convention-cadre avec un opérateur",
        "Ma commune fait-elle partie d'un programme ?",
    ):
        assert text in html
    assert pvd.get_absolute_url() in html
    assert_accessible(response)


def test_catalogue_runs_a_constant_number_of_queries(client, pvd, django_assert_max_num_queries):
    add_members(pvd, 2)
    few = count_queries(client, reverse("programmes:programme_list"))
    add_members(pvd, 60, epcis=5)
    add_members(ProgrammeFactory(), 20)
    with django_assert_max_num_queries(5):
        many = count_queries(client, reverse("programmes:programme_list"))
    assert many == few


def test_programme_detail_shows_description_counts_and_a_paginated_member_table(client, pvd):
    add_members(pvd, 55, epcis=2)
    url = pvd.get_absolute_url()
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lancé le 1er octobre 2020" in html
    assert "55 communes" in html and "2 intercommunalités" in html
    assert "Membres de Petites villes de demain" in html and "(page 1 sur 2)" in html
    assert html.count('<th scope="row">') == 50
    assert 'class="fr-pagination"' in html
    assert_accessible(response)
    page_2 = client.get(url, {"page": 2}).content.decode()
    assert page_2.count('<th scope="row">') == 7
    assert client.get(url, {"page": 99}).status_code == 200  # last page, not an error


def test_programme_detail_member_search(client, pvd):
    add_members(pvd, 5)
    amiens = CommuneFactory(code="80021", name="Amiens")
    ales = CollectivityFactory(commune=CommuneFactory(code="30007", name="Alès")).commune
    territory = ProgrammeTerritoryFactory(programme=pvd, name="Amiens Étouvie")
    ProgrammeMembershipFactory(territory=territory, commune=amiens)
    ProgrammeMembershipFactory(territory__programme=pvd, commune=ales)
    url = pvd.get_absolute_url()
    html = client.get(url, {"q": "amiens"}).content.decode()
    assert "1 membre de Petites villes de demain correspond à « amiens »" in html
    assert 'href="/territoires/communes/80021/"' in html
    assert (
        'href="/territoires/communes/80021/"' in client.get(url, {"q": "Étouvie"}).content.decode()
    )
    # Names are matched without accents through the territories' search key.
    assert 'href="/territoires/communes/30007/"' in client.get(url, {"q": "ales"}).content.decode()
    assert 'href="/territoires/communes/80021/"' in client.get(url, {"q": "80021"}).content.decode()
    assert "Aucun membre ne correspond à « zzz »" in client.get(url, {"q": "zzz"}).content.decode()


def test_programme_detail_runs_a_constant_number_of_queries(
    client, pvd, django_assert_max_num_queries
):
    add_members(pvd, 3)
    url = pvd.get_absolute_url()
    few = count_queries(client, url)
    add_members(pvd, 120, epcis=10)
    with django_assert_max_num_queries(4):
        many = count_queries(client, url)
    assert many == few
    assert count_queries(client, url + "?page=2") == few
    assert count_queries(client, url + "?q=commune") == few


def test_programme_without_members_and_unknown_programme(client, pvd):
    html = client.get(pvd.get_absolute_url()).content.decode()
    assert "pas encore publiée" in html
    assert client.get(reverse("programmes:programme_detail", args=["nope"])).status_code == 404


def test_domains_page_lists_the_four_themes_with_their_programmes(
    client, pvd, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        response = client.get(reverse("programmes:domain_list"))
    html = response.content.decode()
    for theme in (
        "Politique de la ville",
        "Territoires et ruralité",
        "Numérique",
        "Gestion de crise et relance",
    ):
        assert f">{theme}</h2>" in html
    assert f'<a href="{pvd.get_absolute_url()}">Petites villes de demain</a>' in html
    assert_accessible(response)


@pytest.fixture
def maubeuge(pvd):
    departement = DepartementFactory(code="59", name="Nord", region__name="Hauts-de-France")
    epci = EPCIFactory(siren="200043396", name="CA Maubeuge Val de Sambre", departement=departement)
    commune = CommuneFactory(
        code="59392", name="Maubeuge", departement=departement, epci=epci, population=29_000
    )
    CollectivityFactory(commune=commune)
    CollectivityFactory(epci_level=True, epci=epci)
    territory = ProgrammeTerritoryFactory(programme=pvd, name="Maubeuge", signed_on="2021-06-11")
    ProgrammeMembershipFactory(territory=territory, commune=commune)
    return commune


def test_the_commune_page_of_a_pvd_commune_lists_pvd(client, maubeuge, pvd):
    response = client.get(reverse("programmes:commune", kwargs={"code": "59392"}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in html and ">Maubeuge</h1>" in html
    assert "59 – Nord" in html and "Hauts-de-France" in html
    assert 'href="/territoires/epci/200043396/"' in html
    assert f'href="{pvd.get_absolute_url()}">Petites villes de demain</a>' in html
    assert "Signé le 11 juin 2021." in html
    assert_accessible(response)


def test_commune_page_shows_programmes_through_the_epci_and_covering_contracts(
    client, maubeuge, pvd, django_assert_max_num_queries
):
    from programmes.models import Contract, Programme

    ti = Programme.objects.get(code="ti")
    ProgrammeMembershipFactory(territory__programme=ti, commune=None, epci=maubeuge.epci)
    pact = Contract.objects.get(code="pacte-sambre-avesnois-thierache")
    pact.epcis.add(maubeuge.epci)
    with django_assert_max_num_queries(3):
        html = client.get(maubeuge.get_absolute_url()).content.decode()
    assert "Territoires d&#x27;industrie" in html
    assert "Par son intercommunalité, CA Maubeuge Val de Sambre." in html
    assert "Pacte pour la réussite de la Sambre-Avesnois-Thiérache" in html


def test_commune_page_of_a_commune_in_no_programme(client):
    commune = CommuneFactory(code="01001", name="L'Abergement-Clémenciat")
    html = client.get(commune.get_absolute_url()).content.decode()
    assert "ne fait partie d'aucun programme" in html
    assert client.get(reverse("programmes:commune", kwargs={"code": "00000"})).status_code == 404


def test_epci_page_lists_member_communes_with_their_programmes(
    client, maubeuge, pvd, django_assert_max_num_queries
):
    from programmes.models import Programme

    for n in range(30):
        CommuneFactory(epci=maubeuge.epci, name=f"Commune {n:02d}")
    ti = Programme.objects.get(code="ti")
    for _ in range(3):  # the EPCI in several territories of the programme
        ProgrammeMembershipFactory(territory__programme=ti, commune=None, epci=maubeuge.epci)
    url = reverse("programmes:epci", kwargs={"siren": "200043396"})
    with django_assert_max_num_queries(5):
        response = client.get(url)
    html = response.content.decode()
    assert "31 communes membres de CA Maubeuge Val de Sambre" in html
    assert 'href="/territoires/communes/59392/"' in html
    assert "59 – Nord" in html
    assert_accessible(response)
    assert client.get(reverse("programmes:epci", kwargs={"siren": "000000000"})).status_code == 404


def test_search_with_one_answer_goes_straight_to_the_territory_page(client, maubeuge):
    url = reverse("programmes:territory_search")
    assert client.get(url, {"q": "59392"}).url == maubeuge.get_absolute_url()
    assert client.get(url, {"q": "200043396"}).url == maubeuge.epci.get_absolute_url()


def test_search_with_several_answers_lists_them_with_their_programmes(
    client, maubeuge, pvd, django_assert_max_num_queries
):
    for n in range(25):
        CollectivityFactory(commune=CommuneFactory(name=f"Maubert {n}"))
    url = reverse("programmes:territory_search")
    with django_assert_max_num_queries(2):
        response = client.get(url, {"q": "Maub"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Les 20 premiers résultats pour « Maub »" in html
    assert f'class="fr-tag fr-tag--sm" href="{pvd.get_absolute_url()}"' in html
    assert_accessible(response)


def test_search_without_answer_or_query(client, maubeuge):
    url = reverse("programmes:territory_search")
    html = client.get(url, {"q": "Atlantide"}).content.decode()
    assert "Aucune commune ni intercommunalité ne correspond à « Atlantide »" in html
    response = client.get(url)
    assert response.status_code == 200
    assert "Ma commune fait-elle partie d'un programme ?" in response.content.decode()
    assert_accessible(response)
