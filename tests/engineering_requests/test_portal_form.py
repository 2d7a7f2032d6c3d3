"""The request form: drafts, submission, documents, and every kind of bad input."""

import datetime
import threading

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anct_portal.services import new_form_token
from engineering_requests.enums import RequestState
from engineering_requests.models import Attachment, EngineeringRequest, TransitionLog
from notifications.models import Notification
from programmes.enums import ContractKind, InterventionForm, ProgrammeStatus
from programmes.models import Contract
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.engineering_requests.factories import EngineeringRequestFactory, pdf_upload
from tests.programmes.factories import (
    PriorityDomainFactory,
    ProgrammeFactory,
    ProgrammeMembershipFactory,
)

pytestmark = pytest.mark.django_db

CREATE = reverse("engineering_requests:create")


def edit_url(pk):
    return reverse("engineering_requests:edit", kwargs={"pk": pk})


@pytest.fixture
def domain(db):
    return PriorityDomainFactory(code="revitalisation", name="Revitalisation commerciale")


def complete(cast, domain, **overrides):
    data = {
        "form_token": new_form_token(),
        "collectivity": cast.collectivity.pk,
        "title": "Réhabilitation du pont de la Creuse",
        "description": "Le pont communal, construit en 1890, présente des fissures.",
        "need": "Un diagnostic structurel par un bureau d'études spécialisé.",
        "engineering_kind": "technical_expertise",
        "intervention_form": InterventionForm.CUSTOM,
        "domains": [domain.pk],
        "estimated_budget": "250 000",
        "desired_start": (timezone.localdate() + datetime.timedelta(days=60)).isoformat(),
        "action": "submit",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def mine(cast):
    return EngineeringRequest.objects.filter(collectivity=cast.collectivity)


# The happy paths ------------------------------------------------------------------------------


def test_the_new_request_form_is_in_clear_sections(official_client, cast, domain):
    html = official_client.get(CREATE).content.decode()
    for legend in ("1. La collectivité", "2. Le projet", "3. Le besoin d'ingénierie",
                   "4. La forme d'intervention", "5. Les domaines prioritaires",
                   "6. Budget et calendrier", "7. Documents"):  # fmt: skip
        assert legend.replace("'", "&#x27;") in html
    assert str(cast.collectivity) in html
    assert 'value="save"' in html and 'value="submit"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "<script>" not in html.split("</footer>")[0]  # no inline script


def test_an_incomplete_draft_can_be_saved(official_client, cast, domain):
    response = official_client.post(
        CREATE, complete(cast, domain, description="", need="", domains=None, action="save")
    )
    draft = mine(cast).get()
    assert response.url == edit_url(draft.pk)
    assert draft.state == RequestState.DRAFT and draft.reference is None
    assert draft.title == "Réhabilitation du pont de la Creuse"
    page = official_client.get(response.url)
    assert "Brouillon enregistré" in page.content.decode()


def test_submitting_a_complete_request_shows_its_reference(official_client, cast, domain):
    response = official_client.post(CREATE, complete(cast, domain), follow=True)
    request = mine(cast).get()
    assert request.state == RequestState.SUBMITTED
    assert response.redirect_chain[-1][0] == reverse(
        "engineering_requests:confirmation", kwargs={"pk": request.pk}
    )
    html = response.content.decode()
    assert "Votre demande est déposée" in html and request.reference in html
    assert request.estimated_budget == 250000
    assert list(request.domains.all()) == [domain]


def test_submitting_an_incomplete_request_saves_the_draft_and_shows_what_is_missing(
    official_client, cast, domain
):
    response = official_client.post(CREATE, complete(cast, domain, need="", domains=None))
    draft = mine(cast).get()
    assert draft.state == RequestState.DRAFT
    html = response.content.decode()
    assert response.status_code == 200
    assert "Décrivez le besoin d&#x27;ingénierie." in html  # from the service's message_dict
    assert "Choisissez au moins un domaine prioritaire." in html
    assert 'id="id_need_error"' in html and "fr-input-group--error" in html
    assert f'action="{edit_url(draft.pk)}"' in html  # the next save updates this draft
    assert "Votre brouillon est enregistré" in html
    assert 'value="Réhabilitation du pont de la Creuse"' in html  # what was typed stays


def test_a_draft_is_edited_then_submitted(official_client, cast, domain):
    draft = cast.draft(title="Ancien titre")
    html = official_client.get(edit_url(draft.pk)).content.decode()
    assert 'value="Ancien titre"' in html and 'name="collectivity"' not in html
    response = official_client.post(edit_url(draft.pk), complete(cast, domain, title="Nouveau"))
    draft.refresh_from_db()
    assert draft.title == "Nouveau" and draft.state == RequestState.SUBMITTED
    assert response.url.endswith("/confirmation/")
    # A submitted request is not edited any more.
    again = official_client.get(edit_url(draft.pk))
    assert again.url == draft.get_absolute_url()


def test_the_programmes_of_the_collectivity_are_preselected(official_client, cast, domain):
    pvd = ProgrammeFactory(code="pvd", name="Petites villes de demain")
    ProgrammeFactory(code="acv", name="Action cœur de ville")
    ProgrammeMembershipFactory(programme=pvd, territory__programme=pvd,
                               commune=cast.collectivity.commune)  # fmt: skip
    response = official_client.get(CREATE)
    form = response.context["form"]
    assert form.initial["intervention_form"] == InterventionForm.PROGRAMME
    assert form.initial["programme"] == pvd.pk
    html = response.content.decode()
    assert "Votre collectivité fait partie de" in html and "Petites villes de demain" in html
    assert f'<option value="{pvd.pk}" selected>' in html


def test_a_programme_only_counts_with_its_form_of_intervention(official_client, cast, domain):
    pvd = ProgrammeFactory(code="pvd")
    official_client.post(CREATE, complete(cast, domain, programme=pvd.pk))  # sur-mesure
    request = mine(cast).get()
    assert request.programme is None and request.state == RequestState.SUBMITTED


def test_documents_are_stored_through_the_services(official_client, cast, domain):
    data = complete(cast, domain, action="save")
    data["attachments"] = [pdf_upload("plan.pdf"), pdf_upload("deliberation.pdf")]
    official_client.post(CREATE, data)
    draft = mine(cast).get()
    assert sorted(draft.attachments.values_list("original_name", flat=True)) == [
        "deliberation.pdf",
        "plan.pdf",
    ]
    html = official_client.get(edit_url(draft.pk)).content.decode()
    assert "Documents déjà joints" in html and "plan.pdf" in html


# Bad input ------------------------------------------------------------------------------------


def test_a_disguised_file_is_refused_and_nothing_is_saved(official_client, cast, domain):
    data = complete(cast, domain, action="save")
    data["attachments"] = [SimpleUploadedFile("plan.pdf", b"MZ\x90\x00 an executable")]
    response = official_client.post(CREATE, data)
    html = response.content.decode()
    assert "ne correspond pas à un fichier PDF valide" in html
    assert "choisissez-les de nouveau" in html.lower()
    assert 'value="Réhabilitation du pont de la Creuse"' in html
    assert not mine(cast).exists() and not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("estimated_budget", "beaucoup", "Indiquez un montant en euros, en chiffres."),
        ("estimated_budget", "-5", "Indiquez un montant en euros, en chiffres."),
        ("estimated_budget", "9" * 20, "Ce montant est invraisemblable."),
        ("desired_start", "31/02/2027", "Saisissez une date valide"),
        ("desired_start", "1800-01-01", "Saisissez une date entre 2000 et 2100."),
        ("title", "x" * 201, "Assurez-vous que cette valeur comporte au plus 200 caractères"),
        ("engineering_kind", "magie", "Sélectionnez un choix valide"),
        ("intervention_form", "autre", "Sélectionnez un choix valide"),
        ("domains", "999999", "Sélectionnez un choix valide"),
        ("title", "nul\x00", "Le caractère nul n’est pas autorisé."),
    ],
)
def test_each_field_is_checked_on_the_server_in_french(
    official_client, cast, domain, field, value, message
):
    response = official_client.post(CREATE, complete(cast, domain, **{field: value}))
    html = response.content.decode()
    assert response.status_code == 200
    assert message.replace("'", "&#x27;") in html
    assert f'href="#id_{field}' in html  # linked from the error summary
    assert not mine(cast).exists()


