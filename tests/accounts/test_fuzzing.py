"""The account page and the sign-in form under hostile input (hypothesis): never a 500,
nothing saved when the form is refused, and what was typed comes back escaped."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import User
from tests.accounts.factories import OfficialFactory
from tests.fuzz import FUZZ, assert_safe_page, field, post_data, rolled_back

pytestmark = pytest.mark.django_db

PROFILE = ("first_name", "last_name", "job_title", "phone")


@pytest.fixture
def official(db):
    return OfficialFactory(email="maire@commune.fr", first_name="Anne", last_name="Martin")


@FUZZ
@given(
    values=st.fixed_dictionaries(
        {
            "first_name": field(st.text(min_size=1, max_size=30)),
            "last_name": field(st.text(min_size=1, max_size=30)),
            "job_title": field(st.text(max_size=50)),
            "phone": field(st.sampled_from(["05 55 12 34 56", "+33 5 55 12 34 56", "0555"])),
            "email": field(st.just("autre@example.fr")),  # not a field of the form
            "is_staff": field(st.just("on")),  # nor this one
        }
    )
)
def test_account_form(official, values):
    client = Client()
    client.force_login(official)
    values = post_data(values)
    before = User.objects.filter(pk=official.pk).values().get()
    with rolled_back():
        response = client.post(reverse("accounts:account"), values)
        assert_safe_page(response, values)
        after = User.objects.filter(pk=official.pk).values().get()
        if response.status_code == 200:
            assert after == before, "a refused form changed the account"
        else:
            assert response.status_code == 302
            page = client.get(reverse("accounts:account"))
            assert_safe_page(page, values)
        # Whatever was posted, only the profile fields may change.
        assert {k: v for k, v in after.items() if k not in PROFILE} == {
            k: v for k, v in before.items() if k not in PROFILE
        }


@FUZZ
@given(
    values=st.fixed_dictionaries(
        {
            "username": field(st.sampled_from(["maire@commune.fr", "MAIRE@commune.fr"])),
            "password": field(st.text(max_size=30)),
            "next": field(
                st.sampled_from(["/demandes/", "https://ailleurs.example/", "//ailleurs.example"])
            ),
        }
    )
)
def test_login_form(official, values):
    client = Client()
    values = post_data(values)
    with rolled_back():
        response = client.post(reverse("accounts:login"), values)
        assert_safe_page(response, values)
        assert response.status_code in (200, 429)
        assert "_auth_user_id" not in client.session
