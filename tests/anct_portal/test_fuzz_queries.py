"""Lists, searches and filters under hostile query parameters (hypothesis): never a 500.

Found by it: a NUL in the search box of "Mes demandes" was a 500 on PostgreSQL.
"""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from engineering_requests.enums import RequestState
from tests.engineering_requests.factories import Cast
from tests.fuzz import FUZZ, assert_safe_page, hostile_text

pytestmark = pytest.mark.django_db

PARAMETERS = (
    "q",
    "statut",
    "page",
    "p",
    "o",
    "departement",
    "region",
    "programme",
    "domaine",
    "forme",
    "du",
    "au",
    "tri",
    "ordre",
    "a_traiter",
    "anciennete",
    "motif",
    "filtre",
    "types",
    "start",
    "end",
    "format",
    "next",
)


@pytest.fixture
def cast(db):
    cast = Cast.create()
    cast.request_in(RequestState.IN_REVIEW)
    return cast


PAGES = (
    ("official", "engineering_requests:list"),
    ("official", "engineering_requests:followed"),
    ("official", "notifications:inbox"),
    ("delegate", "admin:engineering_requests_engineeringrequest_changelist"),
    ("national", "admin:engineering_requests_escalatedrequest_changelist"),
    ("delegate", "admin:engineering_requests_engineeringrequest_comite_report"),
    ("delegate", "dashboard:kpi"),
    ("national", "dashboard:kpi"),
    (None, "dashboard:public"),
    (None, "programmes:territory_search"),
    (None, "territories:search"),
    (None, "accounts:login"),
)


@pytest.mark.parametrize(("role", "name"), PAGES)
def test_hostile_query_parameters_never_break_a_page(cast, role, name):
    client = Client()
    if role is not None:
        client.force_login(getattr(cast, role))
    url = reverse(name)

    @FUZZ.__class__(FUZZ, max_examples=25)
    @given(
        params=st.dictionaries(st.sampled_from(PARAMETERS), hostile_text, min_size=1, max_size=4)
    )
    def run(params):
        response = client.get(url, params)
        assert_safe_page(response, params)

    run()


# Found by the test above: these were 500s (OverflowError one day after 9999-12-31, or
# 0001-01-01 in UTC). They are now refused by the form, in French.
@pytest.mark.parametrize(
    ("role", "name", "params"),
    [
        ("delegate", "dashboard:kpi", {"au": "9999-12-31"}),
        ("national", "dashboard:kpi", {"du": "0001-01-01"}),
        (None, "dashboard:public", {"au": "9999-12-31"}),
        (None, "dashboard:public_csv", {"du": "0001-01-01", "au": "9999-12-31"}),
        ("delegate", "admin:engineering_requests_engineeringrequest_comite_report", {}),
    ],
)
def test_far_away_dates_are_refused_not_a_server_error(cast, role, name, params):
    client = Client()
    if role is not None:
        client.force_login(getattr(cast, role))
    if name.endswith("comite_report"):
        params = {
            "departement": cast.collectivity.departement_id,
            "start": "9999-12-30",
            "end": "9999-12-31",
            "format": "csv",
        }
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    if response["Content-Type"].startswith("text/html"):
        assert "Saisissez une date entre 2000 et 2100." in response.content.decode()


def test_a_nul_in_the_search_box_is_ignored(cast):
    client = Client()
    client.force_login(cast.official)
    response = client.get(reverse("engineering_requests:list"), {"q": "pont\x00"})
    assert response.status_code == 200
