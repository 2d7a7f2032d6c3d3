"""The portal's shell (anct_portal/shell.py: its templates rendered once per process, the
request's values put in afterwards) and the pages written in Python show what the templates
they replaced showed, rendered by Django for each request.

``shell_reference/`` holds those templates as they were (with shell_reference_tags.py for what
the views and tags gave them); a page is fetched once as it is now and once with them first in
the template directories, and both must be the same markup (the CSRF tokens and CSP nonces, new
for every request, aside)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from engineering_requests.enums import RequestState
from tests.accounts.factories import UserFactory
from tests.engineering_requests.factories import Cast, EngineeringRequestFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

REFERENCE = Path(__file__).parent / "shell_reference"


@pytest.fixture
def cast(db):
    return Cast.create()


def reference_templates():
    engine = {**settings.TEMPLATES[0]}
    engine["DIRS"] = [REFERENCE, *engine["DIRS"]]
    # What the reference templates need that the views no longer give them.
    libraries = {"shell_reference": "tests.anct_portal.shell_reference_tags"}
    engine["OPTIONS"] = {**engine["OPTIONS"], "libraries": libraries}
    return override_settings(TEMPLATES=[engine])


def normalized(html: str) -> str:
    """The page with its per-request secrets masked and each run of white space as one space
    (white space between tags shows the same whatever its length)."""
    html = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]*', r"\1…", html)
    html = re.sub(r'(nonce=")[^"]*', r"\1…", html)
    html = re.sub(r'(name="form_token" value=")[^"]*', r"\1…", html)
    return re.sub(r"\s+", " ", html).strip()


def assert_same_page(client, url, **headers):
    response = client.get(url, **headers)
    with reference_templates():
        reference = client.get(url, **headers)
    assert response.status_code == reference.status_code, url
    assert response.templates and reference.templates
    assert any(str(REFERENCE) in (t.origin.name or "") for t in reference.templates), url
    new, old = normalized(response.content.decode()), normalized(reference.content.decode())
    if new != old:  # the first difference, readable
        at = next(i for i, (a, b) in enumerate(zip(new, old, strict=False)) if a != b)
        raise AssertionError(
            f"{url}:\n new: {new[at - 300 : at + 300]}\n old: {old[at - 300 : at + 300]}"
        )
    return response


def test_anonymous_pages(client, cast):
    for url in (
        reverse("home"),
        reverse("accounts:login"),
        reverse("accounts:login") + "?next=/demandes/%3Fq%3D%C3%A9t%C3%A9%26statut%3Ddraft",
        reverse("accounts:password_reset"),
        "/une/page/qui/n/existe/pas/?x=<b>&y=\"'",
    ):
        assert_same_page(client, url)


def test_signed_in_pages_for_each_role(client, cast):
    cast.request_in(RequestState.INFO_REQUESTED)
    for user in (cast.official, cast.delegate, cast.national, cast.nobody):
        client.force_login(user)
        for url in (
            reverse("home"),
            reverse("engineering_requests:list"),
            reverse("engineering_requests:followed"),
            reverse("accounts:account"),
            reverse("notifications:inbox"),
            "/demandes/987654/",  # a 404 in the shell
        ):
            assert_same_page(client, url)
    client.force_login(cast.official)
    assert_same_page(client, reverse("engineering_requests:create"))  # its script in extra_js


def test_the_unread_badge_and_the_users_name_as_the_templates_show_them(client, cast):
    user = UserFactory(first_name='Zoé <b>"l\'élue"</b> & co')
    client.force_login(user)
    for unread in (0, 1, 2, 99, 100, 150):
        count = user.notifications.filter(channel="in_app", read_at=None).count()
        NotificationFactory.create_batch(unread - count, in_app=True, recipient=user)
        assert_same_page(client, reverse("home"))
        assert_same_page(client, reverse("accounts:account"))


def test_in_english_too(client, cast):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert_same_page(client, reverse("home"))
    client.force_login(cast.official)
    NotificationFactory.create_batch(3, in_app=True, recipient=cast.official)
    page = assert_same_page(client, reverse("engineering_requests:list") + "?q=<pont>")
    assert 'lang="en"' in page.content.decode()
    translation.activate(settings.LANGUAGE_CODE)


def test_mes_demandes_with_filters_and_pages(client, cast):
    for trait in ("info_requested", "in_review", "completed", "resolved"):
        EngineeringRequestFactory.create_batch(
            12, collectivity=cast.collectivity, submitted_by=cast.official, **{trait: True}
        )
    EngineeringRequestFactory.create_batch(
        9, collectivity=cast.collectivity, submitted_by=cast.official, title="Pont <b>&</b>"
    )
    EngineeringRequestFactory(
        collectivity=cast.collectivity, resolved=True, contact_email=cast.contact.email
    )
    client.force_login(cast.official)
    url = reverse("engineering_requests:list")
    for query in (
        "",
        "?page=2",
        "?page=3",
        "?page=999",
        "?page=x",
        "?statut=draft",
        "?statut=in_review&page=1",
        "?statut=nimporte",
        "?q=pont",
        "?q=%3Cb%3E%20%26&statut=draft",
        "?q=introuvable",
        "?q=pont&page=1&autre=%22",
    ):
        assert_same_page(client, url + query)
    client.force_login(cast.contact)
    for query in ("", "?statut=local_support", "?q=zzz"):
        assert_same_page(client, reverse("engineering_requests:followed") + query)


def test_an_edited_template_is_rendered_again_without_a_restart(client, cast):
    from django.utils.autoreload import file_changed

    from anct_portal import shell

    client.get(reverse("home"))
    assert shell._fragments
    results = file_changed.send(sender=None, file_path=REFERENCE / "includes" / "footer.html")
    assert not shell._fragments
    assert not any(
        result for receiver, result in results if receiver is shell._forget_edited_templates
    )
