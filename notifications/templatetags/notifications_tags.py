from django import template

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
        cached = Notification.objects.inbox(user).unread().order_by()[:UNREAD_BADGE_CAP].count()
        request._unread_notifications = cached
    return cached


@register.simple_tag(takes_context=True)
def notification_preferences_form(context):
    """The preferences form of the signed-in user, for the account page's include point."""
    from notifications.forms import PreferenceForm
    from notifications.models import NotificationPreference

    user = context["request"].user
    preference = NotificationPreference.objects.filter(user=user).first()
    return PreferenceForm(instance=preference or NotificationPreference(user=user))
