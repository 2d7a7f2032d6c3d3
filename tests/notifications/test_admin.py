"""Notifications in the admin: staff see their own and mark them read; operators see every row,
find the failed ones and re-send them (delivered once)."""

from html import unescape

import pytest
from django.urls import reverse

from notifications.enums import NotificationStatus
from notifications.models import Notification
from tests.accounts.factories import DelegateFactory, UserFactory
from tests.notifications.factories import NotificationFactory, NotificationPreferenceFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_notification_changelist")


@pytest.fixture
def delegate(client):
    user = DelegateFactory()
    client.force_login(user)
    return user


@pytest.fixture
def operator(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_staff_see_their_own_notifications_only(client, delegate):
    mine = NotificationFactory.create_batch(2, recipient=delegate, in_app=True)
    NotificationFactory(in_app=True)  # someone else's
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == set(mine)
    assert "Mes notifications (2 non lues)" in unescape(response.content.decode())
    actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
    assert "resend" not in actions and "mark_read" in actions


def test_staff_mark_their_notifications_read_from_the_admin(client, delegate):
    rows = NotificationFactory.create_batch(2, recipient=delegate, in_app=True)
    client.post(CHANGELIST, {"action": "mark_read", "_selected_action": [r.pk for r in rows]})
    assert not Notification.objects.inbox(delegate).unread().exists()


def test_staff_cannot_open_someone_elses_notification(client, delegate):
    theirs = NotificationFactory(in_app=True)
    url = reverse("admin:notifications_notification_change", args=[theirs.pk])
    assert client.get(url).status_code == 302  # "does not exist" → back to the list


def test_staff_cannot_resend(client, delegate):
    row = NotificationFactory(recipient=delegate, failed=True)
    client.post(CHANGELIST, {"action": "resend", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == NotificationStatus.FAILED


def test_officials_have_no_admin(client):
    client.force_login(UserFactory())
    assert client.get(CHANGELIST).status_code == 302


def test_operators_filter_failed_rows_and_see_the_error(client, operator):
    failed = NotificationFactory(failed=True)
    NotificationFactory(sent=True)
    response = client.get(CHANGELIST, {"status__exact": "failed"})
    assert list(response.context["cl"].result_list) == [failed]
    detail = client.get(reverse("admin:notifications_notification_change", args=[failed.pk]))
    assert "Connection refused" in detail.content.decode()


def test_resend_from_the_admin_delivers_once(
    client, operator, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    failed = NotificationFactory(failed=True)
    sent = NotificationFactory(sent=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST,
            {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    text = unescape(response.content.decode())
    assert "1 notification remise en file d" in text
    assert "1 notification ignorée : seules les notifications en échec sont renvoyées." in text
    assert [m.to for m in mailoutbox] == [[failed.email]]
    failed.refresh_from_db()
    assert failed.status == NotificationStatus.SENT


def test_the_changelist_runs_a_constant_number_of_queries(
    client, operator, django_assert_max_num_queries
):
    NotificationFactory.create_batch(60, failed=True)
    with django_assert_max_num_queries(8):
        response = client.get(CHANGELIST, {"event": "submitted", "status__exact": "failed"})
    assert len(response.context["cl"].result_list) == 50


def test_preferences_are_visible_in_the_admin(client, operator):
    preference = NotificationPreferenceFactory(no_digests=True)
    response = client.get(reverse("admin:notifications_notificationpreference_changelist"))
    assert list(response.context["cl"].result_list) == [preference]
