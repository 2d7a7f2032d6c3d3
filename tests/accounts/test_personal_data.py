"""Personal data: export of an account, and its deletion (anonymisation) without breaking the
audit trail of the requests the person worked on."""

import datetime
import json

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import CollectivityMembership, DelegateAssignment, User
from engineering_requests import services as workflow
from engineering_requests.enums import RequestState as S
from engineering_requests.models import Attachment, RequestMessage, TransitionLog
from notifications.models import Notification
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.engineering_requests.factories import Cast, pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return Cast.create()


@pytest.fixture
def support(db):
    return UserFactory(superuser=True)


def worked_on(cast):
    """A request the official submitted, with a message and a document of theirs, answered
    after a request for information, then resolved locally and completed."""
    request = cast.request_in(S.INFO_REQUESTED, title="Pont de la rue Vieille")
    workflow.provide_info(
        engineering_request=request,
        user=cast.official,
        message="Le budget est de 250 000 €, signé Jeanne.",
        files=[pdf_upload("budget.pdf")],
    )
    request = cast.resolve(request.__class__.objects.get(pk=request.pk))
    workflow.post_message(engineering_request=request, user=cast.official, body="Merci !")
    return workflow.complete_request(
        engineering_request=request, user=cast.delegate, outcome="Diagnostic rendu."
    )


def signs_in(client, email) -> bool:
    """Through the sign-in form, as a person would (and as django-axes counts)."""
    response = client.post(
        reverse("accounts:login"), {"username": email, "password": DEFAULT_PASSWORD}
    )
    return response.status_code == 302


def audit_trail(request):
    return list(
        TransitionLog.objects.filter(engineering_request=request)
        .order_by("pk")
        .values_list("pk", "transition", "source_state", "target_state", "actor_id", "comment")
    )


# Export ------------------------------------------------------------------------------------


def test_the_export_holds_what_the_portal_knows_about_the_person(cast):
    cast.official.phone = "05 55 12 34 56"
    cast.official.save()
    request = worked_on(cast)
    colleague_note = workflow.post_message(
        engineering_request=request, user=cast.colleague, body="Note de ma collègue."
    )

    data = services.export_personal_data(user=cast.official)

    json.dumps(data)  # serialisable as is
    assert data["account"]["email"] == cast.official.email
    assert data["account"]["phone"] == "05 55 12 34 56"
    assert [m["code"] for m in data["collectivity_memberships"]] == [cast.collectivity.code]
    assert "Pont de la rue Vieille" in [r["title"] for r in data["requests_submitted"]]
    bodies = [m["body"] for m in data["messages"]]
    assert "Le budget est de 250 000 €, signé Jeanne." in bodies and "Merci !" in bodies
    assert colleague_note.body not in bodies
    assert [a["name"] for a in data["attachments"]] == ["budget.pdf"]
    assert {t["transition"] for t in data["transitions"]} >= {"submit", "provide_info"}
    events = {n["event"] for n in data["notifications"]}
    assert {"info_requested", "resolved_locally", "completed"} <= events


def test_the_export_of_a_delegate_lists_their_departements_and_requests(cast):
    request = worked_on(cast)

    data = services.export_personal_data(user=cast.delegate)

    assert [a["departement"] for a in data["delegate_assignments"]] == [
        cast.collectivity.departement.code
    ]
    assert request.reference in [r["reference"] for r in data["requests_assigned"]]
    assert {"start_review", "resolve_locally", "complete"} <= {
        t["transition"] for t in data["transitions"]
    }


def test_the_export_command_writes_json(cast, tmp_path):
    worked_on(cast)
    target = tmp_path / "export.json"

    call_command("export_personal_data", cast.official.email.upper(), output=str(target))

    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["account"]["email"] == cast.official.email
    with pytest.raises(CommandError):
        call_command("export_personal_data", "personne@example.fr")


# Deletion ----------------------------------------------------------------------------------


def test_deleting_an_account_anonymises_it_and_keeps_the_audit_trail(cast, support):
    request = worked_on(cast)
    trail = audit_trail(request)
    messages = RequestMessage.objects.filter(author=cast.official).count()
    documents = Attachment.objects.filter(uploaded_by=cast.official).count()
    old_email, old_name = cast.official.email, cast.official.last_name

    result = services.delete_account(user=cast.official, by=support)

    user = User.objects.get(pk=cast.official.pk)
    assert user.email == f"compte-supprime-{user.pk}@anonyme.invalid"
    assert (user.first_name, user.last_name, user.job_title, user.phone) == ("", "", "", "")
    assert not user.has_usable_password() and not user.is_active and user.deleted_at
    assert str(user) == "Compte supprimé"
    assert not CollectivityMembership.objects.filter(user=user).exists()
    assert result.removed["collectivity_memberships"] == 1
    # The audit trail is intact: same rows, same actors, same texts.
    assert audit_trail(request) == trail
    assert RequestMessage.objects.filter(author=user).count() == messages
    assert Attachment.objects.filter(uploaded_by=user).count() == documents
    request.refresh_from_db()
    assert request.submitted_by_id == user.pk and request.state == S.COMPLETED
    # Nothing addressed to them is kept, nor any trace of the old address.
    assert not Notification.objects.filter(recipient=user).exists()
    assert not Notification.objects.filter(email__iexact=old_email).exists()
    assert not User.objects.filter(email=old_email).exists()
    assert not signs_in(Client(), old_email)
    # Who did it is in the admin history.
    entry = LogEntry.objects.get(object_id=str(user.pk), user=support)
    assert entry.object_repr == "Compte supprimé"
    assert old_name not in entry.object_repr


