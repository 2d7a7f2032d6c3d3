"""IDOR probes (ids and query parameters crafted to reach someone else's data) and CSRF on
every POST endpoint of the URL conf."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from engineering_requests import services
from engineering_requests.enums import RequestState
from notifications.models import Notification
from tests.anct_portal.matrix import ROLES, build_world, enumerate_urls, url_for
from tests.engineering_requests.factories import Cast, pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return build_world()


def _as(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _other_side(world):
    """A request of official B's collectivité (the other département), in review."""
    other = Cast.create()
    other.official = world.cast.other_official
    other.collectivity = world.cast.other_official.collectivity_memberships.get().collectivity
    other.delegate = world.cast.other_delegate
    request = other.request_in(RequestState.IN_REVIEW)
    attachment = services.add_attachment(
        engineering_request=request, user=other.official, file=pdf_upload("autre.pdf")
    )
    return request, attachment


def test_an_attachment_is_only_served_under_its_own_request(world):
    own_request, _own_attachment = _other_side(world)
    a_attachment = world.attachment
    # Official B puts A's attachment id under their own request.
    client = _as(world.cast.other_official)
    url = reverse("engineering_requests:attachment", args=[own_request.pk, a_attachment.pk])
    assert client.get(url).status_code == 404
    # Delegate B does the same in the admin.
    client = _as(world.cast.other_delegate)
    url = reverse(
        "admin:engineering_requests_engineeringrequest_attachment",
        args=[own_request.pk, a_attachment.pk],
    )
    assert client.get(url).status_code == 404


def test_internal_documents_never_reach_officials_nor_the_local_contact(world):
    cast, request = world.cast, world.local_support
    note = services.post_message(
        engineering_request=request,
        user=cast.delegate,
        body="Note interne sur le dossier.",
        internal=True,
        files=[pdf_upload("analyse-interne.pdf")],
    )
    internal = note.attachments.get()
    url = reverse("engineering_requests:attachment", args=[request.pk, internal.pk])
    for user in (cast.official, cast.contact):
        client = _as(user)
        assert client.get(url).status_code == 404
        page = client.get(request.get_absolute_url()).content.decode()
        assert "analyse-interne.pdf" not in page and "Note interne sur le dossier" not in page
    assert (
        _as(cast.delegate)
        .get(
            reverse(
                "admin:engineering_requests_engineeringrequest_attachment",
                args=[request.pk, internal.pk],
            )
        )
        .status_code
        == 200
    )


def test_someone_elses_notification_cannot_be_opened_nor_marked_read(world):
    notification = world.notification
    for user in (world.cast.other_official, world.cast.delegate, world.cast.contact):
        client = _as(user)
        for name in ("notifications:open", "notifications:mark_read"):
            assert client.post(reverse(name, args=[notification.pk])).status_code == 404
        assert client.post(reverse("notifications:mark_all_read")).status_code == 302
        inbox = client.get(reverse("notifications:inbox"))
        assert notification.pk not in {n.pk for n in inbox.context["notifications"]}
    notification.refresh_from_db()
    assert notification.read_at is None


def test_exports_never_contain_requests_out_of_scope(world):
    a_reference = world.escalated.reference
    b_request, _ = _other_side(world)
    client = _as(world.cast.other_delegate)
    departement_a = world.escalated.departement_id
    export = reverse("admin:engineering_requests_engineeringrequest_export", args=["csv"])
    for query in ("", f"?departement={departement_a}", f"?q={a_reference}"):
        response = client.get(export + query)
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert a_reference not in body, query
        if not query:
            assert b_request.reference in body  # the control: their own request is there
    # The bulk action with A's id slipped into the selection.
    response = client.post(
        reverse("admin:engineering_requests_engineeringrequest_changelist"),
        {"action": "export_csv", "_selected_action": [world.escalated.pk, b_request.pk]},
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert a_reference not in body and b_request.reference in body
    # And the XLSX export of the list: no A reference in the workbook's strings.
    xlsx = client.get(
        reverse("admin:engineering_requests_engineeringrequest_export", args=["xlsx"])
    )
    content = b"".join(xlsx.streaming_content) if xlsx.streaming else xlsx.content
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        text = " ".join(
            workbook.read(name).decode("utf-8", "replace") for name in workbook.namelist()
        )
    assert a_reference not in text


def test_admin_search_never_finds_requests_out_of_scope(world):
    client = _as(world.cast.other_delegate)
    changelist = reverse("admin:engineering_requests_engineeringrequest_changelist")
    for term in (world.escalated.reference, world.cast.collectivity.code, world.escalated.title):
        response = client.get(changelist, {"q": term})
        assert list(response.context_data["cl"].result_list) == [], term


def test_the_comite_report_of_another_departement_is_refused(world):
    client = _as(world.cast.other_delegate)
    today = timezone.localdate()
    url = reverse("admin:engineering_requests_engineeringrequest_comite_report")
    params = {
        "departement": world.local_support.departement_id,
        "start": (today - datetime.timedelta(days=30)).isoformat(),
        "end": today.isoformat(),
    }
    for fmt in ("html", "csv", "pdf"):
        response = client.get(url, {**params, "format": fmt})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html"), fmt
        page = response.content.decode()
        assert world.local_support.reference not in page
        assert "Claire Martin" not in page  # the interlocuteur unique of département A
    # The control: delegate A gets it.
    response = _as(world.cast.delegate).get(url, {**params, "format": "csv"})
    assert world.local_support.reference in response.content.decode("utf-8-sig")


def test_dashboard_filters_cannot_widen_a_delegates_scope(world):
    client = _as(world.cast.other_delegate)
    url = reverse("dashboard:kpi")
    baseline = client.get(url).context["headline"]
    departement_a = world.local_support.departement
    for query in (
        {"departement": departement_a.code},
        {"region": departement_a.region.code},
        {"departement": departement_a.code, "tri": "taux", "ordre": "desc"},
    ):
        response = client.get(url, query)
        assert response.status_code == 200
        assert response.context["headline"] == baseline, query
        rows = response.context["departement_rows"]
        assert departement_a.code not in {row["code"] for row in rows}, query


def test_the_public_statistics_hold_no_request_detail(world):
    for url in (reverse("dashboard:public"), reverse("dashboard:public_csv")):
        body = _as(None).get(url).content.decode("utf-8-sig")
        for request in (world.local_support, world.escalated):
            assert request.reference not in body and request.title not in body
        assert "Claire Martin" not in body and world.cast.official.email not in body


# CSRF ------------------------------------------------------------------------------------------


def test_every_post_without_a_csrf_token_is_refused(world):
    """Every URL, every role: a POST without the token is a 403, before any view runs."""
    users = world.users()
    clients = {}
    for role in ROLES:
        client = Client(enforce_csrf_checks=True)
        if users[role] is not None:
            client.force_login(users[role])
        clients[role] = client
    before = Notification.objects.filter(read_at__isnull=False).count()
    refused = []
    for key, route, name in enumerate_urls():
        url = url_for(world, key, route, name)
        for role, client in clients.items():
            response = client.post(url, {"body": "x", "message": "x", "confirm": "on"})
            if response.status_code != 403:
                refused.append(f"{key} as {role}: {response.status_code}")
    assert refused == []
    assert Notification.objects.filter(read_at__isnull=False).count() == before


def test_a_post_with_its_csrf_token_goes_through(world):
    """The control of the test above: the same client with the page's token is let in."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("accounts:login"))
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("accounts:login"),
        {"username": "personne@example.fr", "password": "x", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect" in response.content.decode()
