"""Workflow actions through the admin: each calls its service for the right role, and is refused
(403, nothing changed, nothing logged) for the wrong one; errors become clear French messages."""

from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engineering_requests import selectors, services
from engineering_requests.enums import MessageKind
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest, TransitionLog
from programmes.enums import NationalInstrument
from tests.accounts.factories import DelegateFactory
from tests.engineering_requests.admin.conftest import change_url, messages_of, transition_url
from tests.programmes.factories import LocalProviderFactory, OperatorFactory

pytestmark = pytest.mark.django_db

# transition, starting state, who may, who may not, what the form carries, state reached
CASES = [
    ("start_review", S.SUBMITTED, "delegate", "national", {}, S.IN_REVIEW),
    (
        "request_info",
        S.IN_REVIEW,
        "delegate",
        "national",
        {"message": "Pouvez-vous joindre le plan de financement ?"},
        S.INFO_REQUESTED,
    ),
    (
        "resolve_locally",
        S.IN_REVIEW,
        "delegate",
        "national",
        {
            "contact_name": "Claire Martin",
            "contact_organisation": "Agence technique départementale",
            "contact_email": "claire.martin@atd.example.fr",
        },
        S.LOCAL_SUPPORT,
    ),
    (
        "escalate",
        S.IN_REVIEW,
        "delegate",
        "national",
        {
            "fragility": "Commune de 300 habitants sans aucun agent technique.",
            "insufficient_local_resources": "L'ATD ne couvre pas les ouvrages d'art.",
            "rare_expertise": "on",
        },
        S.ESCALATED,
    ),
    ("decline", S.IN_REVIEW, "delegate", "national", {"reason": "Hors du champ."}, S.DECLINED),
    (
        "approve_national",
        S.ESCALATED,
        "national",
        "delegate",
        {"instrument": NationalInstrument.SUBSIDY, "amount": "40000"},
        S.NATIONAL_SUPPORT,
    ),
    (
        "refer_back",
        S.ESCALATED,
        "national",
        "delegate",
        {"reason": "Le CAUE peut répondre."},
        S.IN_REVIEW,
    ),
    (
        "complete",
        S.LOCAL_SUPPORT,
        "delegate",
        "national",
        {"outcome": "Étude rendue."},
        S.COMPLETED,
    ),
    (
        "complete",
        S.NATIONAL_SUPPORT,
        "national",
        "delegate",
        {"outcome": "Mission terminée."},
        S.COMPLETED,
    ),
]


@pytest.mark.parametrize(("name", "state", "allowed", "refused", "data", "target"), CASES)
def test_each_transition_for_the_right_role(
    admin_as, cast, name, state, allowed, refused, data, target
):
    request = cast.request_in(state)
    user = getattr(cast, allowed)
    client = admin_as(user)
    page = client.get(change_url(request)).content.decode()
    assert f'action="{transition_url(request, name)}"' in page

    response = client.post(
        transition_url(request, name), {"seen_state": state, **data}, follow=True
    )

    assert response.status_code == 200
    request.refresh_from_db()
    assert request.state == target
    assert any("est maintenant" in m for m in messages_of(response)), messages_of(response)
    log = TransitionLog.objects.filter(engineering_request=request).last()
    assert (log.transition, log.actor, log.target_state) == (name, user, target)
    audit = LogEntry.objects.get(object_id=str(request.pk), user=user)
    assert str(S(state).label) in audit.change_message and str(target.label) in audit.change_message


@pytest.mark.parametrize(("name", "state", "allowed", "refused", "data", "target"), CASES)
def test_each_transition_is_refused_to_the_wrong_role(
    admin_as, cast, name, state, allowed, refused, data, target
):
    request = cast.request_in(state)
    logs = TransitionLog.objects.filter(engineering_request=request).count()
    client = admin_as(getattr(cast, refused))
    page = client.get(change_url(request)).content.decode()
    assert transition_url(request, name) not in page  # not offered…

    response = client.post(transition_url(request, name), {"seen_state": state, **data})

    assert response.status_code == 403  # …and refused on the server
    assert client.get(transition_url(request, name)).status_code == 403
    request.refresh_from_db()
    assert request.state == state
    assert TransitionLog.objects.filter(engineering_request=request).count() == logs
    assert not LogEntry.objects.filter(object_id=str(request.pk)).exists()


