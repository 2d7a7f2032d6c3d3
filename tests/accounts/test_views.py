"""Sign-in, sign-out, password reset, the account page; officials never reach the admin."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from tests.accounts.factories import DEFAULT_PASSWORD, DelegateFactory, OfficialFactory, UserFactory
from tests.engineering_requests.factories import EngineeringRequestFactory
from tests.territories.factories import CollectivityFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


def sign_in(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password, **extra})


def test_login_page_is_a_dsfr_form_with_a_slot_for_proconnect_but_no_fake_button(client):
    html = client.get(LOGIN).content.decode()
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert 'class="fr-password' in html
    assert reverse("accounts:password_reset") in html
    assert "ProConnect" not in html and "fr-connect" not in html
    # Sign-in throttling first, then e-mail + password: no other way in yet.
    assert settings.AUTHENTICATION_BACKENDS == [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]


def test_an_official_signs_in_with_e_mail_and_lands_on_mes_demandes(client):
    official = OfficialFactory(email="maire@aubusson.fr")
    response = sign_in(client, "Maire@Aubusson.fr ")
    assert response.status_code == 302
    assert response.url == reverse("engineering_requests:list")
    assert int(client.session["_auth_user_id"]) == official.pk


def test_next_is_honoured_but_only_on_this_site(client):
    OfficialFactory(email="maire@aubusson.fr")
    response = sign_in(client, "maire@aubusson.fr", next="/compte/")
    assert response.url == "/compte/"
    client.logout()
    response = sign_in(client, "maire@aubusson.fr", next="https://pirate.example/")
    assert response.url == reverse("engineering_requests:list")


def test_delegates_land_on_the_admin_and_local_contacts_on_their_list(client):
    DelegateFactory(email="delegue@creuse.gouv.fr")
    assert sign_in(client, "delegue@creuse.gouv.fr").url == reverse("admin:index")
    client.logout()
    contact = UserFactory(email="claire@atd.example.fr")
    EngineeringRequestFactory(resolved=True, contact_email=contact.email)
    assert sign_in(client, contact.email).url == reverse("engineering_requests:followed")


def test_a_wrong_password_is_refused_in_french_and_keeps_the_e_mail(client):
    OfficialFactory(email="maire@aubusson.fr")
    response = sign_in(client, "maire@aubusson.fr", password="mauvais")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect" in html
    assert 'value="maire@aubusson.fr"' in html
    assert "data-error-summary" in html
    assert "_auth_user_id" not in client.session


def test_an_invalid_e_mail_gets_a_french_message(client):
    response = sign_in(client, "pas-une-adresse", password="x")
    assert "Saisissez une adresse e-mail valide, par exemple nom@domaine.fr." in (
        response.content.decode()
    )


def test_sign_out_is_a_post_and_says_so(client):
    official = OfficialFactory()
    client.force_login(official)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"), follow=True)
    assert "_auth_user_id" not in client.session
    assert "Vous êtes déconnecté" in response.content.decode()


def test_header_tools_follow_the_user(client):
    html = client.get(reverse("home")).content.decode()
    assert "Se connecter" in html and "Se déconnecter" not in html
    client.force_login(OfficialFactory())
    html = client.get(reverse("home")).content.decode()
    assert "Mon compte" in html and "Se déconnecter" in html and "Espace de gestion" not in html
    assert reverse("engineering_requests:list") in html  # the menu entry


def test_password_reset_sends_a_french_mail_whose_link_sets_a_new_password(
    client, mailoutbox, settings
):
    settings.SITE_URL = "https://ingenierie.anct.gouv.fr"
    OfficialFactory(email="maire@aubusson.fr")
    response = client.post(
        reverse("accounts:password_reset"), {"email": "maire@aubusson.fr"}, HTTP_HOST="localhost"
    )
    assert response.url == reverse("accounts:password_reset_done")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["maire@aubusson.fr"]
    assert "nouveau mot de passe" in mail.subject
    assert "Bonjour" in mail.body
    # Built on SITE_URL, never on the Host header the request carried.
    link = re.search(r"https://ingenierie\.anct\.gouv\.fr(/compte/reinitialisation/\S+)", mail.body)
    assert link and "localhost" not in mail.body
    assert mail.alternatives and "Choisir un nouveau mot de passe" in mail.alternatives[0][0]
    page = client.get(link.group(1), follow=True)
    assert page.status_code == 200 and "new_password1" in page.content.decode()
    new_password = "un-nouveau-mot-de-passe-solide"
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.url == reverse("accounts:password_reset_complete")
    client.logout()
    assert sign_in(client, "maire@aubusson.fr", password=new_password).status_code == 302


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "inconnu@example.fr"})
    assert response.url == reverse("accounts:password_reset_done")
    assert mailoutbox == []


def test_a_short_new_password_is_refused_in_french(client):
    official = OfficialFactory()
    client.force_login(official)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": DEFAULT_PASSWORD, "new_password1": "court", "new_password2": "court"},
    )
    html = response.content.decode()
    assert "Ce mot de passe est trop court" in html
    assert "<ul>" not in html[html.index("id_new_password1_helptext") - 200 :][:600]


def test_account_page_shows_the_collectivities_and_the_notification_preferences_slot(client):
    collectivity = CollectivityFactory(name="Aubusson")
    official = OfficialFactory(collectivities=[collectivity], job_title="Maire")
    client.force_login(official)
    html = client.get(reverse("accounts:account")).content.decode()
    assert "Aubusson" in html and collectivity.departement.name in html
    assert 'id="preferences-notifications"' in html
    assert official.email in html


def test_account_page_updates_the_profile_and_checks_the_phone(client):
    official = OfficialFactory()
    client.force_login(official)
    url = reverse("accounts:account")
    response = client.post(
        url, {"first_name": "Marie", "last_name": "Lefèvre", "job_title": "Maire", "phone": "abc"}
    )
    assert "Saisissez un numéro de téléphone valide" in response.content.decode()
    response = client.post(
        url,
        {
            "first_name": "Marie",
            "last_name": "Lefèvre",
            "job_title": "Maire",
            "phone": "05 55 12 34 56",
        },
    )
    assert response.url == url
    official.refresh_from_db()
    assert (official.first_name, official.phone) == ("Marie", "05 55 12 34 56")


def test_officials_cannot_reach_the_admin(client):
    official = OfficialFactory(email="maire@aubusson.fr")
    assert not official.is_staff
    client.force_login(official)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    client.logout()
    last_login = User.objects.get(pk=official.pk).last_login
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "maire@aubusson.fr", "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 200  # refused, the form is shown again
    assert "_auth_user_id" not in client.session
    assert User.objects.get(pk=official.pk).last_login == last_login
