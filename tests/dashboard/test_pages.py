"""The dashboard pages as their users see them: scope, figures, sorting, CSV, privacy, queries."""

import csv
import io
import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from dashboard.selectors import clear_local_cache
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from tests.accounts.factories import OfficialFactory, UserFactory
from tests.dashboard.factories import crafted_data_set, place, request_at
from tests.territories.factories import DepartementFactory

pytestmark = pytest.mark.django_db

KPI = reverse("dashboard:kpi")
PUBLIC = reverse("dashboard:public")
PUBLIC_CSV = reverse("dashboard:public_csv")


@pytest.fixture
def data():
    return crafted_data_set(timezone.now())


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr data-departement="([^"]+)"', html)


def rate_on_page(html: str) -> str:
    return re.search(r'id="taux-resolution-locale">([^<]*)<', html).group(1)


def test_national_staff_see_all_of_france_with_a_map(client, data):
    client.force_login(data.national)
    response = client.get(KPI)
    assert response.status_code == 200
    html = response.content.decode()
    assert rate_on_page(html) == "71,4 %"
    assert set(rows_of(html)) == {p.departement.code for p in (data.a, data.b, data.c)}
    assert "Toute la France" in html
    assert 'class="dashboard-map__svg"' in html
    # Test départements have no metropolitan shape: they appear as tiles, coloured by rate.
    assert f'<li class="band-near" data-code="{data.a.departement.code}"' not in html
    assert f'class="band-mid" data-code="{data.a.departement.code}"' in html  # 75 %
    assert f'class="band-target" data-code="{data.c.departement.code}"' in html  # 100 %


def test_map_shapes_metropolitan_departements_by_insee_code(client, data):
    creuse = DepartementFactory(code="23", name="Creuse", region=data.region_ab)
    where = place(creuse)
    request_at(where, data.now, state=S.LOCAL_SUPPORT, submitted_days_ago=10, review=1, local=2)
    client.force_login(data.national)
    html = client.get(KPI).content.decode()
    path = re.search(r'<path d="[^"]+" class="([^"]+)" data-code="23"><title>([^<]+)</title>', html)
    assert path.groups() == ("band-target", "23 – Creuse : 100,0 % (1/1)")
    assert html.count("<path ") == 96  # every metropolitan département is drawn


def test_delegate_sees_only_their_departements(client, data):
    client.force_login(data.delegate_a)
    response = client.get(KPI)
    assert response.status_code == 200
    html = response.content.decode()
    assert rate_on_page(html) == "75,0 %"
    assert rows_of(html) == [data.a.departement.code]
    assert "Saône-test" not in html and "Corrèze-test" not in html
    assert 'class="dashboard-map__svg"' not in html


@pytest.mark.parametrize("param", ["departement", "region"])
def test_delegate_cannot_reach_another_departement_with_a_crafted_parameter(client, data, param):
    client.force_login(data.delegate_a)
    value = data.b.departement.code if param == "departement" else data.region_c.code
    response = client.get(KPI, {param: value})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Certains filtres ne sont pas valables" in html
    assert rate_on_page(html) == "75,0 %"  # still département A, and only A
    assert rows_of(html) == [data.a.departement.code]
    assert "Saône-test" not in html and "Corrèze-test" not in html


def test_filters_apply_to_every_indicator(client, data):
    client.force_login(data.national)
    html = client.get(KPI, {"departement": data.b.departement.code}).content.decode()
    assert rate_on_page(html) == "50,0 %"
    assert rows_of(html) == [data.b.departement.code]
    assert re.search(r'id="kpi-deposees">3<', html)
    html = client.get(KPI, {"programme": data.programme.code, "forme": "programme"}).content
    assert rate_on_page(html.decode()) == "100,0 %"
    html = client.get(KPI, {"du": "2000-01-01", "au": "2000-12-31"}).content.decode()
    assert rate_on_page(html) == "—"
    assert re.search(r'id="kpi-en-cours">4<', html)  # the backlog is a snapshot


