"""Security hardening: headers, cookies, sign-in throttling, private files, admin access."""

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from engineering_requests.enums import RequestState
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.engineering_requests.factories import Cast, pdf_upload

pytestmark = pytest.mark.django_db

LOGIN = "/compte/connexion/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def cast(db):
    return Cast.create()


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


# Content-Security-Policy ---------------------------------------------------------------------


def test_pages_carry_a_strict_content_security_policy(client, cast):
    response = client.get(reverse("home"))
    csp = _directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    # The DSFR's scripts carry the nonce of this very response.
    (nonce,) = [v for v in csp["script-src"] if v.startswith("'nonce-")]
    html = response.content.decode()
    assert html.count(f'nonce="{nonce[7:-1]}"') == 2
    assert (
        client.get(reverse("home"))["Content-Security-Policy"]
        != response["Content-Security-Policy"]
    ), "a nonce is never reused"


def test_the_admin_and_dashboards_are_under_the_same_policy(client, cast):
    client.force_login(cast.national)
    for url in (
        reverse("admin:index"),
        reverse("admin:engineering_requests_engineeringrequest_changelist"),
        reverse("dashboard:kpi"),
        reverse("dashboard:public"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], url
        assert _directives(response)["style-src"] == ["'self'"], url


INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
# Data blocks (json_script) are not run: only executable inline scripts count.
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE
)


def test_back_office_pages_have_no_inline_script_style_or_handler(client, cast):
    """The policy would block them: the admin pages of the back office use static files."""
    request = cast.request_in(RequestState.IN_REVIEW)
    client.force_login(cast.delegate)
    urls = [
        reverse("admin:engineering_requests_engineeringrequest_changelist"),
        reverse("admin:engineering_requests_engineeringrequest_change", args=[request.pk]),
        reverse(
            "admin:engineering_requests_engineeringrequest_transition",
            args=[request.pk, "resolve_locally"],
        ),
        reverse("admin:engineering_requests_engineeringrequest_comite_report"),
        reverse("dashboard:kpi"),
    ]
    for url in urls:
        html = client.get(url).content.decode()
        assert INLINE_SCRIPT.findall(html) == [], url
        assert INLINE_HANDLER.findall(html) == [], url
        assert INLINE_STYLE.findall(html) == [], url


# Headers and cookies -------------------------------------------------------------------------


