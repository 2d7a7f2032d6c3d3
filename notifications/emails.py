"""Rendering a notification as a French e-mail: plain text + HTML in a simple DSFR-like layout."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from anct_portal.context_processors import SERVICE_NAME, SERVICE_TAGLINE
from notifications.enums import PeriodicEvent


def absolute_url(url: str) -> str:
    """Links in e-mails must work outside the portal: prefix paths with ``SITE_URL``."""
    if not url:
        return settings.SITE_URL + "/"
    return f"{settings.SITE_URL}{url}" if url.startswith("/") else url


def build_message(notification, *, connection=None) -> EmailMultiAlternatives:
    """The e-mail of an outbox row. Its Message-ID is derived from the row: should a crash
    between the SMTP send and the commit make us send again, the copy carries the same id and
    mail clients show it once."""
    with translation.override("fr"):
        return _build(notification, connection)


def _build(notification, connection) -> EmailMultiAlternatives:
    context = dict(notification.context)
    is_digest = notification.event in PeriodicEvent.digests()
    items = [
        {**item, "url": absolute_url(item.get("url", ""))} for item in context.get("items", [])
    ]
    values = {
        "service_name": str(SERVICE_NAME),
        "service_tagline": str(SERVICE_TAGLINE),
        "subject": context.get("subject") or str(SERVICE_NAME),
        "title": context.get("title_line") or context.get("subject") or str(SERVICE_NAME),
        "body": context.get("body", ""),
        "items": items,
        "counts": context.get("counts", []),
        "url": absolute_url(context.get("url", "")),
        "action_label": context.get("action_label") or "Voir la demande",
        "reference": context.get("reference", ""),
        "is_digest": is_digest,
        "preferences_url": absolute_url(reverse("notifications:preferences")),
        "site_url": settings.SITE_URL,
    }
    text = render_to_string("notifications/email/notification.txt", values)
    html = render_to_string("notifications/email/notification.html", values)
    message = EmailMultiAlternatives(
        subject=values["subject"],
        body=text,
        to=[notification.email],
        headers={
            "Message-ID": f"<notification-{notification.pk}@{_domain()}>",
            "X-ANCT-Notification": notification.dedup_key,
            "Auto-Submitted": "auto-generated",
        },
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message


def _domain() -> str:
    sender = settings.DEFAULT_FROM_EMAIL
    domain = sender.rsplit("@", 1)[-1].strip(" >") if "@" in sender else ""
    return domain or "localhost"
