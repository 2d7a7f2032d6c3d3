"""Admin of the reference territories: searchable, read-mostly."""

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse

from territories.models import EPCI, Collectivity, Commune, Departement, Region
from tests.accounts.factories import UserFactory
from tests.territories.factories import CollectivityFactory

pytestmark = pytest.mark.django_db

MODELS = (Region, Departement, EPCI, Commune, Collectivity)


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.mark.parametrize("model", MODELS)
def test_changelists_search_and_open(client, superuser, model):
    CollectivityFactory(commune__name="Saint-Étienne", commune__code="42218")
    client.force_login(superuser)
    url = reverse(f"admin:territories_{model._meta.model_name}_changelist")

    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "42218"}).status_code == 200
    assert site._registry[model].show_full_result_count is False


def test_collectivity_search_ignores_accents_and_abbreviations(client, superuser):
    CollectivityFactory(commune__name="Saint-Étienne", commune__code="42218")
    CollectivityFactory(commune__name="Lyon", commune__code="69123", name="Lyon")
    client.force_login(superuser)
    url = reverse("admin:territories_collectivity_changelist")

    response = client.get(url, {"q": "st etienne"})

    assert list(response.context["cl"].result_list.values_list("code", flat=True)) == ["42218"]
    response = client.get(url, {"q": "69123"})
    assert list(response.context["cl"].result_list.values_list("code", flat=True)) == ["69123"]


@pytest.mark.parametrize("model", MODELS)
def test_only_superusers_add_or_delete_reference_data(superuser, model):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="territories"))
    model_admin = site._registry[model]
    request = RequestFactory().get("/")

    request.user = staff
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_change_permission(request)

    request.user = superuser
    assert model_admin.has_add_permission(request)
    assert model_admin.has_delete_permission(request)
