import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts import roles


@pytest.fixture
def admin_as():
    """A browser signed in as ``user`` (roles are re-read on each request)."""

    def sign_in(user):
        roles.clear_role_cache(user)
        client = Client()
        client.force_login(user)
        return client

    return sign_in


def changelist_url(query: str = "") -> str:
    return reverse("admin:engineering_requests_engineeringrequest_changelist") + query


def change_url(request) -> str:
    return reverse("admin:engineering_requests_engineeringrequest_change", args=[request.pk])


def history_url(request) -> str:
    return reverse("admin:engineering_requests_engineeringrequest_history", args=[request.pk])


def transition_url(request, name: str) -> str:
    return reverse(
        "admin:engineering_requests_engineeringrequest_transition", args=[request.pk, name]
    )


def export_url(fmt: str, query: str = "") -> str:
    return reverse("admin:engineering_requests_engineeringrequest_export", args=[fmt]) + query


def messages_of(response) -> list[str]:
    if response.context is not None and "messages" in response.context:
        return [str(m) for m in response.context["messages"]]
    # A page written out without templates (the change lists): its list of messages.
    found = re.search(r'<ul class="messagelist">(.*?)</ul>', response.content.decode(), re.S)
    if not found:
        return []
    return [html.unescape(m) for m in re.findall(r"<li[^>]*>(.*?)</li>", found.group(1), re.S)]