def test_invalid_period_is_reported_and_ignored(client, data):
    client.force_login(data.national)
    html = client.get(KPI, {"du": "2026-05-01", "au": "2026-01-01"}).content.decode()
    assert "La fin de la période doit suivre son début." in html


def test_departement_table_sorts_with_a_query_parameter(client, data):
    client.force_login(data.national)
    a, b, c = (p.departement.code for p in (data.a, data.b, data.c))
    html = client.get(KPI, {"tri": "taux", "ordre": "desc"}).content.decode()
    assert rows_of(html) == [c, a, b]
    assert 'aria-sort="descending"><a href="?tri=taux&amp;ordre=asc#par-departement"' in html
    html = client.get(KPI, {"tri": "taux", "ordre": "asc"}).content.decode()
    assert rows_of(html) == [b, a, c]
    assert rows_of(client.get(KPI, {"tri": "inconnu"}).content.decode()) == sorted([a, b, c])


@pytest.mark.parametrize("who", ["official", "nobody"])
def test_officials_and_people_without_a_role_are_forbidden(client, data, who):
    user = OfficialFactory(collectivities=[data.a.collectivity]) if who == "official" else None
    client.force_login(user or UserFactory())
    assert client.get(KPI).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, settings):
    settings.LOGIN_URL = "/connexion/"
    response = client.get(KPI)
    assert response.status_code == 302
    assert response["Location"] == f"/connexion/?next={KPI}"


def test_public_page_shows_aggregates_and_no_personal_data(client, data):
    # Names no page text can contain by chance (Faker's "Barre" is in "Barres : demandes…").
    for number, user in enumerate(User.objects.order_by("pk")):
        User.objects.filter(pk=user.pk).update(
            first_name=f"Prénomsecret{number}", last_name=f"Nomsecret{number}"
        )
    data.national.refresh_from_db()
    data.delegate_a.refresh_from_db()
    people = EngineeringRequest.objects.values_list(
        "submitted_by__first_name", "submitted_by__last_name", "submitted_by__email", "reference"
    )
    secrets = {value for row in people for value in row if value}
    secrets |= {data.national.email, data.delegate_a.email, data.delegate_a.last_name}
    secrets |= set(EngineeringRequest.objects.values_list("title", flat=True))
    EngineeringRequest.objects.filter(state=S.LOCAL_SUPPORT).update(
        contact_name="Zoé Kerbrat", contact_email="zoe.kerbrat@atd.example.fr"
    )
    secrets |= {"Zoé Kerbrat", "zoe.kerbrat@atd.example.fr"}

    response = client.get(PUBLIC)
    assert response.status_code == 200
    html = response.content.decode()
    assert rate_on_page(html) == "71,4 %"
    csv_text = client.get(PUBLIC_CSV).content.decode()
    for secret in secrets:
        assert secret not in html, secret
        assert secret not in csv_text, secret
    assert "ING-" not in html and "ING-" not in csv_text
    assert "@example" not in html and "@" not in csv_text


def test_public_csv_holds_the_national_row_and_one_row_per_departement(client, data):
    response = client.get(PUBLIC_CSV)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="statistiques-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_code = {row["code_departement"]: row for row in rows}
    assert by_code["FR"] == {
        "code_departement": "FR",
        "departement": "France",
        "region": "",
        "demandes_deposees": "13",
        "reponses_locales": "5",
        "appuis_nationaux": "2",
        "demandes_tranchees": "7",
        "taux_resolution_locale_pct": "71.4",
        "demandes_en_cours": "4",
        "delai_median_prise_en_charge_jours": "2.0",
        "delai_median_decision_jours": "12.0",
    }
    a = by_code[data.a.departement.code]
    assert (a["departement"], a["taux_resolution_locale_pct"], a["demandes_en_cours"]) == (
        "Creuse-test",
        "75.0",
        "3",
    )
    assert by_code[data.b.departement.code]["delai_median_decision_jours"] == "9.0"
    # The CSV follows the page's filters.
    filtered = client.get(PUBLIC_CSV, {"region": data.region_c.code}).content.decode()
    codes = [row["code_departement"] for row in csv.DictReader(io.StringIO(filtered))]
    assert codes == ["FR", data.c.departement.code]


