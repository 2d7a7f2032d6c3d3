"""Scope of the back office: a delegate of another département finds nothing of a request
anywhere in the admin (DESIGN §2: out of scope is a 404); officials never enter the admin."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engineering_requests import selectors, services
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from tests.accounts.factories import UserFactory
from tests.engineering_requests.admin.conftest import (
    change_url,
    changelist_url,
    export_url,
    history_url,
    transition_url,
)
from tests.engineering_requests.factories import EngineeringRequestFactory
from tests.territories.factories import CollectivityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_a(cast):
    """An escalated request of département A, with a history, a message and an attachment."""
    request = cast.request_in(S.ESCALATED, title="Passerelle sur la Creuse")
    services.post_message(
        engineering_request=request, user=cast.delegate, body="Note de la DDT.", internal=True
    )
    services.add_attachment(
        engineering_request=request,
        user=cast.official,
        file=SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan de la passerelle"),
    )
    return request


def test_officials_cannot_sign_in_to_the_admin(cast, client):
    response = client.post(
        reverse("admin:login"),
        {"username": cast.official.email, "password": "mot-de-passe-de-test-2026"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session
    client.force_login(cast.official)
    response = client.get(changelist_url())
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_a_staff_account_without_role_is_kept_out_of_the_admin(admin_as, request_a):
    stray = UserFactory(is_staff=True)
    client = admin_as(stray)
    login = reverse("admin:login")
    for url in (reverse("admin:index"), changelist_url(), change_url(request_a)):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(login), url
    page = client.get(login).content.decode()
    assert "Demandes d'appui" not in page
    assert "autorisé" in page  # Django's "you are not authorised to access this page"


def test_other_delegate_gets_404_everywhere_on_the_request(admin_as, cast, request_a):
    client = admin_as(cast.other_delegate)
    attachment = request_a.attachments.get()
    urls = [
        change_url(request_a),
        history_url(request_a),
        transition_url(request_a, "refer_back"),
        reverse(
            "admin:engineering_requests_engineeringrequest_attachment",
            args=[request_a.pk, attachment.pk],
        ),
        reverse("admin:engineering_requests_engineeringrequest_delete", args=[request_a.pk]),
        reverse("admin:engineering_requests_escalatedrequest_change", args=[request_a.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code in (403, 404), url
    for url in urls[:3]:
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("admin:engineering_requests_engineeringrequest_message", args=[request_a.pk]),
        {"body": "Intrusion"},
    )
    assert response.status_code == 404
    request_a.refresh_from_db()
    assert request_a.state == S.ESCALATED
    assert not request_a.messages.filter(body="Intrusion").exists()


def test_other_delegate_does_not_see_it_in_list_search_or_exports(admin_as, cast, request_a):
    departement_b = cast.other_delegate.delegate_assignments.get().departement
    own = EngineeringRequestFactory(
        submitted=True,
        collectivity=CollectivityFactory(commune__departement=departement_b),
        title="Maison de santé de l'autre département",
    )
    client = admin_as(cast.other_delegate)
    page = client.get(changelist_url()).content.decode()
    assert own.reference in page and request_a.reference not in page
    for query in (f"?q={request_a.reference}", "?q=Passerelle", "?statut=escalated"):
        shown = client.get(changelist_url(query)).context_data["cl"].result_list
        assert request_a not in shown

    csv_text = b"".join(client.get(export_url("csv")).streaming_content).decode()
    assert own.reference in csv_text and request_a.reference not in csv_text
    # Selecting the request by its id in a forged action POST exports nothing of it.
    response = client.post(
        changelist_url(),
        {"action": "export_csv", "_selected_action": [request_a.pk, own.pk], "index": 0},
    )
    csv_text = b"".join(response.streaming_content).decode()
    assert own.reference in csv_text and request_a.reference not in csv_text


def test_other_delegate_gets_nothing_from_autocomplete(admin_as, cast, request_a):
    url = reverse("admin:autocomplete")
    params = {
        "app_label": "engineering_requests",
        "model_name": "transitionlog",
        "field_name": "engineering_request",
        "term": "Passerelle",
    }
    mine = admin_as(cast.delegate).get(url, params).json()
    assert [r["id"] for r in mine["results"]] == [str(request_a.pk)]
    theirs = admin_as(cast.other_delegate).get(url, params).json()
    assert theirs["results"] == []
    assert admin_as(cast.other_delegate).get(url, {**params, "term": ""}).json()["results"] == []


def test_history_shows_admin_actions_only_to_those_in_scope(admin_as, cast):
    request = cast.request_in(S.SUBMITTED)
    client = admin_as(cast.delegate)
    response = client.post(
        transition_url(request, "start_review"), {"seen_state": S.SUBMITTED}, follow=True
    )
    assert response.status_code == 200
    history = client.get(history_url(request)).content.decode()
    assert "Prendre en charge" in history
    assert admin_as(cast.other_delegate).get(history_url(request)).status_code == 404
    assert LogEntry.objects.filter(object_id=str(request.pk)).count() == 1


def test_national_staff_see_every_departement_delegates_only_theirs(admin_as, cast, request_a):
    elsewhere = EngineeringRequestFactory(submitted=True)
    national = admin_as(cast.national).get(changelist_url()).content.decode()
    assert request_a.reference in national and elsewhere.reference in national
    delegate = admin_as(cast.delegate).get(changelist_url()).content.decode()
    assert request_a.reference in delegate and elsewhere.reference not in delegate


def test_drafts_never_reach_the_admin(admin_as, cast):
    draft = cast.request_in(S.DRAFT)
    never_submitted = cast.request_in(S.WITHDRAWN)
    for user in (cast.delegate, cast.national):
        client = admin_as(user)
        assert client.get(change_url(draft)).status_code == 404
        assert client.get(change_url(never_submitted)).status_code == 404


def test_backoffice_scope_is_within_visible_to(cast, request_a):
    EngineeringRequestFactory.create_batch(3, submitted=True)
    EngineeringRequestFactory(submitted=True, collectivity=cast.collectivity)
    for user in (cast.delegate, cast.other_delegate, cast.national, cast.official, cast.contact):
        backoffice = set(selectors.backoffice_visible_to(user).values_list("pk", flat=True))
        assert backoffice <= set(selectors.visible_to(user).values_list("pk", flat=True))
    assert not selectors.backoffice_visible_to(cast.official).exists()


def test_superusers_read_everything_but_act_on_nothing(admin_as, cast, request_a):
    support = UserFactory(is_staff=True, is_superuser=True)
    client = admin_as(support)
    page = client.get(change_url(request_a)).content.decode()
    assert request_a.reference in page
    assert "Accorder un appui national" not in page
    response = client.post(
        transition_url(request_a, "refer_back"), {"seen_state": S.ESCALATED, "reason": "Test"}
    )
    assert response.status_code == 403
    assert EngineeringRequest.objects.get(pk=request_a.pk).state == S.ESCALATED
