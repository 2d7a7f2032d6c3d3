"""The notification centre in the portal: unread count in the header, the paginated list,
mark as read (one, all) by POST, the preferences page, and the DEBUG mail viewer."""

from html import unescape

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from notifications.models import Notification, NotificationPreference
from tests.accounts.factories import OfficialFactory, UserFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def official(client):
    user = OfficialFactory()
    client.force_login(user)
    return user


def test_the_centre_needs_a_signed_in_user(client, settings):
    settings.LOGIN_URL = "/connexion/"
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/?next=/notifications/")


def test_the_header_shows_the_unread_count(client, official):
    NotificationFactory.create_batch(3, recipient=official, in_app=True)
    NotificationFactory(recipient=official, in_app=True, read=True)
    NotificationFactory(recipient=official)  # the e-mail copy is not counted
    NotificationFactory(in_app=True)  # someone else's
    html = client.get(reverse("home")).content.decode()
    assert reverse("notifications:inbox") in html
    assert "(3 non lues)" in html


def test_the_header_count_stops_at_99_plus(client, official, django_assert_max_num_queries):
    NotificationFactory.create_batch(101, recipient=official, in_app=True)
    response = client.get(reverse("home"))
    html = unescape(response.content.decode())
    assert ">99+<" in html and "(plus de 99 non lues)" in html
    NotificationFactory.create_batch(99, recipient=official, in_app=True)  # 200: still 99+
    with django_assert_max_num_queries(6):
        assert ">99+<" in client.get(reverse("home")).content.decode()


def test_the_badge_counts_what_the_inbox_shows_unread():
    # The badge's plain-SQL count and the inbox's queryset must agree.
    from notifications.templatetags.notifications_tags import count_unread

    official = OfficialFactory()
    assert count_unread(official.pk) == 0
    NotificationFactory.create_batch(4, recipient=official, in_app=True)
    NotificationFactory.create_batch(2, recipient=official, in_app=True, read=True)
    NotificationFactory.create_batch(3, recipient=official)  # e-mail copies
    NotificationFactory.create_batch(5, in_app=True)  # other people's
    expected = Notification.objects.inbox(official).unread().count()
    assert expected == 4
    assert count_unread(official.pk) == expected


def test_the_centre_lists_my_in_app_notifications_only_newest_first(client, official):
    older = NotificationFactory(recipient=official, in_app=True)
    newer = NotificationFactory(recipient=official, in_app=True)
    mine_by_email = NotificationFactory(recipient=official)
    theirs = NotificationFactory(in_app=True)
    response = client.get(reverse("notifications:inbox"))
    listed = list(response.context["notifications"])
    assert listed == [newer, older]
    html = unescape(response.content.decode())
    assert newer.subject in html
    assert mine_by_email not in listed and theirs not in listed


def test_the_centre_is_paginated_with_a_constant_number_of_queries(
    client, official, django_assert_max_num_queries
):
    NotificationFactory.create_batch(45, recipient=official, in_app=True)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("notifications:inbox"), {"page": 2})
    assert len(response.context["notifications"]) == 20
    assert "2 / 3" in response.content.decode()
    with django_assert_max_num_queries(6):
        client.get(reverse("notifications:inbox"), {"page": 3, "filtre": "non-lues"})


def test_unread_filter(client, official):
    unread = NotificationFactory(recipient=official, in_app=True)
    NotificationFactory(recipient=official, in_app=True, read=True)
    response = client.get(reverse("notifications:inbox"), {"filtre": "non-lues"})
    assert list(response.context["notifications"]) == [unread]


def test_mark_one_read_by_post_only(client, official):
    row = NotificationFactory(recipient=official, in_app=True)
    url = reverse("notifications:mark_read", args=[row.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"next": "/notifications/?page=1"})
    assert response.status_code == 302 and response["Location"] == "/notifications/?page=1"
    row.refresh_from_db()
    assert row.read_at is not None


def test_mark_read_never_follows_an_outside_next(client, official):
    row = NotificationFactory(recipient=official, in_app=True)
    response = client.post(
        reverse("notifications:mark_read", args=[row.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("notifications:inbox")


def test_someone_elses_notification_is_a_404(client, official):
    theirs = NotificationFactory(in_app=True)
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(client, official):
    NotificationFactory.create_batch(3, recipient=official, in_app=True)
    theirs = NotificationFactory(in_app=True)
    response = client.post(reverse("notifications:mark_all_read"), follow=True)
    assert "Toutes vos notifications sont marquées comme lues." in response.content.decode()
    assert not Notification.objects.inbox(official).unread().exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notification_marks_it_read_and_goes_to_the_request(client, official):
    row = NotificationFactory(recipient=official, in_app=True)
    response = client.post(reverse("notifications:open", args=[row.pk]))
    assert response.status_code == 302 and response["Location"] == "/demandes/1/"
    row.refresh_from_db()
    assert row.read_at is not None


def test_preferences_opt_out_of_digests(client, official):
    url = reverse("notifications:preferences")
    html = unescape(client.get(url).content.decode())
    assert "recevoir le récapitulatif hebdomadaire" in html.lower()
    assert 'name="receive_digests"' in html and "checked" in html

    response = client.post(url, {}, follow=True)  # box unticked

    assert "Vos préférences de notification sont enregistrées." in unescape(
        response.content.decode()
    )
    assert NotificationPreference.receives_digests(official) is False
    client.post(url, {"receive_digests": "on"})
    assert NotificationPreference.receives_digests(official) is True


def test_the_account_page_include_renders_the_preferences_form(official):
    NotificationPreference.objects.create(user=official, receive_digests=False)
    request = RequestFactory().get("/compte/")
    request.user = official
    html = render_to_string("includes/account_notification_preferences.html", {"request": request})
    assert f'action="{reverse("notifications:preferences")}"' in html
    assert 'name="receive_digests"' in html and "checked" not in html


def test_the_dev_mail_page_exists_only_in_debug(client, settings, tmp_path):
    url = reverse("notifications:dev_mails")
    assert client.get(url).status_code == 404

    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    mail.EmailMultiAlternatives(
        "Nouvelle demande d'appui en ingénierie : ING-2026-000042", "Bonjour", to=["a@b.fr"]
    ).send()
    html = unescape(client.get(url).content.decode())
    assert "ING-2026-000042" in html and "a@b.fr" in html


def test_anyone_signed_in_has_a_centre_even_without_a_role(client):
    client.force_login(UserFactory())
    assert client.get(reverse("notifications:inbox")).status_code == 200
