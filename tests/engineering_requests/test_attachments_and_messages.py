import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from engineering_requests import selectors, services
from engineering_requests.enums import MessageKind
from engineering_requests.enums import RequestState as S
from engineering_requests.models import Attachment, RequestMessage

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(name, content, content_type="application/octet-stream"):
    if "/" in name:
        # Django's own uploads strip directories from names; a raw file object does not.
        raw = io.BytesIO(content)
        raw.name, raw.size = name, len(content)
        return raw
    return SimpleUploadedFile(name, content, content_type=content_type)


def docx_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def zip_bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\x00" * (50 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("etude.pdf", PDF),
        ("plan.png", PNG),
        ("note.docx", docx_bytes()),
        ("budget.csv", "poste;montant\nétude;12000\n".encode()),
    ],
)
def test_accepted_files_are_stored_under_a_random_name(cast, name, content):
    request = cast.request_in(S.INFO_REQUESTED)
    services.provide_info(
        engineering_request=request,
        user=cast.official,
        message="Ci-joint.",
        files=[upload(name, content)],
    )
    attachment = Attachment.objects.get(engineering_request=request)
    assert attachment.original_name == name
    assert name not in attachment.file.name
    assert attachment.file.name.startswith("attachments/")
    assert attachment.size == len(content)
    assert attachment.message.body == "Ci-joint."


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("rapport.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100, "ne correspond pas"),
        ("vide.pdf", b"", "est vide"),
        ("dessin.svg", b"<svg><script>alert(1)</script></svg>", "n'est pas accepté"),
        ("note.txt", b"<script>alert(1)</script>", "ne correspond pas"),
        ("programme.exe", b"MZ" + b"\x00" * 10, "n'est pas accepté"),
        ("bombe.zip", zip_bomb(), "démesurée"),
        ("../../etc/passwd.pdf", PDF, "caractères interdits"),
    ],
)
def test_refused_files_change_nothing(cast, name, content, expected):
    request = cast.request_in(S.INFO_REQUESTED)
    with pytest.raises(ValidationError) as excinfo:
        services.provide_info(
            engineering_request=request,
            user=cast.official,
            message="Voici",
            files=[upload(name, content)],
        )
    assert expected in " ".join(excinfo.value.message_dict["files"])
    request.refresh_from_db()
    assert request.state == S.INFO_REQUESTED
    assert not Attachment.objects.exists()
    assert not RequestMessage.objects.filter(author=cast.official).exists()


def test_oversized_file_is_refused(cast, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    request = cast.request_in(S.INFO_REQUESTED)
    with pytest.raises(ValidationError) as excinfo:
        services.provide_info(
            engineering_request=request,
            user=cast.official,
            message="",
            files=[upload("gros.pdf", PDF + b"0" * 2048)],
        )
    assert "taille maximale" in excinfo.value.message_dict["files"][0]


def test_internal_notes_are_hidden_from_officials(cast):
    request = cast.request_in(S.IN_REVIEW)
    services.post_message(
        engineering_request=request,
        user=cast.delegate,
        body="Commune déjà aidée en 2024.",
        internal=True,
    )
    services.post_message(
        engineering_request=request, user=cast.delegate, body="Bonjour, nous étudions."
    )
    official_view = [m.body for m in selectors.messages_for(request, cast.official)]
    staff_view = [m.body for m in selectors.messages_for(request, cast.national)]
    assert "Commune déjà aidée en 2024." not in official_view
    assert "Bonjour, nous étudions." in official_view
    assert "Commune déjà aidée en 2024." in staff_view


def test_officials_cannot_write_internal_notes_nor_outsiders_messages(cast):
    request = cast.request_in(S.IN_REVIEW)
    with pytest.raises(PermissionDenied):
        services.post_message(
            engineering_request=request, user=cast.official, body="x", internal=True
        )
    with pytest.raises(PermissionDenied):
        services.post_message(engineering_request=request, user=cast.other_delegate, body="x")
    with pytest.raises(PermissionDenied):
        services.post_message(engineering_request=request, user=cast.other_official, body="x")


def test_local_contact_posts_progress_notes_on_their_requests_only(cast):
    request = cast.request_in(S.LOCAL_SUPPORT)
    note = services.post_progress_note(
        engineering_request=request, user=cast.contact, body="Visite du pont le 3 mars."
    )
    assert note.kind == MessageKind.PROGRESS_NOTE
    assert request in selectors.visible_to(cast.contact)
    other = cast.request_in(S.IN_REVIEW)
    with pytest.raises(PermissionDenied):
        services.post_progress_note(engineering_request=other, user=cast.contact, body="x")


def test_visible_to_scopes_each_role(cast):
    draft = cast.request_in(S.DRAFT)
    submitted = cast.request_in(S.SUBMITTED)
    local = cast.request_in(S.LOCAL_SUPPORT)

    def visible(user):
        return set(selectors.visible_to(user).values_list("pk", flat=True))

    assert visible(cast.official) == {draft.pk, submitted.pk, local.pk}
    assert visible(cast.colleague) == {draft.pk, submitted.pk, local.pk}
    assert visible(cast.delegate) == {submitted.pk, local.pk}
    assert visible(cast.national) == {submitted.pk, local.pk}
    assert visible(cast.contact) == {local.pk}
    assert visible(cast.other_official) == set()
    assert visible(cast.other_delegate) == set()
    assert visible(cast.nobody) == set()


def test_update_draft_only_while_draft(cast):
    request = cast.draft()
    updated = services.update_draft(
        engineering_request=request, user=cast.official, title="Nouveau titre"
    )
    assert updated.title == "Nouveau titre"
    with pytest.raises(PermissionDenied):
        services.update_draft(engineering_request=updated, user=cast.other_official, title="x")
    submitted = services.submit_request(engineering_request=updated, user=cast.official)
    from django_fsm import TransitionNotAllowed

    with pytest.raises(TransitionNotAllowed):
        services.update_draft(engineering_request=submitted, user=cast.official, title="x")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"need": ""}, "need"),
        ({"domains": []}, "domains"),
        ({"intervention_form": "programme"}, "programme"),
        ({"intervention_form": "contract"}, "contract"),
        ({"engineering_kind": ""}, "engineering_kind"),
    ],
)
def test_submit_validates_every_required_field(cast, fields, field):
    request = cast.draft(**fields)
    with pytest.raises(ValidationError) as excinfo:
        services.submit_request(engineering_request=request, user=cast.official)
    assert field in excinfo.value.message_dict
    request.refresh_from_db()
    assert request.state == S.DRAFT and request.reference is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"estimated_budget": "-1"}, "estimated_budget"),
        ({"estimated_budget": "abc"}, "estimated_budget"),
        ({"estimated_budget": "1e30"}, "estimated_budget"),
        ({"engineering_kind": "magie"}, "engineering_kind"),
        ({"title": "x" * 201}, "title"),
        ({"domains": [999999]}, "domains"),
        ({"desired_start": "demain"}, "desired_start"),
    ],
)
def test_draft_fields_are_validated(cast, fields, field):
    with pytest.raises(ValidationError) as excinfo:
        cast.draft(**fields)
    assert field in excinfo.value.message_dict


def test_an_official_drafts_only_for_their_collectivites(cast):
    with pytest.raises(PermissionDenied):
        services.create_draft(user=cast.other_official, collectivity=cast.collectivity, title="x")


def test_create_draft_accepts_the_commune_itself(cast):
    request = services.create_draft(
        user=cast.official, collectivity=cast.collectivity.commune, title="Depuis la commune"
    )
    assert request.collectivity == cast.collectivity
    assert request.departement == cast.collectivity.departement
