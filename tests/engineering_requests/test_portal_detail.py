"""The request page: status, timeline, messages, documents, and only the actions allowed now."""

import pytest
from django.urls import reverse

from anct_portal.services import new_form_token
from engineering_requests import services
from engineering_requests.enums import MessageKind, RequestState
from engineering_requests.models import RequestMessage
from tests.engineering_requests.factories import (
    AttachmentFactory,
    EngineeringRequestFactory,
    RequestMessageFactory,
    pdf_upload,
)

pytestmark = pytest.mark.django_db

S = RequestState


def url(name, request, **kwargs):
    return reverse(f"engineering_requests:{name}", kwargs={"pk": request.pk, **kwargs})


def page(client, request):
    response = client.get(request.get_absolute_url())
    assert response.status_code == 200
    return response, response.content.decode()


def test_the_timeline_tells_who_did_what_and_when(official_client, cast):
    request = cast.request_in(S.INFO_REQUESTED)
    response, html = page(official_client, request)
    assert [entry["log"].transition for entry in response.context["timeline"]] == [
        "submit",
        "start_review",
        "request_info",
    ]
    assert "Prise en charge par le délégué territorial" in html
    assert cast.delegate.get_full_name() in html
    assert "Quel est le budget ?" in html
    assert '<p class="fr-badge fr-badge--warning">Complément demandé</p>' in html


def test_only_the_actions_allowed_now_are_offered(official_client, cast):
    expectations = {
        S.DRAFT: {"submit", "edit", "withdraw"},
        S.SUBMITTED: {"withdraw", "message"},
        S.INFO_REQUESTED: {"provide_info", "withdraw", "message"},
        S.LOCAL_SUPPORT: {"message"},
        S.WITHDRAWN: set(),
    }
    for state, allowed in expectations.items():
        request = cast.request_in(state)
        response, html = page(official_client, request)
        offered = {name for name, ok in response.context["can"].items() if ok}
        assert offered == allowed, state
        assert (url("withdraw", request) in html) == ("withdraw" in allowed)
        assert ('id="provide-info-form"' in html) == ("provide_info" in allowed)


def test_the_interlocuteur_unique_and_the_national_decision_are_shown(official_client, cast):
    _, html = page(official_client, cast.request_in(S.LOCAL_SUPPORT))
    assert "Votre interlocuteur unique" in html and "Claire Martin" in html
    assert f"mailto:{cast.contact.email}" in html
    _, html = page(official_client, cast.request_in(S.NATIONAL_SUPPORT))
    assert "La décision de l'ANCT" in html and "Convention-cadre avec un opérateur" in html


def test_officials_never_see_internal_notes_nor_the_escalation_rationale(official_client, cast):
    request = cast.request_in(S.ESCALATED)
    services.post_message(
        engineering_request=request, user=cast.delegate, body="Note confidentielle", internal=True
    )
    AttachmentFactory(engineering_request=request, internal=True)
    _, html = page(official_client, request)
    assert "Note confidentielle" not in html and "note-interne.pdf" not in html
    assert "Transmission à l&#x27;ANCT" in html
    assert "expertise du Cerema" not in html  # the delegate's justification
    # The delegate, on the same page, sees both.
    official_client.force_login(cast.delegate)
    _, html = page(official_client, request)
    assert "Note confidentielle" in html and "expertise du Cerema" in html


def test_another_collectivitys_request_is_a_404_everywhere(official_client, cast):
    other = EngineeringRequestFactory(submitted=True)
    attachment = AttachmentFactory(engineering_request=other)
    assert official_client.get(other.get_absolute_url()).status_code == 404
    assert official_client.get(url("withdraw", other)).status_code == 404
    assert official_client.post(url("provide_info", other), {"message": "x"}).status_code == 404
    assert official_client.post(url("message", other), {"body": "x"}).status_code == 404
    download = url("attachment", other, attachment_pk=attachment.pk)
    assert official_client.get(download).status_code == 404