def test_a_past_start_date_is_refused_at_submission(official_client, cast, domain):
    response = official_client.post(CREATE, complete(cast, domain, desired_start="2020-01-01"))
    assert "La date de démarrage souhaitée ne peut pas être passée." in response.content.decode()
    assert mine(cast).get().state == RequestState.DRAFT


def test_a_collectivity_that_is_not_mine_is_refused(official_client, cast, domain):
    other = cast.other_official.collectivity_memberships.get().collectivity
    response = official_client.post(CREATE, complete(cast, domain, collectivity=other.pk))
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not EngineeringRequest.objects.exists()


def test_html_typed_anywhere_is_shown_escaped(official_client, cast, domain):
    evil = '<script>alert("pirate")</script><img src=x onerror=alert(1)>'
    official_client.post(CREATE, complete(cast, domain, title=evil, description=evil))
    request = mine(cast).get()
    for url in (request.get_absolute_url(), reverse("engineering_requests:list")):
        html = official_client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;pirate&quot;)&lt;/script&gt;" in html


def test_a_double_click_on_submit_creates_one_request(official_client, cast, domain):
    data = complete(cast, domain)
    first = official_client.post(CREATE, data)
    second = official_client.post(CREATE, data)
    request = mine(cast).get()
    assert request.state == RequestState.SUBMITTED
    assert (
        first.url
        == second.url
        == reverse("engineering_requests:confirmation", kwargs={"pk": request.pk})
    )


