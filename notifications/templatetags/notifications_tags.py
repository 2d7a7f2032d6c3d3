import functools

from django import template
from django.db import connection

from anct_portal.prepared import prepared_cursor
from notifications.enums import Channel
from notifications.models import Notification

register = template.Library()


UNREAD_BADGE_CAP = 100


@register.simple_tag(takes_context=True)
def unread_notifications_count(context) -> int:
    """Unread in-app notifications of the signed-in user, counted up to ``UNREAD_BADGE_CAP``
    (the badge then says "99+"): one indexed query per page, bounded however many are unread."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return 0
    cached = getattr(request, "_unread_notifications", None)
    if cached is None:
        cached = count_unread(user.pk)
        request._unread_notifications = cached
    return cached


@functools.cache
def _unread_sql() -> str:
    table = connection.ops.quote_name(Notification._meta.db_table)
    # A quoted table name from the model; the values go as parameters.
    return (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE recipient_id = %s AND channel = %s"  # noqa: S608
        " AND read_at IS NULL LIMIT %s) AS unread"
    )


def count_unread(user_id: int) -> int:
    """``Notification.objects.inbox(user).unread()`` counted up to the cap, in plain SQL: the
    ORM spent 0.4 ms of CPU building this query on every page (tests check both agree)."""
    with prepared_cursor(connection.alias) as cursor:
        cursor.execute(_unread_sql(), [user_id, Channel.IN_APP, UNREAD_BADGE_CAP])
        return cursor.fetchone()[0]


@register.simple_tag(takes_context=True)
def notification_preferences_form(context):
    """The preferences form of the signed-in user, for the account page's include point."""
    from notifications.forms import PreferenceForm
    from notifications.models import NotificationPreference

    user = context["request"].user
    preference = NotificationPreference.objects.filter(user=user).first()
    return PreferenceForm(instance=preference or NotificationPreference(user=user))
