import pytest
from django.http import HttpRequest

from accounts import roles
from tests.accounts.factories import (
    DelegateFactory,
    NationalStaffFactory,
    OfficialFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_roles_come_from_memberships():
    official, delegate, national, nobody = (
        OfficialFactory(),
        DelegateFactory(),
        NationalStaffFactory(),
        UserFactory(),
    )
    assert roles.is_official(official) and not roles.is_staff_role(official)
    assert roles.is_delegate(delegate) and roles.is_staff_role(delegate)
    assert roles.is_national_staff(national) and roles.is_staff_role(national)
    assert not any(
        check(nobody) for check in (roles.is_official, roles.is_delegate, roles.is_national_staff)
    )


def test_email_is_the_login_and_is_case_insensitive(client):
    UserFactory(email="Maire@Commune.fr")
    # django-axes checks every authentication against a request (sign-in throttling).
    assert client.login(
        request=HttpRequest(), email="maire@commune.fr", password="mot-de-passe-de-test-2026"
    )