def test_only_the_actions_open_to_the_user_now_are_offered(admin_as, cast):
    request = cast.request_in(S.IN_REVIEW)
    delegate_page = unescape(admin_as(cast.delegate).get(change_url(request)).content.decode())
    for label in ("Demander un complément", "Répondre localement", "Transmettre à l'ANCT"):
        assert label in delegate_page
    assert "Accorder un appui national" not in delegate_page
    assert "Prendre en charge" not in delegate_page
    national_page = admin_as(cast.national).get(change_url(request)).content.decode()
    assert "Aucune action ne vous revient" in national_page
    # The state is never an editable field.
    assert 'name="state"' not in delegate_page and 'name="state"' not in national_page


def test_missing_justification_shows_the_form_again_with_field_errors(admin_as, cast):
    request = cast.request_in(S.IN_REVIEW)
    client = admin_as(cast.delegate)
    response = client.post(
        transition_url(request, "escalate"),
        {"seen_state": S.IN_REVIEW, "fragility": "Commune très fragile."},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "insufficient_local_resources" in form.errors
    assert "Commune très fragile." in response.content.decode()  # what was typed is kept
    request.refresh_from_db()
    assert request.state == S.IN_REVIEW


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"instrument": NationalInstrument.FRAMEWORK_AGREEMENT}, "operator"),
        ({"instrument": NationalInstrument.PURCHASE_ORDER}, "amount"),
        ({}, "instrument"),
    ],
)
def test_national_decision_errors_land_on_their_fields(admin_as, cast, data, field):
    request = cast.request_in(S.ESCALATED)
    response = admin_as(cast.national).post(
        transition_url(request, "approve_national"), {"seen_state": S.ESCALATED, **data}
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert EngineeringRequest.objects.get(pk=request.pk).state == S.ESCALATED


def test_approve_with_a_framework_agreement_operator(admin_as, cast):
    request = cast.request_in(S.ESCALATED)
    cerema = OperatorFactory()
    admin_as(cast.national).post(
        transition_url(request, "approve_national"),
        {
            "seen_state": S.ESCALATED,
            "instrument": NationalInstrument.FRAMEWORK_AGREEMENT,
            "operator": cerema.pk,
        },
    )
    request.refresh_from_db()
    assert (request.state, request.operator) == (S.NATIONAL_SUPPORT, cerema)


def test_resolve_with_a_provider_of_the_departement_directory(admin_as, cast):
    request = cast.request_in(S.IN_REVIEW)
    provider = LocalProviderFactory(
        departement=cast.collectivity.departement, contact_name="Paul Petit"
    )
    elsewhere = LocalProviderFactory()
    client = admin_as(cast.delegate)
    page = client.get(change_url(request)).content.decode()
    assert provider.name in page and elsewhere.name not in page

    response = client.post(
        transition_url(request, "resolve_locally"),
        {"seen_state": S.IN_REVIEW, "provider": elsewhere.pk},
    )
    assert "provider" in response.context["form"].errors  # not of this département

    client.post(
        transition_url(request, "resolve_locally"),
        {"seen_state": S.IN_REVIEW, "provider": provider.pk},
    )
    request.refresh_from_db()
    assert request.state == S.LOCAL_SUPPORT
    assert (request.local_provider, request.contact_name, request.contact_email) == (
        provider,
        "Paul Petit",
        provider.email,
    )


def test_already_handled_by_someone_else(admin_as, cast):
    request = cast.request_in(S.SUBMITTED)
    colleague = DelegateFactory(departements=[cast.collectivity.departement])
    client = admin_as(cast.delegate)
    page = client.get(change_url(request))  # the page shows "submitted"
    assert page.context_data["workflow_actions"][0]["form"]["seen_state"].value() == S.SUBMITTED
    services.start_review(engineering_request=request, user=colleague)  # meanwhile

    response = client.post(
        transition_url(request, "start_review"), {"seen_state": S.SUBMITTED}, follow=True
    )

    assert response.status_code == 200
    assert any("déjà été traitée par quelqu'un d'autre" in m for m in messages_of(response))
    request.refresh_from_db()
    assert request.assigned_delegate == colleague
    assert TransitionLog.objects.filter(engineering_request=request).count() == 2
    assert not LogEntry.objects.filter(object_id=str(request.pk)).exists()


def test_a_stale_page_cannot_decide_on_a_request_referred_back(admin_as, cast):
    request = cast.request_in(S.ESCALATED)
    services.refer_back(engineering_request=request, user=cast.national, reason="Voyez l'ATD.")
    services.escalate_request(
        engineering_request=EngineeringRequest.objects.get(pk=request.pk),
        user=cast.delegate,
        innovative_or_complex="Toujours complexe.",
    )
    # Same state as the stale page, but a page rendered in "in_review" is refused.
    response = admin_as(cast.delegate).post(
        transition_url(request, "decline"),
        {"seen_state": S.IN_REVIEW, "reason": "Hors champ."},
        follow=True,
    )
    assert any("quelqu'un d'autre" in m for m in messages_of(response))
    assert EngineeringRequest.objects.get(pk=request.pk).state == S.ESCALATED


def test_delegate_replies_and_writes_internal_notes(admin_as, cast):
    request = cast.request_in(S.IN_REVIEW)
    client = admin_as(cast.delegate)
    url = reverse("admin:engineering_requests_engineeringrequest_message", args=[request.pk])
    client.post(url, {"body": "Nous étudions votre dossier."})
    client.post(
        url,
        {
            "body": "Le maire a déjà sollicité le département.",
            "internal": "on",
            "file": SimpleUploadedFile("note.txt", b"Note interne de la DDT"),
        },
    )
    kinds = dict(request.messages.values_list("body", "kind"))
    assert kinds["Nous étudions votre dossier."] == MessageKind.MESSAGE
    assert kinds["Le maire a déjà sollicité le département."] == MessageKind.INTERNAL_NOTE
    official_view = [m.body for m in selectors.messages_for(request, cast.official)]
    assert "Nous étudions votre dossier." in official_view
    assert "Le maire a déjà sollicité le département." not in official_view
    assert not selectors.attachments_for(request, cast.official).exists()
    page = client.get(change_url(request)).content.decode()
    assert "Le maire a déjà sollicité le département." in page and "note.txt" in page

    client.post(url, {"body": "Voir <script>alert(1)</script>"})
    assert "Voir &lt;script&gt;" in client.get(change_url(request)).content.decode()

    response = client.post(url, {"body": "  "})
    assert response.status_code == 200 and "body" in response.context["form"].errors


def test_attachments_download_as_files_for_staff_in_scope(admin_as, cast):
    request = cast.request_in(S.IN_REVIEW)
    attachment = services.add_attachment(
        engineering_request=request,
        user=cast.official,
        file=SimpleUploadedFile("devis.pdf", b"%PDF-1.4 devis"),
    )
    url = reverse(
        "admin:engineering_requests_engineeringrequest_attachment",
        args=[request.pk, attachment.pk],
    )
    response = admin_as(cast.delegate).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="devis.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"%PDF-1.4 devis"
    assert admin_as(cast.other_delegate).get(url).status_code == 404
    other = cast.request_in(S.IN_REVIEW)
    wrong_parent = reverse(
        "admin:engineering_requests_engineeringrequest_attachment",
        args=[other.pk, attachment.pk],
    )
    assert admin_as(cast.delegate).get(wrong_parent).status_code == 404
