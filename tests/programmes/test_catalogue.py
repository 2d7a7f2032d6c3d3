"""load_programmes: the catalogue DESIGN names, idempotence, and admin edits that survive."""

from io import StringIO

import pytest
from django.core.management import call_command

from programmes.enums import CatalogueSource, ContractKind, ProgrammeStatus
from programmes.models import (
    Contract,
    FrameworkAgreement,
    Operator,
    PriorityDomain,
    Programme,
)
from tests.programmes.factories import ProgrammeFactory
from tests.territories.factories import DepartementFactory, EPCIFactory

pytestmark = pytest.mark.django_db


def load() -> str:
    out = StringIO()
    call_command("load_programmes", stdout=out)
    return out.getvalue()


def test_loads_the_programmes_operators_and_contracts_other_code_relies_on():
    load()
    assert {"acv", "pvd", "ti", "france_services", "cites_educatives", "villages_avenir"} <= set(
        Programme.objects.values_list("code", flat=True)
    )
    assert set(Operator.objects.values_list("code", flat=True)) == {
        "ademe",
        "anru",
        "anah",
        "cerema",
        "banque_des_territoires",
    }
    assert FrameworkAgreement.objects.filter(operator__code="cerema").exists()
    assert Programme.objects.exclude(description="").count() == Programme.objects.count()
    assert all(p.domain_id for p in Programme.objects.all())
    assert Contract.objects.filter(kind=ContractKind.PACT, name__icontains="Sambre").exists()
    assert Contract.objects.filter(name__icontains="Bassin minier").exists()
    assert Contract.objects.filter(kind=ContractKind.COHESION_CONTRACT).exists()
    rurality = Contract.objects.get(kind=ContractKind.RURALITY_CONTRACT)
    assert (rurality.status, rurality.end_date.isoformat()) == (
        ProgrammeStatus.CLOSED,
        "2020-12-31",
    )
    assert not Programme.objects.exclude(source=CatalogueSource.CATALOGUE).exists()


# DESIGN §1, "Priority domains": every item the roadmap names, by theme (in French).
ROADMAP_DOMAINS = {
    "Politique de la ville": {
        "Cités éducatives",
        "Réussite éducative",
        "Stages de 3e",
        "Décrochage scolaire",
        "Lutte contre les discriminations",
        "Participation citoyenne",
        "Jeunesse, sports, culture et loisirs éducatifs",
        "Grande équipe de la réussite républicaine",
        "Économie sociale et solidaire",
        "Vie associative",
        "Ambition culturelle",
    },
    "Territoires et ruralité": {
        "Agenda rural",
        "Climat",
        "Tourisme",
        "Programme montagne",
        "Action cœur de ville",
        "Petites villes de demain",
        "Accès aux services",
        "France Services",
        "Territoires d'industrie",
        "Territoires fragiles",
        "Revitalisation commerciale",
        "Santé",
    },
    "Numérique": {
        "Accès au très haut débit",
        "Fracture numérique",
        "Inclusion numérique",
        "Tiers-lieux",
        "Couverture mobile",
    },
    "Gestion de crise et relance": {
        "Relance",
        "Résilience",
        "Transition écologique",
        "Circuits courts",
    },
}


def test_every_priority_domain_item_of_the_roadmap_is_there_on_two_levels():
    load()
    themes = PriorityDomain.objects.filter(parent=None).prefetch_related("children")
    assert [theme.name for theme in themes] == list(ROADMAP_DOMAINS)
    for theme in themes:
        assert {item.name for item in theme.children.all()} >= ROADMAP_DOMAINS[theme.name]
    assert not PriorityDomain.objects.filter(parent__parent__isnull=False).exists()


def test_second_run_changes_nothing():
    load()
    first = {
        model: list(model.objects.order_by("pk").values())
        for model in (PriorityDomain, Programme, Contract, Operator, FrameworkAgreement)
    }
    output = load()
    assert "rien n'a changé" in output
    assert "créés" not in output and "mis à jour" not in output
    for model, rows in first.items():
        assert list(model.objects.order_by("pk").values()) == rows


def test_admin_edits_of_descriptions_and_links_survive_a_reload():
    load()
    acv = Programme.objects.get(code="acv")
    acv.description = "Texte revu par l'équipe nationale."
    acv.short_description = "Résumé revu."
    acv.url = "https://example.gouv.fr/acv"
    acv.position = 99
    acv.save()
    cerema = Operator.objects.get(code="cerema")
    cerema.description = "Description locale."
    cerema.save()
    agreement = FrameworkAgreement.objects.get(code="convention-cadre-cerema")
    agreement.signed_on = "2021-03-01"
    agreement.save()

    assert "rien n'a changé" in load()
    acv.refresh_from_db()
    assert (acv.description, acv.short_description, acv.url, acv.position) == (
        "Texte revu par l'équipe nationale.",
        "Résumé revu.",
        "https://example.gouv.fr/acv",
        99,
    )
    cerema.refresh_from_db()
    assert cerema.description == "Description locale."
    agreement.refresh_from_db()
    assert agreement.signed_on.isoformat() == "2021-03-01"


def test_owned_fields_are_put_back_in_line_with_the_catalogue():
    load()
    Programme.objects.filter(code="pvd").update(name="PVD", end_date=None)
    output = load()
    assert "Programmes — mis à jour (1) : pvd (name, end_date)" in output
    pvd = Programme.objects.get(code="pvd")
    assert pvd.name == "Petites villes de demain" and pvd.end_date is not None


def test_rows_created_in_the_admin_are_never_touched():
    ProgrammeFactory(code="acv", name="Notre ACV", description="local")  # source: admin
    mine = ProgrammeFactory(code="quartiers-2030", name="Quartiers 2030")
    output = load()
    assert "Créé dans l'administration, laissé tel quel — Programmes : acv" in output
    assert Programme.objects.get(code="acv").name == "Notre ACV"
    assert Programme.objects.get(pk=mine.pk).name == "Quartiers 2030"


def test_contract_territories_missing_now_are_skipped_then_linked_later():
    output = load()
    assert "Territoires absents, ignorés" in output
    assert "pacte-sambre-avesnois-thierache : EPCI 200043396" in output
    pact = Contract.objects.get(code="pacte-sambre-avesnois-thierache")
    assert not pact.epcis.exists()

    aisne = DepartementFactory(code="02", name="Aisne")
    maubeuge = EPCIFactory(siren="200043396", name="CA Maubeuge Val de Sambre")
    thierache = EPCIFactory(
        siren="240200444", name="CC de la Thiérache du Centre", departement=aisne
    )
    output = load()
    assert "pacte-sambre-avesnois-thierache (+2 EPCI)" in output
    assert set(pact.epcis.all()) == {maubeuge, thierache}

    # A territory added in the admin stays; the next run changes nothing.
    extra = EPCIFactory(siren="200000001")
    pact.epcis.add(extra)
    assert "rien n'a changé" in load()
    assert extra in pact.epcis.all()
