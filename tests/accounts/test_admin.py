"""Accounts in the admin: superusers only, and every role change is in the audit log."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import DelegateAssignment
from accounts.roles import NATIONAL_STAFF_GROUP
from tests.accounts.factories import DelegateFactory, NationalStaffFactory, UserFactory
from tests.territories.factories import CollectivityFactory, DepartementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client():
    admin_user = UserFactory(is_staff=True, is_superuser=True, email="admin@anct.gouv.fr")
    client = Client()
    client.force_login(admin_user)
    return client, admin_user


def _change_data(user, **overrides):
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "job_title": user.job_title,
        "phone": user.phone,
        "is_active": "on",
        "date_joined_0": "01/01/2026",
        "date_joined_1": "10:00:00",
        "collectivity_memberships-TOTAL_FORMS": "0",
        "collectivity_memberships-INITIAL_FORMS": "0",
        "delegate_assignments-TOTAL_FORMS": "0",
        "delegate_assignments-INITIAL_FORMS": "0",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_role_changes_are_logged_with_who_what_and_when(superuser_client):
    client, admin_user = superuser_client
    group = Group.objects.create(name=NATIONAL_STAFF_GROUP)
    creuse = DepartementFactory(code="23", name="Creuse")
    collectivity = CollectivityFactory()
    user = UserFactory(email="agent@prefecture.gouv.fr")
    url = reverse("admin:accounts_user_change", args=[user.pk])
    response = client.post(
        url,
        _change_data(
            user,
            is_staff="on",
            groups=[group.pk],
            **{
                "delegate_assignments-TOTAL_FORMS": "1",
                "delegate_assignments-0-departement": creuse.pk,
                "collectivity_memberships-TOTAL_FORMS": "1",
                "collectivity_memberships-0-collectivity": collectivity.pk,
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LogEntry.objects.get(object_id=str(user.pk))
    assert entry.user == admin_user and entry.action_time is not None
    message = entry.get_change_message()
    assert f"Groupes : + {NATIONAL_STAFF_GROUP}" in message
    assert "Délégations territoriales : + " in message and "Creuse" in message
    assert f"Rattachements aux collectivités : + {collectivity}" in message
    assert "accès à l'administration : non → oui" in message

    # Taking the roles away is logged as plainly.
    assignment = DelegateAssignment.objects.get(user=user)
    response = client.post(
        url,
        _change_data(
            user,
            is_staff=None,
            **{
                "delegate_assignments-TOTAL_FORMS": "1",
                "delegate_assignments-INITIAL_FORMS": "1",
                "delegate_assignments-0-id": assignment.pk,
                "delegate_assignments-0-user": user.pk,
                "delegate_assignments-0-departement": creuse.pk,
                "delegate_assignments-0-DELETE": "on",
                "collectivity_memberships-TOTAL_FORMS": "0",
            },
        ),
    )
    assert response.status_code == 302
    latest = LogEntry.objects.filter(object_id=str(user.pk)).latest("action_time", "pk")
    message = latest.get_change_message()
    assert f"Groupes : − {NATIONAL_STAFF_GROUP}" in message
    assert "Délégations territoriales : − " in message
    assert "accès à l'administration : oui → non" in message
    assert not DelegateAssignment.objects.filter(user=user).exists()


def test_delegates_and_national_staff_cannot_manage_accounts():
    for user in (DelegateFactory(), NationalStaffFactory()):
        client = Client()
        client.force_login(user)
        target = UserFactory()
        assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
        response = client.post(
            reverse("admin:accounts_user_change", args=[target.pk]),
            _change_data(target, is_superuser="on", is_staff="on"),
        )
        assert response.status_code == 403
        target.refresh_from_db()
        assert not target.is_superuser
        index = client.get(reverse("admin:index")).content.decode()
        assert reverse("admin:accounts_user_changelist") not in index
