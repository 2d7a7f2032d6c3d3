"""The back office's message form carries a one-time token: a double click on "Envoyer" (found
by the load test: two identical messages, two e-mails to the collectivité) records it once."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from engineering_requests.enums import RequestState as S
from engineering_requests.models import RequestMessage
from notifications.models import Notification
from tests.engineering_requests.admin.conftest import change_url, messages_of


def message_url(request):
    return reverse("admin:engineering_requests_engineeringrequest_message", args=[request.pk])


def the_form(client, request) -> dict:
    """What the change page's message form would send, with the text typed in."""
    form = client.get(change_url(request)).context_data["message_form"]
    return {"form_token": form["form_token"].value(), "body": "Nous étudions votre dossier."}


def told(cast) -> list[str]:
    return sorted(
        Notification.objects.filter(event="message_posted", channel="email").values_list(
            "email", flat=True
        )
    )


def sent(request):
    return RequestMessage.objects.filter(
        engineering_request=request, body="Nous étudions votre dossier."
    )


def test_the_same_form_sent_twice_records_one_message(admin_as, cast):
    request = cast.request_in(S.IN_REVIEW)
    client = admin_as(cast.delegate)
    data = the_form(client, request)

    first = client.post(message_url(request), data)
    second = client.post(message_url(request), data, follow=True)

    assert first.status_code == 302
    assert sent(request).count() == 1
    assert "Votre envoi avait déjà été pris en compte." in messages_of(second)
    assert told(cast) == sorted([cast.official.email, cast.colleague.email])  # once each
    # Every page shows a new token: the next message is not taken for the same one.
    assert the_form(client, request)["form_token"] != data["form_token"]


def test_a_forged_token_is_refused_with_the_form_shown_again(admin_as, cast):
    request = cast.request_in(S.IN_REVIEW)
    response = admin_as(cast.delegate).post(
        message_url(request), {"form_token": "../../etc", "body": "Bonjour"}
    )
    assert response.status_code == 200 and "form_token" in response.context["form"].errors
    assert not request.messages.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_at_the_same_instant_records_one_message(admin_as):
    from tests.engineering_requests.factories import Cast

    cast = Cast.create()
    request = cast.request_in(S.IN_REVIEW)
    clients = [admin_as(cast.delegate), admin_as(cast.delegate)]
    data = the_form(clients[0], request)
    barrier = threading.Barrier(2)
    statuses = []

    def click(client):
        try:
            barrier.wait(timeout=10)
            statuses.append(client.post(message_url(request), data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert statuses == [302, 302]
    assert sent(request).count() == 1
    assert told(cast) == sorted([cast.official.email, cast.colleague.email])
