"""Personal data from the accounts admin (superusers): export one account as JSON, delete
(anonymise) accounts after a confirmation page; the stock hard delete is not offered."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from accounts.models import User
from engineering_requests.enums import RequestState as S
from engineering_requests.models import TransitionLog
from tests.accounts.factories import UserFactory
from tests.engineering_requests.factories import Cast

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")


@pytest.fixture
def cast(db):
    return Cast.create()


@pytest.fixture
def support(db):
    client = Client()
    user = UserFactory(superuser=True)
    client.force_login(user)
    client.user = user
    return client


def act(client, action, users, follow=False, **extra):
    data = {"action": action, "_selected_action": [u.pk for u in users], **extra}
    return client.post(CHANGELIST, data, follow=follow)


def test_export_downloads_the_json_of_one_account_and_is_audited(support, cast):
    cast.request_in(S.SUBMITTED)

    response = act(support, "export_personal_data", [cast.official])

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="donnees-personnelles-{cast.official.pk}.json"'
    )
    data = json.loads(response.content)
    assert data["account"]["email"] == cast.official.email
    assert len(data["requests_submitted"]) == 1
    entry = LogEntry.objects.get(object_id=str(cast.official.pk))
    assert entry.user == support.user and "Export" in entry.get_change_message()

    several = act(support, "export_personal_data", [cast.official, cast.colleague], follow=True)
    assert "Choisissez un seul compte à exporter." in several.content.decode()


def test_delete_asks_for_confirmation_then_anonymises(support, cast):
    request = cast.request_in(S.IN_REVIEW)
    trail = list(TransitionLog.objects.filter(engineering_request=request).values_list(
        "pk", "actor_id", "transition"))  # fmt: skip

    page = act(support, "delete_accounts", [cast.official, support.user])

    assert page.status_code == 200
    html = page.content.decode()
    assert cast.official.email in html and support.user.email not in html  # never oneself
    assert User.objects.get(pk=cast.official.pk).is_active

    done = act(support, "delete_accounts", [cast.official], confirm="yes")

    assert done.status_code == 302
    user = User.objects.get(pk=cast.official.pk)
    assert user.is_deleted and not user.is_active and str(user) == "Compte supprimé"
    assert trail == list(TransitionLog.objects.filter(engineering_request=request).values_list(
        "pk", "actor_id", "transition"))  # fmt: skip
    assert LogEntry.objects.filter(object_id=str(user.pk), user=support.user).exists()


def test_the_stock_hard_delete_is_not_offered(support, cast):
    url = reverse("admin:accounts_user_delete", args=[cast.official.pk])
    assert support.get(url).status_code == 403
    assert support.post(url, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=cast.official.pk).exists()
    actions = support.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert "delete_selected" not in dict(actions)