def test_the_request_page_reads_compte_supprime_where_the_person_was(cast, support):
    request = worked_on(cast)
    old_name = cast.official.get_full_name()
    services.delete_account(user=cast.official, by=support)

    # The colleague still follows the request of their collectivité.
    client = Client()
    client.force_login(cast.colleague)
    html = client.get(request.get_absolute_url()).content.decode()
    assert html.count("Compte supprimé") >= 3  # submitter, timeline, messages
    assert old_name not in html and cast.official.email not in html
    assert "Le budget est de 250 000 €" in html  # what they wrote stays in the file

    staff = Client()
    staff.force_login(cast.delegate)
    page = staff.get(reverse("admin:engineering_requests_engineeringrequest_change",
                             args=[request.pk]))  # fmt: skip
    assert page.status_code == 200
    assert "Compte supprimé" in page.content.decode()
    assert old_name not in page.content.decode()


def test_a_deleted_account_is_signed_out_and_cannot_sign_in_again(cast, support):
    client = Client()
    assert signs_in(client, cast.official.email)
    assert client.get(reverse("engineering_requests:list")).status_code == 200

    client.post(reverse("accounts:login"), {"username": cast.official.email, "password": "x"})

    result = services.delete_account(user=cast.official, by=support)

    assert result.removed["sessions"] == 1
    assert result.removed["login_attempts"] >= 1  # django-axes' record of the failed attempt
    response = client.get(reverse("engineering_requests:list"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert not signs_in(Client(), cast.official.email)


def test_a_deleted_delegate_loses_the_back_office_and_their_departements(cast, support):
    worked_on(cast)

    services.delete_account(user=cast.delegate, by=support)

    user = User.objects.get(pk=cast.delegate.pk)
    assert not user.is_staff and not DelegateAssignment.objects.filter(user=user).exists()
    assert TransitionLog.objects.filter(actor=user).count() >= 4


def test_only_support_staff_delete_accounts_and_twice_changes_nothing(cast, support):
    with pytest.raises(PermissionDenied):
        services.delete_account(user=cast.official, by=cast.delegate)
    assert User.objects.get(pk=cast.official.pk).is_active

    first = services.delete_account(user=cast.official, by=support)
    again = services.delete_account(user=first.user, by=support)

    assert again.user.email == first.user.email and again.removed == {}
    assert LogEntry.objects.filter(object_id=str(cast.official.pk)).count() == 1


def test_the_delete_command_asks_for_yes(cast):
    email = cast.official.email
    call_command("delete_account", email)
    assert User.objects.get(pk=cast.official.pk).email == email

    call_command("delete_account", email, yes=True)

    assert User.objects.get(pk=cast.official.pk).is_deleted
    with pytest.raises(CommandError):
        call_command("delete_account", email, yes=True)


# Notifications after a deletion -------------------------------------------------------------


def recipients(event):
    return sorted(
        Notification.objects.filter(event=event, channel="email").values_list("email", flat=True)
    )


def test_answers_to_a_deleted_submitter_reach_the_other_members(cast, support):
    request = cast.request_in(S.IN_REVIEW)
    services.delete_account(user=cast.official, by=support)

    workflow.decline_request(
        engineering_request=request, user=cast.delegate, reason="Hors du champ de l'ANCT."
    )

    assert recipients("declined") == [cast.colleague.email]


def test_news_for_a_deleted_delegate_in_charge_go_to_the_departements_delegates(cast, support):
    request = cast.request_in(S.INFO_REQUESTED)
    colleague = UserFactory(email="delegue-bis@example.fr")
    DelegateAssignment.objects.create(user=colleague, departement=cast.collectivity.departement)
    services.delete_account(user=cast.delegate, by=support)

    workflow.provide_info(engineering_request=request, user=cast.official, message="Voici.")

    assert recipients("info_provided") == [colleague.email]


def test_reminders_skip_a_deleted_delegate_in_charge(cast, support):
    from notifications import periodic

    # Back in review after the official's answer, the delegate in charge is expected to act.
    answered = cast.request_in(S.INFO_REQUESTED)
    workflow.provide_info(engineering_request=answered, user=cast.official, message="Voici.")
    colleague = UserFactory(email="delegue-bis@example.fr")
    DelegateAssignment.objects.create(user=colleague, departement=cast.collectivity.departement)
    services.delete_account(user=cast.delegate, by=support)

    periodic.send_reminders(now=timezone.now() + datetime.timedelta(days=30))

    assert recipients("reminder_delegate") == [colleague.email]
