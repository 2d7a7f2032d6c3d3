"""Rendering a notification as a French e-mail: plain text + HTML in a simple DSFR-like layout."""

import contextlib
import smtplib
import threading
import time

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
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


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
SMTP_IDLE_SECONDS = 30  # well under the usual server timeouts (Postfix: 300 s)


class _Connections(threading.local):
    """One open SMTP connection per worker thread, reused between deliveries: opening one (TCP,
    EHLO, STARTTLS, AUTH) costs more than sending a message. Dropped when idle, when the
    settings change, or after any error."""

    connection = None
    key = None
    last_used = 0.0

    def get(self):
        key = (
            settings.EMAIL_HOST,
            settings.EMAIL_PORT,
            settings.EMAIL_HOST_USER,
            settings.EMAIL_USE_TLS,
            settings.EMAIL_USE_SSL,
        )
        idle = time.monotonic() - self.last_used > SMTP_IDLE_SECONDS
        if self.connection is not None and (key != self.key or idle):
            self.close()
        reused = self.connection is not None
        if not reused:
            self.connection = get_connection(SMTP_BACKEND, fail_silently=False)
            self.connection.open()
            self.key = key
        return self.connection, reused

    def close(self):
        if self.connection is not None:
            # Closing a broken connection: nothing worth reporting.
            with contextlib.suppress(Exception):
                self.connection.close()
        self.connection = None

    def touch(self):
        self.last_used = time.monotonic()


_connections = _Connections()


def send(notification) -> None:
    """Send the e-mail of an outbox row; raise on failure. With the SMTP backend the
    connection is kept for the next delivery; other backends (files, memory) open their own."""
    if settings.EMAIL_BACKEND != SMTP_BACKEND:
        build_message(notification).send()
        return
    message = build_message(notification)
    try:
        connection, reused = _connections.get()
        try:
            message.connection = connection
            message.send()
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            if not reused:
                raise
            # The server dropped the idle connection before taking the message: once more on
            # a fresh one.
            _connections.close()
            connection, _reused = _connections.get()
            message.connection = connection
            message.send()
    except Exception:
        _connections.close()
        raise
    _connections.touch()
