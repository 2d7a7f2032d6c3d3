"""The rendered body of the dashboards is cached (dashboard.views._render): read from the cache
while nothing it shows has changed, rendered again at once after a transition or a change of
the reference rows, never shared across scopes or languages, and without the user's own bits
(header, menu), which every request renders."""

import datetime
import os
import re
import time
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from dashboard import selectors
from engineering_requests import services
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from programmes.models import Programme
from territories.models import Departement
from tests.accounts.factories import DelegateFactory, NationalStaffFactory
from tests.dashboard.factories import crafted_data_set

pytestmark = pytest.mark.django_db

KPI = reverse("dashboard:kpi")
PUBLIC = reverse("dashboard:public")
BODY = "dashboard/_indicators.html"


@pytest.fixture(autouse=True)
def _same_minute():
    """A body's key holds the minute (the backlog's age bands move with time): a test whose
    requests straddled a minute would see a second render. Start away from the boundary."""
    second = timezone.now().second + timezone.now().microsecond / 1e6
    if second > 50:
        time.sleep(60.5 - second)


@pytest.fixture
def data(_same_minute):
    return crafted_data_set(timezone.now())


def rendered(response) -> bool:
    """The body was rendered for this response (False: it came from the cache)."""
    return BODY in {template.name for template in response.templates}


def main_of(response) -> str:
    """The page's body as shown (the header and footer hold per-request CSRF tokens)."""
    return re.search(r"<main .*</main>", response.content.decode(), re.S).group(0)


def rate_on_page(html: str) -> str:
    return re.search(r'id="taux-resolution-locale">([^<]*)<', html).group(1)


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr data-departement="([^"]+)"', html)


def resolve_the_request_in_review(data):
    """A real transition, as a delegate makes it: the figures of A and of France change."""
    services.resolve_locally(
        engineering_request=EngineeringRequest.objects.get(state=S.IN_REVIEW),
        user=data.delegate_a,
        contact_name="Jeanne Martin",
        contact_organisation="Agence technique départementale",
        contact_email="jeanne.martin@example.fr",
    )


@pytest.mark.parametrize(
    ("who", "url", "params", "before", "after"),
    [
        ("national", KPI, {}, "71,4 %", "75,0 %"),  # 5 / 7, then 6 / 8
        ("national", KPI, {"tri": "taux", "ordre": "desc"}, "71,4 %", "75,0 %"),
        ("delegate", KPI, {}, "75,0 %", "80,0 %"),  # A: 3 / 4, then 4 / 5
        ("public", PUBLIC, {}, "71,4 %", "75,0 %"),
    ],
)
def test_a_transition_after_a_cached_render_shows_at_once(
    client, data, who, url, params, before, after
):
    if who != "public":
        client.force_login(data.national if who == "national" else data.delegate_a)
    first, second = client.get(url, params), client.get(url, params)
    assert rendered(first) and not rendered(second)  # the second body is the cached one
    assert main_of(second) == main_of(first)
    assert rate_on_page(main_of(second)) == before
    resolve_the_request_in_review(data)
    third = client.get(url, params)
    assert rendered(third)
    assert rate_on_page(main_of(third)) == after
    assert not rendered(client.get(url, params))


def test_a_renamed_departement_or_programme_shows_at_once(client, data):
    client.force_login(data.national)
    client.get(KPI)
    assert not rendered(client.get(KPI))
    Departement.objects.filter(pk=data.a.departement.pk).update(name="Creuse-renommée")
    html = main_of(response := client.get(KPI))
    assert rendered(response)
    assert '<th scope="row">Creuse-renommée</th>' in html
    Programme.objects.filter(pk=data.programme.pk).update(name="Programme renommé")
    assert ">Programme renommé</option>" in main_of(client.get(KPI))


