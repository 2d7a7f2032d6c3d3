"""What the change lists keep for the request or the process instead of computing it again: the
permission answer, the actions, the scope's queryset, the rows' link. Each is the same answer as
computing it anew, and follows what it depends on."""

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import AnonymousUser

from engineering_requests import selectors
from engineering_requests.admin import access
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from tests.engineering_requests.admin.conftest import changelist_url
from tests.engineering_requests.admin.test_changelist import bulk_requests

pytestmark = pytest.mark.django_db


def test_a_change_list_asks_who_the_user_is_once(admin_as, cast, monkeypatch):
    bulk_requests(3, collectivities=[cast.collectivity], official=cast.official)
    client = admin_as(cast.delegate)
    client.get(changelist_url())  # warm
    asked = []
    original = access.is_backoffice_user
    monkeypatch.setattr(
        access, "is_backoffice_user", lambda user: asked.append(user) or original(user)
    )
    assert client.get(changelist_url()).status_code == 200
    assert len(asked) == 1


def test_the_permission_answer_follows_the_requests_user(rf, cast):
    request = rf.get("/")
    request.user = cast.delegate
    assert access.request_is_backoffice(request) and access.request_is_backoffice(request)
    request.user = AnonymousUser()  # signed out during the request
    assert not access.request_is_backoffice(request)
    request.user = cast.official
    assert not access.request_is_backoffice(request)


def test_actions_are_checked_once_per_request_and_user(rf, cast):
    model_admin = site._registry[EngineeringRequest]
    request = rf.get("/")
    request.user = cast.delegate
    actions = model_admin.get_actions(request)
    assert "take_in_review" in actions and "export_csv" in actions
    assert model_admin.get_actions(request) is actions
    request.user = cast.national  # another user: asked again (no "prise en charge")
    national = model_admin.get_actions(request)
    assert "take_in_review" not in national and "export_csv" in national
    request.GET = rf.get("/?_popup=1").GET  # another query string: asked again
    assert model_admin.get_actions(request) == {}


def test_the_scope_queryset_is_a_new_copy_each_time(cast):
    mine = cast.request_in(S.SUBMITTED)
    scope = (mine.departement_id,)
    first = selectors.backoffice_requests(scope)
    narrowed = first.filter(pk=-1)
    assert not narrowed.exists()
    again = selectors.backoffice_requests(scope)
    assert again is not first and list(again) == [mine] == list(first)
    assert str(again.query) == str(selectors._build_backoffice_requests(scope).query)
    assert not selectors.backoffice_requests(()).exists()
    assert mine in selectors.backoffice_requests(None)
    assert list(selectors.backoffice_requests([mine.departement_id])) == [mine]  # a list too


def test_the_rows_link_keeps_each_lists_filters(admin_as, cast):
    bulk_requests(3, collectivities=[cast.collectivity], official=cast.official)
    client = admin_as(cast.delegate)
    plain = client.get(changelist_url()).content.decode()
    filtered = client.get(changelist_url("?statut=submitted")).content.decode()
    again = client.get(changelist_url()).content.decode()
    assert "_changelist_filters=statut%3Dsubmitted" in filtered
    assert "_changelist_filters" not in plain and "_changelist_filters" not in again


def test_departement_choices_are_the_orms(cast):
    from engineering_requests.admin.filters import departement_choices
    from territories.models import Departement
    from tests.territories.factories import DepartementFactory

    DepartementFactory(code="2A")
    DepartementFactory(code="971")
    expected = [
        (pk, f"{code} – {name}")
        for pk, code, name in Departement.objects.order_by("code").values_list("pk", "code", "name")
    ]
    assert departement_choices(None) == expected and len(expected) >= 3
    some = (expected[-1][0], expected[0][0])
    assert departement_choices(some) == [expected[0], expected[-1]]
    assert departement_choices(()) == []