def test_security_headers_on_every_page(client):
    response = client.get(reverse("home"), secure=True)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_session_and_csrf_cookies_are_secure_httponly_and_end_with_the_browser(client, cast):
    page = client.get(LOGIN)
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post(LOGIN, {"username": cast.official.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert session["max-age"] == "" and session["expires"] == "", "a browser-session cookie"
    # ... while the server ends it after SESSION_COOKIE_AGE whatever the browser does.
    age = client.session.get_expiry_age()
    assert age == settings.SESSION_COOKIE_AGE == 8 * 3600


def test_language_cookie_is_secure_too(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"]


# Sign-in throttling --------------------------------------------------------------------------


def _fail(client, url, email, times, **extra):
    for _ in range(times):
        response = client.post(
            url, {"username": email, "password": "mauvais-mot-de-passe"}, **extra
        )
    return response


def test_portal_sign_in_is_locked_after_five_failures_with_a_french_page(cast):
    client = Client()
    email = cast.official.email
    response = _fail(client, LOGIN, email, settings.AXES_FAILURE_LIMIT - 1)
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect" in response.content.decode()
    response = _fail(client, LOGIN, email, 1)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Connexion temporairement bloquée" in html
    assert "15 minutes" in html and "Mot de passe oublié" in html
    assert response["Retry-After"] == "900"
    # Even the right password is refused now, and no session is opened.
    response = client.post(LOGIN, {"username": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another case of the same address is the same account.
    response = client.post(LOGIN, {"username": email.upper(), "password": DEFAULT_PASSWORD})
    assert response.status_code == 429


def test_lockout_is_per_address_and_ip_so_nobody_locks_an_official_out(cast):
    email = cast.official.email
    _fail(Client(), LOGIN, email, settings.AXES_FAILURE_LIMIT, REMOTE_ADDR="203.0.113.9")
    official = Client()
    response = official.post(
        LOGIN, {"username": email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 302
    # The attacker's address may still try other accounts: each pair has its own count.
    other = Client().post(
        LOGIN,
        {"username": cast.colleague.email, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="203.0.113.9",
    )
    assert other.status_code == 302


def test_admin_sign_in_is_throttled_too(cast):
    client = Client()
    response = _fail(client, ADMIN_LOGIN, cast.delegate.email, settings.AXES_FAILURE_LIMIT)
    assert response.status_code == 429
    assert "Connexion temporairement bloquée" in response.content.decode()
    response = client.post(
        ADMIN_LOGIN, {"username": cast.delegate.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 429


def test_the_lockout_ends_after_the_cool_off(cast):
    client = Client()
    _fail(client, LOGIN, cast.official.email, settings.AXES_FAILURE_LIMIT)
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC)
        - settings.AXES_COOLOFF_TIME
        - datetime.timedelta(seconds=1)
    )
    response = client.post(LOGIN, {"username": cast.official.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists(), "a success resets the count"


def test_a_new_password_lifts_the_lockout(cast):
    client = Client()
    user = cast.official
    _fail(client, LOGIN, user.email, settings.AXES_FAILURE_LIMIT)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    url = reverse("accounts:password_reset_confirm", args=[uid, token])
    url = client.get(url).url  # Django swaps the token for a session-held one
    new_password = "Un-nouveau-mot-de-passe-2026"
    response = client.post(url, {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    response = client.post(LOGIN, {"username": user.email, "password": new_password})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("court", "Ce mot de passe est trop court"),
        ("1qaz2wsx3edc", "Ce mot de passe est trop courant"),
        ("493027581938", "Ce mot de passe est entièrement numérique"),
    ],
)
def test_password_change_shows_the_validators_in_french(client, cast, password, message):
    client.force_login(cast.official)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert message in response.content.decode()


def test_trusted_proxy_count_takes_the_address_the_proxy_saw(rf, settings):
    from accounts.throttling import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9", "what the client wrote itself is ignored"


# Private files -------------------------------------------------------------------------------


def _patterns(resolver=None):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern)
        else:
            yield pattern


def test_no_url_serves_the_media_folder(client, cast):
    from django.views import static

    assert all(isinstance(p, URLPattern) and p.callback is not static.serve for p in _patterns())
    request = cast.request_in(RequestState.SUBMITTED)
    from engineering_requests import services

    attachment = services.add_attachment(
        engineering_request=request, user=cast.official, file=pdf_upload()
    )
    client.force_login(cast.official)
    for url in (
        f"/media/{attachment.file.name}",
        f"/{attachment.file.name}",
        f"/static/../media/{attachment.file.name}",
    ):
        assert client.get(url).status_code == 404, url


def test_downloads_are_attachments_never_sniffed_nor_cached(client, cast):
    from engineering_requests import services

    request = cast.request_in(RequestState.IN_REVIEW)
    attachment = services.add_attachment(
        engineering_request=request, user=cast.official, file=pdf_upload("plan.pdf")
    )
    urls = {
        cast.official: reverse("engineering_requests:attachment", args=[request.pk, attachment.pk]),
        cast.delegate: reverse(
            "admin:engineering_requests_engineeringrequest_attachment",
            args=[request.pk, attachment.pk],
        ),
    }
    for user, url in urls.items():
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert 'filename="plan.pdf"' in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert "no-store" in response["Cache-Control"]


# Who gets into the admin ---------------------------------------------------------------------


def test_only_staff_roles_get_into_the_admin(cast):
    stray_staff = UserFactory(is_staff=True)
    superuser = UserFactory(is_staff=True, is_superuser=True)
    inactive_delegate = cast.delegate
    expected = {
        cast.official: False,
        cast.contact: False,
        stray_staff: False,
        cast.delegate: True,
        cast.national: True,
        superuser: True,
    }
    for user, allowed in expected.items():
        client = Client()
        client.force_login(user)
        response = client.get(reverse("admin:index"))
        assert (response.status_code == 200) is allowed, user
        if not allowed:
            assert response.url.startswith(ADMIN_LOGIN)
    inactive_delegate.is_active = False
    inactive_delegate.save()
    client = Client()
    client.force_login(inactive_delegate)
    assert client.get(reverse("admin:index")).status_code == 302


def test_an_official_cannot_sign_in_to_the_admin(cast):
    client = Client()
    response = client.post(
        ADMIN_LOGIN, {"username": cast.official.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_view_on_site_answers_404_for_what_the_user_may_not_see(client):
    from django.contrib.contenttypes.models import ContentType

    from engineering_requests.models import EngineeringRequest
    from tests.accounts.factories import DelegateFactory
    from tests.engineering_requests.factories import EngineeringRequestFactory

    mine = EngineeringRequestFactory(submitted=True)
    elsewhere = EngineeringRequestFactory(submitted=True)
    delegate = DelegateFactory(departements=[mine.departement])
    client.force_login(delegate)
    content_type = ContentType.objects.get_for_model(EngineeringRequest).pk
    url = "/admin/r/{}/{}/"
    response = client.get(url.format(content_type, mine.pk))
    assert response.status_code == 302 and response["Location"].endswith(mine.get_absolute_url())
    for object_id in (elsewhere.pk, 10**9, "not-a-number"):
        assert client.get(url.format(content_type, object_id)).status_code == 404
    assert client.get(url.format(10**6, mine.pk)).status_code == 404


def test_the_notification_centre_refuses_post(client):
    from tests.accounts.factories import OfficialFactory

    client.force_login(OfficialFactory())
    assert client.post("/notifications/").status_code == 405
