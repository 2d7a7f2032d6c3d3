"""The portal shell: header tools, menu, include points, no inline script, error pages."""

import re

import pytest
from django.urls import reverse

from engineering_requests.enums import RequestState
from tests.engineering_requests.factories import Cast

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


@pytest.fixture
def cast(db):
    return Cast.create()


def test_no_page_has_an_inline_script_nor_a_cdn(client, cast):
    request = cast.request_in(RequestState.INFO_REQUESTED)
    pages = [reverse("home"), reverse("accounts:login"), reverse("accounts:password_reset")]
    client.force_login(cast.official)
    pages += [
        reverse("engineering_requests:list"),
        reverse("engineering_requests:create"),
        request.get_absolute_url(),
        reverse("engineering_requests:withdraw", kwargs={"pk": request.pk}),
        reverse("accounts:account"),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert INLINE_SCRIPT.findall(html) == [], url
        assert " on" + "click=" not in html and "javascript:" not in html, url
        for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html):
            assert src.startswith("/"), (url, src)  # served by the app


def test_staff_see_a_link_to_the_back_office(client, cast):
    client.force_login(cast.delegate)
    html = client.get(reverse("home")).content.decode()
    assert "Espace de gestion" in html and reverse("admin:index") in html


def test_the_header_has_an_empty_include_point_for_notifications(client, cast):
    from django.template.loader import render_to_string

    assert render_to_string("includes/header_notifications.html", {}).strip() == ""


def test_a_missing_page_is_a_dsfr_404(client, cast):
    client.force_login(cast.official)
    response = client.get("/demandes/987654/")
    assert response.status_code == 404
    assert "Page non trouvée" in response.content.decode()


def test_a_forbidden_action_is_a_dsfr_403(client, cast):
    request = cast.request_in(RequestState.LOCAL_SUPPORT)
    client.force_login(cast.official)
    response = client.post(
        reverse("engineering_requests:progress_note", kwargs={"pk": request.pk}),
        {"form_token": "t" * 32, "body": "x"},
    )
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()
