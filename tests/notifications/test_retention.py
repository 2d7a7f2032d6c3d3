"""Notifications are kept 12 months after sending, then purged every night."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from notifications import services, tasks
from notifications.enums import NotificationStatus
from notifications.models import Notification
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_the_nightly_purge_deletes_only_what_is_past_retention():
    long_ago = timezone.now() - datetime.timedelta(days=366)
    recently = timezone.now() - datetime.timedelta(days=300)
    expired = [
        NotificationFactory(sent=True, created_at=long_ago, sent_at=long_ago),
        NotificationFactory(failed=True, created_at=long_ago),
        NotificationFactory(
            sent=True, in_app=True, read=True, created_at=long_ago, sent_at=long_ago
        ),
    ]
    kept = [
        NotificationFactory(sent=True, created_at=recently, sent_at=recently),
        # Recorded long ago but sent recently (retried): 12 months from sending.
        NotificationFactory(sent=True, created_at=long_ago, sent_at=recently),
        # Still pending: the sweep's business, never purged.
        NotificationFactory(status=NotificationStatus.PENDING, created_at=long_ago),
    ]
    assert services.purge_old(batch_size=2) == len(expired)
    assert set(Notification.objects.all()) == set(kept)
    assert tasks.purge_old() == 0  # nothing more to do


def test_the_purge_runs_every_night():
    entry = settings.CELERY_BEAT_SCHEDULE["notifications-purge"]
    assert entry["task"] == "notifications.purge_old"
    assert settings.NOTIFICATIONS_KEEP_DAYS == 365
