"""The admin's index written out in Python (``anct_portal.admin_index`` in the shell of
``anct_portal.admin_shell``) is what the admin's templates render from the same context."""

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType

from anct_portal.admin_index import IndexPage
from engineering_requests.models import EngineeringRequest
from tests import admin_markup
from tests.accounts.factories import DelegateFactory, NationalStaffFactory
from tests.engineering_requests.factories import EngineeringRequestFactory

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def assert_as_the_template(response) -> str:
    return admin_markup.assert_as_the_template(response, IndexPage)


def test_the_index_without_recent_actions(client):
    page = assert_as_the_template(signed_in(client, DelegateFactory()).get("/admin/"))
    assert "/admin/engineering_requests/engineeringrequest/" in page


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_index_with_recent_actions(client, language):
    delegate = DelegateFactory(first_name="Zoé <b>")
    request = EngineeringRequestFactory(submitted=True)
    content_type = ContentType.objects.get_for_model(EngineeringRequest)
    for flag, repr_text in ((ADDITION, "Ajout & <i>"), (CHANGE, str(request)), (DELETION, "x")):
        LogEntry.objects.create(
            user=delegate,
            content_type=content_type,
            object_id=str(request.pk),
            object_repr=repr_text,
            action_flag=flag,
        )
    LogEntry.objects.create(
        user=delegate, content_type=None, object_id=None, object_repr="Export", action_flag=CHANGE
    )
    LogEntry.objects.create(  # someone else's: not listed
        user=DelegateFactory(), content_type=content_type, object_repr="autre", action_flag=CHANGE
    )
    response = signed_in(client, delegate).get("/admin/", HTTP_ACCEPT_LANGUAGE=language)
    page = assert_as_the_template(response)
    assert 'class="actionlist"' in page and "autre" not in page
    assert "Zoé &lt;b&gt;" in page
    assert f'<html lang="{language}"' in page


def test_the_national_staffs_index(client):
    assert_as_the_template(signed_in(client, NationalStaffFactory()).get("/admin/"))
