"""Hostile files through the real forms (portal message, complement, request form, admin
message): refused with a clear French message, nothing stored — or, for a name with path
separators, stored under a random name with a harmless name shown."""

import html
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from anct_portal.services import new_form_token
from engineering_requests.enums import RequestState
from engineering_requests.models import Attachment, RequestMessage
from tests.engineering_requests.factories import PDF_BYTES, Cast

pytestmark = pytest.mark.django_db


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (20 * 1024 * 1024))
    return buffer.getvalue()


HOSTILE = {
    "executable renamed .pdf": (
        "devis.pdf",
        b"MZ\x90\x00\x03" + b"\x00" * 200,
        "ne correspond pas à un fichier PDF valide",
    ),
    "svg with a script": (
        "plan.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b"<script>alert(2)</script></svg>",
        "n'est pas accepté",
    ),
    "svg renamed .png": (
        "plan.png",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(2)</script></svg>',
        "ne correspond pas à un fichier PNG valide",
    ),
    "html renamed .txt": (
        "notes.txt",
        b"<html><script>document.location='//evil.example'</script></html>",
        "ne correspond pas à un fichier TXT valide",
    ),
    "zip bomb": ("archives.zip", _zip_bomb(), "une fois décompressée, elle serait démesurée"),
    "empty file": ("vide.pdf", b"", "est vide"),
    "right-to-left override": ("\u202efdp.exe", b"MZ\x90\x00", "n'est pas accepté"),
    "over the size limit": ("gros.pdf", PDF_BYTES + b"%" * 3000, "dépasse la taille maximale"),
}


@pytest.fixture
def cast(db):
    return Cast.create()


def _stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _forms(cast):
    """(client, url, data without the file, file field name, expected page status)."""
    in_review = cast.request_in(RequestState.IN_REVIEW)
    info = cast.request_in(RequestState.INFO_REQUESTED)
    official, delegate = Client(), Client()
    official.force_login(cast.official)
    delegate.force_login(cast.delegate)
    return {
        "portal message": (
            official,
            reverse("engineering_requests:message", args=[in_review.pk]),
            {"body": "Voici le devis.", "form_token": new_form_token()},
            "files",
        ),
        "complement": (
            official,
            reverse("engineering_requests:provide_info", args=[info.pk]),
            {"message": "Le devis.", "form_token": new_form_token(), "seen_state": info.state},
            "files",
        ),
        "request form": (
            official,
            reverse("engineering_requests:create"),
            {
                "collectivity": cast.collectivity.pk,
                "title": "Pont",
                "action": "save",
                "form_token": new_form_token(),
            },
            "attachments",
        ),
        "admin message": (
            delegate,
            reverse("admin:engineering_requests_engineeringrequest_message", args=[in_review.pk]),
            {"body": "Pièce pour la collectivité."},
            "file",
        ),
    }


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_files_are_refused_with_a_clear_message(cast, settings, case):
    name, content, message = HOSTILE[case]
    if case == "over the size limit":
        settings.ATTACHMENT_MAX_BYTES = 2048
    for form_name, (client, url, data, field_name) in _forms(cast).items():
        attachments, messages = Attachment.objects.count(), RequestMessage.objects.count()
        data = {**data, "form_token": new_form_token()} if "form_token" in data else data
        upload = SimpleUploadedFile(name, content, content_type="application/pdf")
        response = client.post(url, {**data, field_name: upload})
        assert response.status_code == 200, (form_name, response.status_code)
        page = html.unescape(response.content.decode())
        assert message in page, (form_name, case)
        assert Attachment.objects.count() == attachments, form_name
        assert RequestMessage.objects.count() == messages, form_name
        assert _stored_files(settings) == [], form_name


def test_a_name_with_path_separators_is_stored_under_a_random_name(cast, settings):
    request = cast.request_in(RequestState.IN_REVIEW)
    client = Client()
    client.force_login(cast.official)
    url = reverse("engineering_requests:message", args=[request.pk])
    for hostile_name, shown in (
        ("../../../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\devis.pdf", "devis.pdf"),
        ('"><img src=x onerror=alert(1)>.pdf', None),
    ):
        upload = SimpleUploadedFile(hostile_name, PDF_BYTES, content_type="application/pdf")
        response = client.post(
            url, {"body": "Le devis.", "form_token": new_form_token(), "files": upload}
        )
        assert response.status_code == 302
        attachment = Attachment.objects.latest("pk")
        # Stored under a random name in the private folder, whatever the name said.
        stored = Path(settings.MEDIA_ROOT) / attachment.file.name
        assert stored.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
        assert attachment.file.name.startswith("attachments/")
        assert Path(attachment.file.name).stem not in hostile_name
        assert "/" not in attachment.original_name and "\\" not in attachment.original_name
        if shown is not None:
            assert attachment.original_name == shown
        page = client.get(request.get_absolute_url()).content.decode()
        assert "<img src=x onerror" not in page
        download = client.get(
            reverse("engineering_requests:attachment", args=[request.pk, attachment.pk])
        )
        disposition = download["Content-Disposition"]
        assert disposition.startswith("attachment;") and "/" not in disposition.split(";", 1)[1]