def test_pages_have_no_inline_script_and_embed_chart_data_as_json(client, data):
    client.force_login(data.national)
    for url in (KPI, PUBLIC):
        html = client.get(url).content.decode()
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert "/static/dashboard/vendor/chartjs/chart.umd.min.js" in html
        assert "/static/dashboard/charts.js" in html
        chart_data = json.loads(
            re.search(r'id="dashboard-chart-data" type="application/json">(.*?)</script>', html)
            .group(1)
            .replace("\\u0027", "'")
        )
        assert sum(chart_data["trend"]["submitted"]) >= 0
        assert chart_data["states"]["values"] == [1, 1, 1, 3, 1, 1, 1, 1, 3]
        assert 'data-chart="trend"' in html and "tableau-evolution" in html  # chart + table
    assert finders.find("dashboard/vendor/chartjs/chart.umd.min.js")
    assert finders.find("dashboard/vendor/chartjs/LICENSE.md")


def test_menu_shows_the_dashboard_to_staff_and_statistics_to_everyone(client, data):
    html = client.get(reverse("home")).content.decode()
    assert f'href="{PUBLIC}"' in html and f'href="{KPI}"' not in html
    client.force_login(data.delegate_a)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{PUBLIC}"' in html and f'href="{KPI}"' in html


def _many_requests(data, count_per_departement=40):
    """Many more requests in every state, so that a per-row query would show."""
    states = [S.SUBMITTED, S.IN_REVIEW, S.LOCAL_SUPPORT, S.ESCALATED, S.COMPLETED]
    for where in (data.a, data.b, data.c):
        for i in range(count_per_departement):
            state = states[i % len(states)]
            request_at(
                where,
                data.now,
                state=state,
                submitted_days_ago=i + 1,
                review=0.5 if state != S.SUBMITTED else None,
                local=1 if state in (S.LOCAL_SUPPORT, S.COMPLETED) else None,
                escalated=1 if state == S.ESCALATED else None,
            )


@pytest.mark.parametrize("filtered", [True, False], ids=["filtered", "default"])
@pytest.mark.parametrize("who", ["national", "delegate", "public", "csv"])
def test_each_page_runs_a_constant_number_of_queries(
    client, data, who, filtered, django_assert_max_num_queries
):
    """Filtered pages compute from the facts; default pages of all of France read the
    maintained counters (PostgreSQL): both in a fixed number of queries."""
    url = {"national": KPI, "delegate": KPI, "public": PUBLIC, "csv": PUBLIC_CSV}[who]
    if who in ("national", "delegate"):
        client.force_login(data.national if who == "national" else data.delegate_a)
    params = {"domaine": data.theme.code, "du": "2020-01-01"} if filtered else {}
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, params).status_code == 200
    cache.clear()
    clear_local_cache()
    _many_requests(data)
    with django_assert_max_num_queries(15):
        response = client.get(url, params)
    assert response.status_code == 200
    cache.clear()
    clear_local_cache()
    with CaptureQueriesContext(connection) as many:
        client.get(url, params)
    assert len(many) == len(few)


def test_cached_figures_follow_every_transition_at_once(client, data):
    """Figures are cached briefly, keyed by the latest transition: a new decision shows."""
    client.force_login(data.national)
    assert rate_on_page(client.get(KPI).content.decode()) == "71,4 %"
    assert rate_on_page(client.get(KPI).content.decode()) == "71,4 %"  # from the cache
    in_review = EngineeringRequest.objects.get(state=S.IN_REVIEW)
    now = timezone.now()
    # As services.resolve_locally would leave it (the workflow is tested elsewhere).
    EngineeringRequest.objects.filter(pk=in_review.pk).update(
        state=S.LOCAL_SUPPORT, resolved_locally_at=now, last_transition_at=now
    )
    assert rate_on_page(client.get(KPI).content.decode()) == "75,0 %"  # 6 / 8