def test_documents_are_downloaded_through_a_checked_view_never_a_public_url(
    official_client, cast, settings
):
    request = cast.request_in(S.SUBMITTED)
    attachment = services.add_attachment(
        engineering_request=request, user=cast.official, file=pdf_upload("plan.pdf")
    )
    _, html = page(official_client, request)
    download = url("attachment", request, attachment_pk=attachment.pk)
    assert download in html and settings.MEDIA_URL + "attachments" not in html
    response = official_client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="plan.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    internal = AttachmentFactory(engineering_request=request, internal=True)
    assert (
        official_client.get(url("attachment", request, attachment_pk=internal.pk)).status_code
        == 404
    )
    official_client.logout()
    assert official_client.get(download).status_code == 302  # to sign-in


def test_the_official_answers_with_a_file(official_client, cast):
    request = cast.request_in(S.INFO_REQUESTED)
    response = official_client.post(
        url("provide_info", request),
        {
            "form_token": new_form_token(),
            "seen_state": S.INFO_REQUESTED,
            "message": "Voici le plan de financement.",
            "files": [pdf_upload("financement.pdf")],
        },
        follow=True,
    )
    request.refresh_from_db()
    assert request.state == S.IN_REVIEW
    html = response.content.decode()
    assert "Votre complément a été envoyé" in html
    assert "Voici le plan de financement." in html and "financement.pdf" in html


def test_an_empty_answer_is_refused_in_french(official_client, cast):
    request = cast.request_in(S.INFO_REQUESTED)
    response = official_client.post(
        url("provide_info", request),
        {"form_token": new_form_token(), "seen_state": S.INFO_REQUESTED, "message": "  "},
    )
    assert response.status_code == 200
    assert "Répondez par un message ou joignez un document." in response.content.decode()
    request.refresh_from_db()
    assert request.state == S.INFO_REQUESTED