def test_the_versions_read_in_one_statement_follow_every_change(data):
    """``versions()`` (one statement on PostgreSQL) moves with a transition and with any code,
    name, order or parent of the reference rows, and comes back when a change is undone."""
    data_version, reference = selectors.versions()
    assert data_version == selectors.data_version()
    departement = Departement.objects.get(pk=data.a.departement.pk)
    Departement.objects.filter(pk=departement.pk).update(name="Creuse-renommée")
    assert selectors.versions()[1] != reference
    Departement.objects.filter(pk=departement.pk).update(name=departement.name)
    assert selectors.versions()[1] == reference
    Programme.objects.filter(pk=data.programme.pk).update(position=99)
    assert selectors.versions()[1] != reference
    EngineeringRequest.objects.filter(departement=data.a.departement).update(
        last_transition_at=timezone.now() + datetime.timedelta(minutes=1)
    )
    assert selectors.versions()[0] != data_version


def test_each_scope_has_its_own_body(client, data):
    delegate_b = DelegateFactory(departements=[data.b.departement])
    a, b, c = (p.departement.code for p in (data.a, data.b, data.c))
    client.force_login(data.delegate_a)
    assert rows_of(main_of(client.get(KPI))) == [a]
    assert rows_of(main_of(client.get(KPI))) == [a]  # from the cache
    client.force_login(delegate_b)
    response = client.get(KPI)
    assert rendered(response)
    assert rows_of(main_of(response)) == [b]
    assert "Creuse-test" not in main_of(response)
    client.force_login(data.national)
    assert rows_of(main_of(client.get(KPI))) == [a, b, c]
    client.logout()
    public = client.get(PUBLIC)
    assert rendered(public)  # not the national staff's page, even with the same figures
    assert "Télécharger les chiffres par département" in main_of(public)


def test_the_users_own_bits_are_never_taken_from_the_cache(client, data):
    alice = NationalStaffFactory(first_name="Alice")
    bertrand = NationalStaffFactory(first_name="Bertrand")
    client.force_login(alice)
    assert "(Alice)" in client.get(KPI).content.decode()
    client.force_login(bertrand)
    response = client.get(KPI)
    assert not rendered(response)  # same scope: the body comes from the cache…
    html = response.content.decode()
    assert "(Bertrand)" in html and "Alice" not in html  # …the header is Bertrand's


def test_the_next_minute_renders_again(client, data, monkeypatch):
    """The backlog's age bands and "this month" move with time: a body serves its minute."""
    client.force_login(data.national)
    client.get(KPI)
    assert not rendered(client.get(KPI))
    later = timezone.now() + datetime.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert rendered(client.get(KPI))


def test_each_language_has_its_own_body_and_figures(client, data):
    """Month names and number formats (Django's catalogues), labels of the cached figures (the
    project's English catalogue, compiled by ``make messages``)."""
    month = {}
    for language in ("fr", "en"):
        with translation.override(language):
            month[language] = date_format(timezone.localdate(), "F Y")
    state = '<tr data-state="submitted"><th scope="row">{}</th>'
    client.force_login(data.national)
    html = main_of(client.get(KPI))
    assert rate_on_page(html) == "71,4 %" and month["fr"] in html
    assert state.format("Déposée") in html
    response = client.get(KPI, HTTP_ACCEPT_LANGUAGE="en")
    assert rendered(response)
    html = main_of(response)
    assert rate_on_page(html) == "71.4 %" and month["en"] in html and month["fr"] not in html
    assert state.format("Submitted") in html
    assert state.format("Déposée") in main_of(client.get(KPI))


def test_filters_and_sort_are_part_of_the_key(client, data):
    client.force_login(data.national)
    a, b, c = (p.departement.code for p in (data.a, data.b, data.c))
    for _ in range(2):  # rendered, then from the cache: the same answers
        assert rows_of(main_of(client.get(KPI, {"tri": "taux", "ordre": "desc"}))) == [c, a, b]
        assert rows_of(main_of(client.get(KPI, {"tri": "taux", "ordre": "asc"}))) == [b, a, c]
        html = main_of(client.get(KPI, {"departement": data.b.departement.code}))
        assert rate_on_page(html) == "50,0 %" and rows_of(html) == [b]