def test_the_same_form_sent_twice_as_a_draft_updates_the_one_draft(official_client, cast, domain):
    data = complete(cast, domain, action="save")
    official_client.post(CREATE, data)
    data["title"] = "Titre corrigé"
    official_client.post(CREATE, data)
    assert mine(cast).get().title == "Titre corrigé"


def test_a_form_without_its_token_is_refused_with_a_message(official_client, cast, domain):
    response = official_client.post(CREATE, complete(cast, domain, form_token=None))
    assert "Ce formulaire a expiré" in response.content.decode()
    assert not mine(cast).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["submit", "save"])
def test_two_simultaneous_submissions_of_one_form_create_one_request(cast, domain, action):
    # The token is claimed last (no file): both POSTs do the work, the second waits on the
    # token for the first transaction, then rolls back everything it wrote.
    data = complete(cast, domain, action=action)
    barrier = threading.Barrier(2)
    statuses = []

    def post():
        client = Client()
        client.force_login(cast.official)
        barrier.wait()
        try:
            statuses.append(client.post(CREATE, data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [302, 302]
    assert mine(cast).count() == 1
    request = mine(cast).get()
    if action == "save":
        assert request.state == RequestState.DRAFT
        return
    assert request.state == RequestState.SUBMITTED
    assert TransitionLog.objects.filter(engineering_request=request).count() == 1
    assert (
        Notification.objects.count()
        == Notification.objects.filter(engineering_request=request).count()
    )
    # The second one's reference number was rolled back with it: the next one follows.
    year = timezone.localdate().year
    assert request.reference == f"ING-{year}-000001"
    client = Client()
    client.force_login(cast.official)
    assert client.post(CREATE, complete(cast, domain)).status_code == 302
    assert mine(cast).order_by("-pk").first().reference == f"ING-{year}-000002"


def test_an_expired_session_on_submit_comes_back_to_the_form_without_losing_the_draft(
    official_client, cast, domain
):
    official_client.get(CREATE)
    Session.objects.all().delete()  # the session expired while the official was typing
    data = complete(cast, domain, title="Saisi avant l'expiration")
    data["attachments"] = [pdf_upload()]
    response = official_client.post(CREATE, data)
    login = reverse("accounts:login")
    assert response.url == f"{login}?next={CREATE}"
    assert not mine(cast).exists()
    page = official_client.post(
        response.url,
        {"username": cast.official.email, "password": DEFAULT_PASSWORD, "next": CREATE},
        follow=True,
    )
    draft = mine(cast).get()
    assert draft.state == RequestState.DRAFT  # kept as a draft, never submitted unseen
    assert draft.title == "Saisi avant l'expiration"
    assert [url for url, _ in page.redirect_chain] == [CREATE, edit_url(draft.pk)]
    html = page.content.decode()
    assert "Votre session avait expiré" in html
    assert "choisissez-les de nouveau" in html.lower()  # files cannot be kept
    assert "Saisi avant l&#x27;expiration" in html


def test_another_collectivitys_draft_is_a_404(official_client, cast, domain):
    other = EngineeringRequestFactory()
    assert official_client.get(edit_url(other.pk)).status_code == 404
    assert official_client.post(edit_url(other.pk), complete(cast, domain)).status_code == 404


def test_a_submission_runs_the_same_queries_however_many_requests_exist(
    official_client, cast, domain
):
    from django.test.utils import CaptureQueriesContext

    def submit_one():
        with CaptureQueriesContext(connection) as queries:
            response = official_client.post(CREATE, complete(cast, domain))
        assert response.status_code == 302
        return len(queries)

    first = submit_one()
    EngineeringRequestFactory.create_batch(60, collectivity=cast.collectivity, submitted=True)
    assert submit_one() == first


# Session, user, roles; the collectivités and domains of the form; the delegates; BEGIN; the
# request's and log row's ids with the reference; every row (request, domains, log, outbox,
# token) in one statement; COMMIT.
SUBMISSION_QUERIES = 10


def test_a_submission_takes_a_fixed_number_of_queries_whatever_the_number_of_recipients(
    official_client, cast, domain, django_assert_max_num_queries
):
    from tests.accounts.factories import DelegateFactory, OfficialFactory

    with django_assert_max_num_queries(SUBMISSION_QUERIES):
        response = official_client.post(CREATE, complete(cast, domain))
    assert response.status_code == 302

    more_domains = [PriorityDomainFactory() for _ in range(3)]
    DelegateFactory.create_batch(8, departements=[cast.collectivity.departement])
    OfficialFactory.create_batch(5, collectivities=[cast.collectivity])
    data = complete(cast, domain, domains=[domain.pk, *(d.pk for d in more_domains)])
    with django_assert_max_num_queries(SUBMISSION_QUERIES):
        response = official_client.post(CREATE, data)
    assert response.status_code == 302
    request = mine(cast).order_by("-pk").first()
    assert request.state == RequestState.SUBMITTED and request.domains.count() == 4
    # Nine delegates now, each told by e-mail and in the portal.
    assert request.notifications.count() == 18


def test_a_submission_checks_its_domains_against_the_catalogue_ids_alone(official_client, cast):
    from django.test.utils import CaptureQueriesContext

    domains = [PriorityDomainFactory() for _ in range(3)]
    data = complete(cast, domains[0], domains=[domains[1].pk, domains[2].pk])
    with CaptureQueriesContext(connection) as queries:
        assert official_client.post(CREATE, data).status_code == 302
    [catalogue] = [q["sql"] for q in queries if 'FROM "programmes_prioritydomain"' in q["sql"]]
    assert catalogue.startswith('SELECT "programmes_prioritydomain"."id" AS "pk" FROM')
    request = mine(cast).get()
    assert set(request.domains.all()) == {domains[1], domains[2]}


def test_a_submission_with_a_programme_reads_no_programme_twice(
    official_client, cast, domain, django_assert_max_num_queries
):
    programme = ProgrammeFactory()
    data = complete(
        cast, domain, intervention_form=InterventionForm.PROGRAMME, programme=programme.pk
    )
    # One more than without: the active programmes the choice is checked against.
    with django_assert_max_num_queries(SUBMISSION_QUERIES + 1):
        response = official_client.post(CREATE, data)
    assert response.status_code == 302
    request = mine(cast).get()
    assert request.state == RequestState.SUBMITTED and request.programme == programme


def contract_row(**fields):
    fields = {"code": "crte-creuse", "name": "CRTE de la Creuse", **fields}
    return Contract.objects.create(kind=ContractKind.COHESION_CONTRACT, **fields)


def test_a_programme_or_contract_that_is_not_active_is_refused(official_client, cast, domain):
    closed = ProgrammeFactory(status=ProgrammeStatus.CLOSED)
    for data in (
        complete(cast, domain, intervention_form=InterventionForm.PROGRAMME, programme=closed.pk),
        complete(cast, domain, intervention_form=InterventionForm.PROGRAMME, programme="x1"),
        complete(
            cast,
            domain,
            intervention_form=InterventionForm.CONTRACT,
            contract=contract_row(status=ProgrammeStatus.CLOSED).pk,
        ),
    ):
        response = official_client.post(CREATE, data)
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in response.content.decode()
    assert not mine(cast).exists()


def test_a_contract_is_checked_against_the_active_ones_and_stored(official_client, cast, domain):
    contract = contract_row()
    data = complete(cast, domain, intervention_form=InterventionForm.CONTRACT, contract=contract.pk)
    assert official_client.post(CREATE, data).status_code == 302
    request = mine(cast).get()
    assert request.state == RequestState.SUBMITTED and request.contract == contract


def test_a_wrong_field_on_submit_saves_nothing_and_says_why(official_client, cast, domain):
    response = official_client.post(CREATE, complete(cast, domain, estimated_budget="-5"))
    assert response.status_code == 200
    assert "Indiquez un montant en euros" in response.content.decode()
    assert not mine(cast).exists()


def test_request_forms_share_no_choices_they_set(cast):
    from engineering_requests.forms import RequestForm

    first = RequestForm(user=cast.official, collectivities=[cast.collectivity])
    second = RequestForm(user=cast.official, collectivities=[])
    assert [pk for pk, _label in first.fields["collectivity"].choices] == [cast.collectivity.pk]
    assert list(second.fields["collectivity"].choices) == []
    assert list(RequestForm.base_fields["collectivity"].choices) == []
    kinds = RequestForm.base_fields["engineering_kind"].choices
    assert first.fields["engineering_kind"].choices == kinds and len(kinds) > 1
