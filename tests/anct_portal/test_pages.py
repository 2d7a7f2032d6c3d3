import pytest
from django.db.utils import OperationalError
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_page_is_a_dsfr_page_presenting_the_three_forms_of_intervention(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "République<br>française" in html
    assert "Agence nationale de la cohésion des territoires" in html
    assert 'href="#contenu"' in html  # skip link
    assert "/static/dsfr/dist/dsfr/dsfr.min.css" in html  # served by the app, no CDN
    for title in ("programmes nationaux", "contrats et pactes", "sur-mesure"):
        assert title in html
    assert reverse("set_language") in html


def test_home_page_in_english(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("anct_portal.health.connection.cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_healthz_is_503_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_IS_EMBEDDED = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unavailable"}