def test_an_invalid_filter_keeps_its_error_title_from_the_cache(client, data):
    client.force_login(data.national)
    for _ in range(2):
        html = client.get(KPI, {"du": "2026-05-01", "au": "2026-01-01"}).content.decode()
        assert "<title>Erreur – Tableau de bord" in html
        assert "La fin de la période doit suivre son début." in html
    assert "<title>Tableau de bord" in client.get(KPI).content.decode()


def test_a_page_with_unknown_parameters_is_not_cached(client, data):
    client.force_login(data.national)
    for _ in range(2):
        response = client.get(KPI, {"utm_source": "lettre", "tri": "taux"})
        assert rendered(response)
        assert 'href="?utm_source=lettre&amp;tri=taux&amp;ordre=desc#par-departement"' in (
            response.content.decode()
        )


@pytest.mark.parametrize(
    ("who", "query", "cached"),
    [
        ("national", "tri=taux&ordre=desc", True),
        ("national", "du=2026-01-01&region=xx", True),  # staff: filters, even invalid ones
        ("national", "tri=n%C3%A9ant", False),  # a sort outside the list
        ("national", "ordre=desc&ordre=asc", False),
        ("public", "tri=taux&ordre=desc", True),
        ("public", "", True),
        ("public", "du=2026-01-01", False),  # anonymous: no filter fills the cache
        ("public", "forme=x1", False),
    ],
)
def test_only_bounded_queries_are_cached(client, data, who, query, cached):
    """A body is ~210 KB for all of France: no one may fill the cache with made-up queries."""
    url = KPI if who == "national" else PUBLIC
    if who == "national":
        client.force_login(data.national)
    first = client.get(f"{url}?{query}")
    second = client.get(f"{url}?{query}")
    assert first.status_code == second.status_code == 200
    assert rendered(first)
    assert rendered(second) is not cached
    assert main_of(second) == main_of(first)


def test_an_unreachable_cache_still_serves_the_page(client, data, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    client.force_login(data.national)
    for _ in range(2):
        response = client.get(KPI)
        assert response.status_code == 200
        assert rendered(response)
        assert rate_on_page(main_of(response)) == "71,4 %"
    assert "dashboard cache unreachable" in caplog.text


@pytest.mark.redis
def test_the_body_is_shared_through_redis(client, data, settings):
    """Production's cache (REDIS_URL): the body, pickled, comes back as the same markup."""
    prefix = f"test-{uuid.uuid4().hex}"
    url = os.environ.get("REDIS_URL") or os.environ["CELERY_BROKER_URL"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        client.force_login(data.national)
        first, second = client.get(KPI), client.get(KPI)
        assert rendered(first) and not rendered(second)
        assert main_of(second) == main_of(first)
        assert '<table id="tableau-departements">' in main_of(second)  # not escaped
        resolve_the_request_in_review(data)
        assert rate_on_page(main_of(client.get(KPI))) == "75,0 %"
    finally:
        redis = cache._cache.get_client()
        keys = list(redis.scan_iter(f"{prefix}:*"))
        if keys:
            redis.delete(*keys)


def test_a_body_read_once_is_kept_in_the_process(client, data):
    """The shared cache (Redis in production) emptied, the process still has the body under
    the same versioned key; forgetting both renders it again."""
    from dashboard.selectors import LOCAL_ENTRIES, _local, clear_local_cache

    client.force_login(data.national)
    first = client.get(KPI)
    assert rendered(first)
    cache.clear()
    kept = client.get(KPI)
    assert not rendered(kept)
    assert main_of(kept) == main_of(first)
    cache.clear()
    clear_local_cache()
    assert rendered(client.get(KPI))
    # A change is still seen at once: the key holds the figures' version.
    resolve_the_request_in_review(data)
    changed = client.get(KPI)
    assert rendered(changed)
    assert rate_on_page(main_of(changed)) != rate_on_page(main_of(first))
    # Bounded: sorts make other keys, the oldest go.
    for sort in ("code", "nom", "taux", "decidees", "locales", "nationales", "deposees"):
        for order in ("asc", "desc"):
            assert rendered(client.get(KPI, {"tri": sort, "ordre": order}))
    assert len(_local) == LOCAL_ENTRIES