@pytest.mark.parametrize("language", ["fr", "en"])
def test_queue_rows_with_markup_in_their_texts_keep_the_admin_markup(admin_as, cast, language):
    from django.contrib.admin.templatetags import admin_list

    from engineering_requests.admin.changelist import fast_results
    from tests.engineering_requests.admin.test_list_rendering import QUEUE_URL
    from tests.engineering_requests.factories import EngineeringRequestFactory

    for _ in range(3):
        EngineeringRequestFactory(escalated=True, collectivity=cast.collectivity)
    EngineeringRequest.objects.filter(state=S.ESCALATED).update(
        title='<i>Pont & "passerelle"</i>',
        fragility_rationale="<b>Budget & équipe</b>",
        insufficient_resources_rationale="",
        innovative_rationale="Réhabilitation de l'école " * 20,
    )
    client = admin_as(cast.national)
    cl = client.get(QUEUE_URL, HTTP_ACCEPT_LANGUAGE=language).context_data["cl"]
    assert len(cl.result_list) == 3
    fast = [str(row[0]) for row in fast_results(cl)]
    stock = ["".join(row) for row in admin_list.results(cl)]
    assert fast == stock
    assert "&lt;b&gt;Budget &amp; équipe&lt;/b&gt;" in fast[0] and "l&#x27;école" in fast[0]
    # The cells are Django's format_html of the values, as the columns were first written.
    from django.utils import timezone
    from django.utils.html import format_html, format_html_join

    from engineering_requests.admin.display import age_label, excerpt

    model_admin = cl.model_admin
    for row in cl.result_list:
        plain = EngineeringRequest.objects.select_related("collectivity", "departement").get(
            pk=row.pk
        )
        assert model_admin.reference_link(row) == format_html(
            '<a href="{}"><strong>{}</strong></a><br><span class="quiet">{}</span>',
            f"/admin/engineering_requests/engineeringrequest/{row.pk}/change/",
            plain.reference,
            excerpt(plain.title, 80),
        )
        assert model_admin.collectivity_name(row) == format_html(
            '{}<br><span class="quiet">{} – {}</span>',
            plain.collectivity.name,
            plain.departement.code,
            plain.departement.name,
        )
        assert model_admin.escalated_on(row) == format_html(
            '{}<br><span class="quiet">{}</span>',
            timezone.localtime(plain.escalated_at).strftime("%d/%m/%Y"),
            age_label(plain.escalated_at),
        )
        labels = ("Fragilité", "Ressources locales", "Innovant ou complexe")
        texts = (
            plain.fragility_rationale,
            plain.insufficient_resources_rationale,
            plain.innovative_rationale,
        )
        if language == "fr":
            assert model_admin.justification(row) == format_html_join(
                "",
                '<p class="justification"><strong>{} :</strong> {}</p>',
                (
                    (label, excerpt(text, 220))
                    for label, text in zip(labels, texts, strict=True)
                    if text
                ),
            )


@pytest.mark.parametrize(
    "query",
    ["", "?p=2", "?statut=in_review&q=pont&o=2.-4", "?p=0", "?e=1&p=0", "?p=9999", "?statut=x"],
)
def test_the_listing_view_is_the_stock_view(admin_as, cast, monkeypatch, query):
    """A GET that only lists is served by ``changelist.listing_view``: the stock view's
    permission check, redirects on invalid parameters, context and page."""
    from engineering_requests.admin import requests as request_admin
    from tests.admin_markup import normalized
    from tests.engineering_requests.admin.test_list_rendering import QUEUE_URL

    bulk_requests(60, collectivities=[cast.collectivity], official=cast.official)
    for user, url in ((cast.delegate, changelist_url(query)), (cast.national, QUEUE_URL + query)):
        client = admin_as(user)
        ours = client.get(url)
        monkeypatch.setattr(request_admin, "lists_only", lambda *args: False)
        stock = client.get(url)
        monkeypatch.undo()
        assert ours.status_code == stock.status_code, url
        assert ours.get("Location") == stock.get("Location"), url
        if ours.status_code == 200:
            assert set(ours.context_data) == set(stock.context_data)
            for key in ("title", "selection_note", "selection_note_all", "module_name"):
                assert ours.context_data.get(key) == stock.context_data.get(key), key
            assert normalized(ours.content.decode()) == normalized(stock.content.decode())


def test_popups_and_posts_keep_the_stock_view(admin_as, cast, monkeypatch):
    from engineering_requests.admin import changelist

    served = []
    original = changelist.listing_view
    monkeypatch.setattr(
        "engineering_requests.admin.requests.listing_view",
        lambda *args, **kwargs: served.append(1) or original(*args, **kwargs),
    )
    client = admin_as(cast.delegate)
    assert client.get(changelist_url("?_popup=1")).status_code == 200
    assert client.post(changelist_url(), {"action": "export_csv", "index": 0}).status_code == 302
    assert not served
    assert client.get(changelist_url()).status_code == 200 and served == [1]


def test_the_action_form_is_kept_per_choices_and_language(admin_as, cast):
    bulk_requests(3, collectivities=[cast.collectivity], official=cast.official)
    delegate, national = admin_as(cast.delegate), admin_as(cast.national)
    first = delegate.get(changelist_url()).context_data["action_form"]
    assert delegate.get(changelist_url()).context_data["action_form"] is first
    assert not first.is_bound
    other = national.get(changelist_url()).context_data["action_form"]
    assert other is not first
    names = [name for name, _label in first.fields["action"].choices]
    assert "take_in_review" in names
    assert "take_in_review" not in [name for name, _label in other.fields["action"].choices]
    english = delegate.get(changelist_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert english.context_data["action_form"] is not first
