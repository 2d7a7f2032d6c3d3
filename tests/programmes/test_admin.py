import pytest
from django.urls import reverse

from programmes.models import Programme, ProgrammeMembership
from programmes.services import load_catalogue
from tests.accounts.factories import UserFactory
from tests.programmes.factories import (
    LocalProviderFactory,
    ProgrammeFactory,
    ProgrammeMembershipFactory,
)
from tests.territories.factories import CommuneFactory

pytestmark = pytest.mark.django_db

MODELS = (
    "prioritydomain",
    "programme",
    "contract",
    "operator",
    "frameworkagreement",
    "localprovider",
    "programmeterritory",
    "programmemembership",
)


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def catalogue():
    load_catalogue()
    pvd = Programme.objects.get(code="pvd")
    for _ in range(3):
        ProgrammeMembershipFactory(territory__programme=pvd)
    LocalProviderFactory()
    return pvd


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_opens_and_searches(admin_client, catalogue, model):
    url = reverse(f"admin:programmes_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "petites"}).status_code == 200


def test_catalogue_rows_lock_the_loader_owned_fields_but_not_the_editorial_ones(
    admin_client, catalogue
):
    html = admin_client.get(
        reverse("admin:programmes_programme_change", args=[catalogue.pk])
    ).content.decode()
    for editable in ("description", "short_description", "url", "position"):
        assert f'name="{editable}"' in html
    for locked in ("code", "name", "status", "start_date", "end_date", "domain"):
        assert f'name="{locked}"' not in html
    assert "Catalogue national (load_programmes)" in html


def test_rows_created_in_the_admin_are_fully_editable(admin_client):
    mine = ProgrammeFactory(code="quartiers-2030")
    html = admin_client.get(
        reverse("admin:programmes_programme_change", args=[mine.pk])
    ).content.decode()
    assert 'name="code"' in html and 'name="name"' in html


def test_memberships_are_read_only_and_searchable_by_commune(admin_client, catalogue):
    membership = ProgrammeMembership.objects.select_related("commune").first()
    url = reverse("admin:programmes_programmemembership_changelist")
    html = admin_client.get(url, {"q": membership.commune.code}).content.decode()
    assert membership.commune.name in html
    assert reverse("admin:programmes_programmemembership_add") not in html
    add = admin_client.get(reverse("admin:programmes_programmemembership_add"))
    assert add.status_code == 403


def test_programme_list_links_to_its_members(admin_client, catalogue):
    html = admin_client.get(reverse("admin:programmes_programme_changelist")).content.decode()
    assert f"programmemembership/?programme__id__exact={catalogue.pk}" in html


def test_contract_territories_use_autocomplete(admin_client, catalogue):
    CommuneFactory(name="Abbeville", code="80001")
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "programmes",
            "model_name": "contract",
            "field_name": "communes",
            "term": "Abbev",
        },
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Abbeville (80001)"]
