"""The change lists' page written out in Python (``list_page.ChangeListPage`` and the shell of
``anct_portal.admin_shell``) is what the admin's templates render from the same context."""

import datetime

import pytest
from django.utils import timezone

from engineering_requests.admin.list_page import ChangeListPage
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from tests import admin_markup
from tests.engineering_requests.admin.conftest import changelist_url
from tests.engineering_requests.admin.test_changelist import bulk_requests
from tests.engineering_requests.admin.test_list_rendering import QUEUE_URL
from tests.engineering_requests.factories import EngineeringRequestFactory

pytestmark = pytest.mark.django_db


def assert_as_the_templates(response) -> str:
    return admin_markup.assert_as_the_template(response, ChangeListPage)


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("delegate", changelist_url()),
        ("delegate", changelist_url("?p=2")),
        ("delegate", changelist_url("?statut=in_review&q=%3Cb%3E%20%26%20pont&o=2.-4")),
        ("delegate", changelist_url("?a_traiter=moi&anciennete=30-90&o=-3")),
        ("delegate", changelist_url("?q=rien-ne-correspond")),
        ("national", changelist_url("?departement={departement}&forme=programme")),
        ("national", QUEUE_URL),
        ("national", QUEUE_URL + "?motif=rare_expertise&q=pont"),
        ("national", QUEUE_URL + "?q=rien-ne-correspond"),
    ],
)
def test_the_page_is_the_templates_page(admin_as, cast, role, url):
    bulk_requests(120, collectivities=[cast.collectivity], official=cast.official)
    EngineeringRequestFactory(escalated=True, collectivity=cast.collectivity)
    url = url.format(departement=cast.collectivity.departement_id)
    assert_as_the_templates(admin_as(getattr(cast, role)).get(url))


def test_in_english_too(admin_as, cast):
    bulk_requests(3, collectivities=[cast.collectivity], official=cast.official)
    client = admin_as(cast.delegate)
    page = assert_as_the_templates(client.get(changelist_url(), HTTP_ACCEPT_LANGUAGE="en"))
    assert '<html lang="en"' in page and "Log out" in page


def test_with_the_messages_of_a_bulk_action(admin_as, cast):
    first, busy = cast.request_in(S.SUBMITTED), cast.request_in(S.IN_REVIEW)
    client = admin_as(cast.delegate)
    response = client.post(
        changelist_url(),
        {"action": "take_in_review", "_selected_action": [first.pk, busy.pk], "index": 0},
        follow=True,
    )
    page = assert_as_the_templates(response)
    assert '<ul class="messagelist">' in page and first.reference in page
    # Shown once: the next page has none.
    assert "messagelist" not in client.get(changelist_url()).content.decode()


def test_pages_it_does_not_write_keep_the_templates(admin_as, cast):
    bulk_requests(3, collectivities=[cast.collectivity], official=cast.official)
    response = admin_as(cast.delegate).get(changelist_url("?_popup=1"))
    assert response.status_code == 200
    assert not isinstance(response.template_name, ChangeListPage)
    assert 'class="popup ' in response.content.decode()


@pytest.mark.parametrize("query", ["", "?p=2", "?o=3.-4", "?o=-2&statut=in_review", "?q=pont"])
def test_rows_read_in_plain_sql_are_the_querysets(admin_as, cast, query):
    """The page's rows (``page_rows``: plain values) are the requests, in the order and with
    the values the ORM reads (``_page_models``)."""
    from engineering_requests.admin.page_rows import PageRow

    bulk_requests(120, collectivities=[cast.collectivity], official=cast.official)
    EngineeringRequestFactory(escalated=True, collectivity=cast.collectivity)
    for user, url in ((cast.delegate, changelist_url(query)), (cast.national, QUEUE_URL + query)):
        if user is cast.national and query not in ("", "?q=pont"):
            continue  # the queue: a fixed order, a single request
        cl = admin_as(user).get(url).context_data["cl"]
        assert cl.result_list and all(isinstance(row, PageRow) for row in cl.result_list)
        offset = (cl.page_num - 1) * cl.list_per_page
        models = cl._page_models(offset, cl.list_per_page)[: cl.list_per_page]
        assert cl.result_list == models  # a row equals its model instance
        assert {hash(row) for row in cl.result_list} == {hash(model) for model in models}
        for row, model in zip(cl.result_list, models, strict=True):
            assert str(row) == str(model)
            for name in cl.model_admin.list_page_columns:
                if name == "assigned_delegate":
                    assert str(row.assigned_delegate or "") == str(model.assigned_delegate or "")
                elif name in row.__dict__ and hasattr(model, name):
                    assert getattr(row, name) == getattr(model, name), name