def test_an_action_not_available_in_this_state_is_refused_with_a_message(official_client, cast):
    request = cast.request_in(S.IN_REVIEW)
    response = official_client.post(
        url("provide_info", request),
        {"form_token": new_form_token(), "message": "Un complément spontané"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Cette action n&#x27;est pas possible pour une demande au statut « En instruction »" in (
        response.content.decode()
    )
    completed = cast.request_in(S.COMPLETED)
    response = official_client.post(
        url("withdraw", completed),
        {"form_token": new_form_token(), "confirm": "on"},
        follow=True,
    )
    assert "ne peut plus être retirée" in response.content.decode()
    response = official_client.post(url("submit", completed), follow=True)
    assert response.status_code == 200 and "n&#x27;est pas possible" in response.content.decode()


def test_a_request_changed_by_someone_else_meanwhile_says_so(official_client, cast):
    request = cast.request_in(S.INFO_REQUESTED)
    services.withdraw_request(engineering_request=request, user=cast.colleague)
    response = official_client.post(
        url("provide_info", request),
        {"form_token": new_form_token(), "seen_state": S.INFO_REQUESTED, "message": "Réponse"},
        follow=True,
    )
    assert "traitée par quelqu&#x27;un d&#x27;autre" in response.content.decode()


def test_withdrawal_asks_for_confirmation_first(official_client, cast):
    request = cast.request_in(S.SUBMITTED)
    response = official_client.get(url("withdraw", request))
    assert "Ce retrait est définitif" in response.content.decode()
    response = official_client.post(
        url("withdraw", request), {"form_token": new_form_token(), "seen_state": S.SUBMITTED}
    )
    assert "Cochez la case pour confirmer le retrait." in response.content.decode()
    request.refresh_from_db()
    assert request.state == S.SUBMITTED
    response = official_client.post(
        url("withdraw", request),
        {
            "form_token": new_form_token(),
            "seen_state": S.SUBMITTED,
            "confirm": "on",
            "reason": "Projet reporté",
        },
        follow=True,
    )
    request.refresh_from_db()
    assert request.state == S.WITHDRAWN and request.withdrawal_reason == "Projet reporté"
    assert "Votre demande est retirée." in response.content.decode()


def test_a_complete_draft_is_submitted_from_its_page_and_an_incomplete_one_is_sent_to_the_form(
    official_client, cast
):
    draft = cast.draft()
    response = official_client.post(
        url("submit", draft), {"form_token": new_form_token(), "seen_state": S.DRAFT}
    )
    draft.refresh_from_db()
    assert draft.state == S.SUBMITTED and response.url == url("confirmation", draft)
    incomplete = cast.draft(need="")
    response = official_client.post(url("submit", incomplete), follow=True)
    assert response.redirect_chain[-1][0] == url("edit", incomplete) + "?verifier=1"
    assert "Décrivez le besoin d&#x27;ingénierie." in response.content.decode()


@pytest.mark.parametrize("token", ["x" * 65, "trop court", "<script>"])
def test_a_malformed_token_on_submit_is_refused_with_a_message_not_an_error(
    official_client, cast, token
):
    draft = cast.draft()
    response = official_client.post(url("submit", draft), {"form_token": token}, follow=True)
    assert response.status_code == 200
    assert "Ce formulaire a expiré" in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == S.DRAFT


def test_messages_are_posted_and_a_double_click_posts_one(official_client, cast):
    request = cast.request_in(S.IN_REVIEW)
    data = {"form_token": new_form_token(), "body": "Le conseil municipal a voté le budget."}
    official_client.post(url("message", request), data)
    official_client.post(url("message", request), data)
    assert request.messages.filter(kind=MessageKind.MESSAGE).count() == 1
    _, html = page(official_client, request)
    assert "Le conseil municipal a voté le budget." in html


def test_the_local_contact_posts_progress_notes(client, cast):
    request = cast.request_in(S.LOCAL_SUPPORT)
    client.force_login(cast.contact)
    _, html = page(client, request)
    assert 'id="progress-note-form"' in html and 'id="message-form"' not in html
    response = client.post(
        url("progress_note", request),
        {"form_token": new_form_token(), "body": "Première réunion de cadrage tenue."},
        follow=True,
    )
    assert "Votre point d&#x27;avancement est publié." in response.content.decode()
    assert request.messages.get(kind=MessageKind.PROGRESS_NOTE).author == cast.contact
    # Someone else may not.
    client.force_login(cast.official)
    response = client.post(
        url("progress_note", request), {"form_token": new_form_token(), "body": "x"}
    )
    assert response.status_code == 403


def test_an_expired_session_keeps_the_answer_being_typed(client, cast):
    request = cast.request_in(S.INFO_REQUESTED)
    response = client.post(
        url("provide_info", request), {"message": "Ma réponse détaillée", "form_token": "x" * 32}
    )
    assert response.url == f"{reverse('accounts:login')}?next={request.get_absolute_url()}"
    client.force_login(cast.official)
    _, html = page(client, request)
    assert "Votre session avait expiré" in html
    assert "Ma réponse détaillée" in html


def test_the_request_page_runs_a_constant_number_of_queries(
    official_client, cast, django_assert_max_num_queries
):
    request = cast.request_in(S.IN_REVIEW)
    for index in range(150):
        message = RequestMessage.objects.create(
            engineering_request=request, author=cast.official, body=f"Message {index}"
        )
        AttachmentFactory(engineering_request=request, uploaded_by=cast.official, message=message)
    RequestMessageFactory.create_batch(
        150, engineering_request=request, author=cast.delegate, internal=True
    )
    AttachmentFactory.create_batch(150, engineering_request=request, uploaded_by=cast.delegate)
    # Session, user, roles, the request's row, its lists (one query), the unread badge.
    with django_assert_max_num_queries(6):
        response = official_client.get(request.get_absolute_url())
    assert len(response.context["thread"]) == 150  # no internal note
    assert len(response.context["attachments"]) == 300