def test_rows_are_right_with_the_generic_plan_of_their_prepared_statement(admin_as, cast):
    """The rows' statement is kept prepared: PostgreSQL may then run it with one generic plan
    for every page (forced here from the first run). Each page still gets the queryset's
    rows, in its order, with their delegates."""
    from django.db import connection

    from engineering_requests.models import EngineeringRequest

    bulk_requests(130, collectivities=[cast.collectivity], official=cast.official)
    some = EngineeringRequest.objects.filter(collectivity=cast.collectivity)[:40]
    EngineeringRequest.objects.filter(pk__in=some.values("pk")).update(
        assigned_delegate=cast.delegate
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    client = admin_as(cast.delegate)
    for _round in range(2):
        for query in ("", "?p=2", "?p=3", "?o=-2", "?o=3.-4", "?q=pont"):
            cl = client.get(changelist_url(query)).context_data["cl"]
            offset = (cl.page_num - 1) * cl.list_per_page
            models = cl._page_models(offset, cl.list_per_page)[: cl.list_per_page]
            assert [row.pk for row in cl.result_list] == [model.pk for model in models], query
            assert [str(row.assigned_delegate or "") for row in cl.result_list] == [
                str(model.assigned_delegate or "") for model in models
            ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%unnest(%"],
        )
        assert cursor.fetchone()[0] >= 10


def test_the_filters_panel_kept_by_its_inputs_is_never_stale(admin_as, cast):
    from programmes.models import Programme
    from tests.programmes.factories import ProgrammeFactory

    bulk_requests(3, collectivities=[cast.collectivity], official=cast.official)
    programme = ProgrammeFactory(name="Programme d'avant")
    client = admin_as(cast.delegate)
    first = client.get(changelist_url()).content.decode()
    assert "Programme d&#x27;avant" in first
    assert client.get(changelist_url()).content.decode().count("Programme d&#x27;avant") == 1
    Programme.objects.filter(pk=programme.pk).update(name="Programme renommé")
    page = client.get(changelist_url()).content.decode()
    assert "Programme renommé" in page and "Programme d&#x27;avant" not in page
    # Another selection, another panel.
    selected = client.get(changelist_url(f"?programme={programme.pk}")).content.decode()
    assert f'<li class="selected">\n    <a href="?programme={programme.pk}">' in selected


def test_the_rare_word_check_finds_what_the_search_condition_finds(cast, monkeypatch):
    """``_few_matches`` (plain SQL around the list's query) answers the requests the search's
    own condition matches, or None past ``RARE_WORD_MATCHES``."""
    from django.db.models import Q

    from engineering_requests import selectors
    from engineering_requests.admin import requests as request_admin
    from territories.models import Collectivity
    from territories.text import normalize

    monkeypatch.setattr(request_admin, "RARE_WORD_MATCHES", 8)
    for title in ("Pont de pierre", "Passerelle", "École 100% bois", "Halle_a"):
        EngineeringRequestFactory(submitted=True, collectivity=cast.collectivity, title=title)
    bulk_requests(12, collectivities=[cast.collectivity], official=cast.official, title="Pont")
    scope = selectors.backoffice_visible_to(cast.delegate)
    name = cast.collectivity.name
    for words in (["pont"], ["passerelle"], ["100%"], ["e_a"], ["zzz"], [name], ["ab", "pierre"]):
        answers = request_admin._few_matches(scope, words)
        for word, found in zip(words, answers, strict=True):
            condition = Q(title__icontains=word) | Q(reference__icontains=word)
            if len(normalize(word)) >= 3:
                condition |= Q(
                    collectivity__in=Collectivity.objects.filter(
                        search_name__contains=normalize(word)
                    ).values("pk")
                )
            expected = set(scope.filter(condition).values_list("pk", flat=True))
            if len(word) < 3:
                assert found is None
            elif found is None:
                assert len(expected) >= 8 or name in words, word
            else:
                assert set(found) == expected, word


def test_a_common_word_is_checked_once_per_list_and_a_rare_one_every_time(
    admin_as, cast, monkeypatch, django_assert_num_queries
):
    """The check's "common" answer is kept (the word's own condition gives exact results
    whatever the data has become); a rare word's ids are not: a request submitted since is
    found."""
    from engineering_requests import selectors
    from engineering_requests.admin import requests as request_admin

    monkeypatch.setattr(request_admin, "RARE_WORD_MATCHES", 8)
    bulk_requests(12, collectivities=[cast.collectivity], official=cast.official, title="Zorglub")
    EngineeringRequestFactory(submitted=True, collectivity=cast.collectivity, title="Quixotte")
    scope = selectors.backoffice_visible_to(cast.delegate)
    assert request_admin._few_matches(scope, ["zorglub", "quixotte"])[0] is None
    with django_assert_num_queries(1):  # "quixotte" only
        assert len(request_admin._few_matches(scope, ["zorglub", "quixotte"])[1]) == 1
    with django_assert_num_queries(0):
        assert request_admin._few_matches(scope, ["zorglub"]) == [None]
    # Another list, another limit: asked again.
    with django_assert_num_queries(1):
        request_admin._few_matches(scope.filter(state=S.SUBMITTED), ["zorglub"])
    monkeypatch.setattr(request_admin, "RARE_WORD_MATCHES", 100)
    with django_assert_num_queries(1):
        assert len(request_admin._few_matches(scope, ["zorglub"])[0]) == 12

    client = admin_as(cast.delegate)
    first = {r.pk for r in client.get(changelist_url("?q=quixotte")).context_data["cl"].result_list}
    newer = EngineeringRequestFactory(
        submitted=True, collectivity=cast.collectivity, title="Quixotte haute"
    )
    again = {r.pk for r in client.get(changelist_url("?q=quixotte")).context_data["cl"].result_list}
    assert again == first | {newer.pk}
    monkeypatch.setattr(request_admin, "RARE_WORD_MATCHES", 8)
    client.get(changelist_url("?q=zorglub"))  # common, kept
    for request in EngineeringRequest.objects.filter(title="Zorglub")[:11]:
        EngineeringRequest.objects.filter(pk=request.pk).update(title="Autre")
    # Kept "common" although one match is left: the same result as a fresh check.
    kept = {r.pk for r in client.get(changelist_url("?q=zorglub")).context_data["cl"].result_list}
    assert kept == set(
        EngineeringRequest.objects.filter(title="Zorglub").values_list("pk", flat=True)
    )


def test_the_probe_finds_a_word_common_in_the_lists_first_rows(cast, monkeypatch):
    """A word met ``PROBE_MATCHES`` times in the first ``PROBE_ROWS`` requests of the list (in
    its default order) is common without being counted; one read elsewhere in the list is
    not, and is counted as before. One query either way."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from engineering_requests import selectors
    from engineering_requests.admin import requests as request_admin

    monkeypatch.setattr(request_admin, "RARE_WORD_MATCHES", 100)
    monkeypatch.setattr(request_admin, "PROBE_ROWS", 20)
    monkeypatch.setattr(request_admin, "PROBE_MATCHES", 5)
    recent = bulk_requests(30, collectivities=[cast.collectivity], official=cast.official)
    EngineeringRequest.objects.filter(pk__in=[r.pk for r in recent[:6]]).update(title="Zorglub")
    old = bulk_requests(10, collectivities=[cast.collectivity], official=cast.official)
    EngineeringRequest.objects.filter(pk__in=[r.pk for r in old]).update(
        title="Quixotte", submitted_at=timezone.now() - datetime.timedelta(days=900)
    )
    scope = selectors.backoffice_visible_to(cast.delegate)
    order = ("-submitted_at", "-pk")
    with CaptureQueriesContext(connection) as queries:
        assert request_admin._few_matches(scope, ["zorglub", "quixotte"], order)[0] is None
    assert len(queries) == 1
    request_admin._common_words.clear()
    # Without the probe (no default order), both are counted: fewer than 100.
    assert [len(a) for a in request_admin._few_matches(scope, ["zorglub", "quixotte"])] == [6, 10]
    # Ten "Quixotte", all older than the first 20 rows: counted.
    assert len(request_admin._few_matches(scope, ["quixotte"], order)[0]) == 10
    # The national queue's order (its own fields) is probed the same way.
    [answer] = request_admin._few_matches(scope, ["zorglub"], ("escalated_at", "pk"))
    assert answer is None or set(answer) == {r.pk for r in recent[:6]}
    # An order on a relation is not probed: counted.
    request_admin._common_words.clear()
    assert len(request_admin._few_matches(scope, ["zorglub"], ("collectivity__name",))[0]) == 6


def test_the_searchs_conditions_hold_inside_a_subquery(cast):
    """``AmongIds`` and ``WordMatch`` name their columns through the ORM: relabelled when the
    search's queryset is nested in another query (exports, bulk actions)."""
    from engineering_requests import selectors
    from engineering_requests.admin.requests import AmongIds, WordMatch

    created = bulk_requests(5, collectivities=[cast.collectivity], official=cast.official)
    EngineeringRequest.objects.filter(pk=created[0].pk).update(title="Zorglub")
    scope = selectors.backoffice_visible_to(cast.delegate)
    for condition, expected in (
        (AmongIds([created[1].pk, created[2].pk]), {created[1].pk, created[2].pk}),
        (WordMatch("zorGLUB"), {created[0].pk}),
        (WordMatch(cast.collectivity.name.upper()), {r.pk for r in created}),
    ):
        nested = EngineeringRequest.objects.filter(pk__in=scope.filter(condition).values("pk"))
        assert set(nested.values_list("pk", flat=True)) == expected
