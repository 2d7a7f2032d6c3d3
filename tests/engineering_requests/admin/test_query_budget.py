"""Query budgets of the delegate's admin pages (DESIGN §8): the change list, its search and
the change view run a small number of queries that does not grow with the data, and the
change list's rows keep the admin's markup although they are built without it."""

import pytest
from django.contrib.admin.templatetags import admin_list
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engineering_requests import services
from engineering_requests.admin.changelist import fast_results
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from tests.engineering_requests.admin.conftest import change_url, changelist_url
from tests.engineering_requests.admin.test_changelist import bulk_requests
from tests.programmes.factories import LocalProviderFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

# Session, user, roles, filter choices (1, 2 for national staff: the départements), the page's
# ids, then its rows (with their domains: a prepared statement, page_rows); a search adds one
# lookup on the trigram indexes. DESIGN §8's budget is 12.
LIST_BUDGET = 7
SEARCH_BUDGET = 8
CHANGE_BUDGET = 11


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.mark.parametrize("role", ["delegate", "national"])
def test_change_list_query_count_does_not_grow_with_the_rows(admin_as, cast, role):
    client = admin_as(getattr(cast, role))
    bulk_requests(60, collectivities=[cast.collectivity], official=cast.official)
    small = {query: count_queries(client, changelist_url(query)) for query in ("", "?p=2")}
    bulk_requests(900, collectivities=[cast.collectivity], official=cast.official)
    for query in ("", "?p=2", "?p=15", "?statut=in_review&p=3"):
        queries = count_queries(client, changelist_url(query))
        assert queries <= LIST_BUDGET, (query, queries)
        assert queries == small.get(query, small[""]), query


def test_deep_pages_show_the_same_rows_as_an_offset(admin_as, cast):
    bulk_requests(260, collectivities=[cast.collectivity], official=cast.official)
    client = admin_as(cast.delegate)
    expected = list(
        EngineeringRequest.objects.filter(departement=cast.collectivity.departement)
        .exclude(state=S.DRAFT)
        .order_by("-submitted_at", "-pk")
        .values_list("pk", flat=True)
    )
    for page in (1, 2, 4, 6):
        cl = client.get(changelist_url(f"?p={page}")).context_data["cl"]
        assert [r.pk for r in cl.result_list] == expected[(page - 1) * 50 : page * 50]
        assert cl.has_next_page == (page * 50 < len(expected))


@pytest.mark.parametrize("role", ["delegate", "national"])
def test_search_runs_at_most_one_query_more_than_the_list(admin_as, cast, role):
    created = bulk_requests(300, collectivities=[cast.collectivity], official=cast.official)
    client = admin_as(getattr(cast, role))
    listing = count_queries(client, changelist_url())
    name = cast.collectivity.name.split()[0]
    for term in (created[0].reference, cast.collectivity.code, "pont", name, f"pont {name}"):
        for query in (f"?q={term}", f"?statut=local_support&q={term}"):
            queries = count_queries(client, changelist_url(query))
            # At most one more: the lookup of a word on the trigram indexes.
            assert queries <= min(listing + 1, SEARCH_BUDGET), (query, queries)


# The change view: session, user, roles, and the request with every list of its page (history,
# messages, attachments, domains, the actions' choices, the programme, operator… when set) in
# one query.
CHANGE_VIEW_QUERIES = 4


def test_change_view_stays_within_budget_whatever_its_history(admin_as, cast):
    LocalProviderFactory.create_batch(3, departement=cast.collectivity.departement)
    request = cast.request_in(S.IN_REVIEW)
    client = admin_as(cast.delegate)

    def add_thread(count):
        for index in range(count):
            services.post_message(
                engineering_request=request, user=cast.delegate, body=f"Note {index}", internal=True
            )
            services.add_attachment(
                engineering_request=request,
                user=cast.delegate,
                file=SimpleUploadedFile(f"plan-{index}.pdf", b"%PDF-1.4 plan"),
            )

    add_thread(1)
    client.get(change_url(request))  # warm: the content types cache
    few = count_queries(client, change_url(request))
    add_thread(6)
    many = count_queries(client, change_url(request))
    assert many == few
    assert many == CHANGE_VIEW_QUERIES <= CHANGE_BUDGET, many


def test_change_view_reads_its_lists_and_optional_relations_in_one_query(admin_as, cast):
    """Programme, operator, decision maker…, the history, messages, attachments, domains and
    the actions' choices are read with the request, in one query, whatever is set."""
    plain = cast.approve(cast.request_in(S.ESCALATED))  # its operator, decision maker
    decided = cast.approve(cast.request_in(S.ESCALATED))
    EngineeringRequest.objects.filter(pk=decided.pk).update(
        programme=ProgrammeFactory(), local_provider=LocalProviderFactory()
    )
    client = admin_as(cast.national)
    client.get(change_url(plain))  # warm: the content types cache
    without = count_queries(client, change_url(plain))
    page = client.get(change_url(decided)).content.decode()
    decided.refresh_from_db()
    for related in (decided.programme, decided.operator, decided.decided_by):
        assert str(related) in page
    assert count_queries(client, change_url(decided)) == without <= CHANGE_VIEW_QUERIES


def test_rows_keep_the_admin_markup(admin_as, cast, rf):
    """The rows built in one go are those the admin's ``items_for_result`` renders."""
    bulk_requests(20, collectivities=[cast.collectivity], official=cast.official)
    bulk_requests(
        5, collectivities=[cast.collectivity], official=cast.official, delegate=cast.delegate
    )
    EngineeringRequest.objects.filter(pk__in=EngineeringRequest.objects.values("pk")[:3]).update(
        programme=None, title="<b>Pont & passerelle</b>"
    )
    for user, url in (
        (cast.delegate, changelist_url("?statut=in_review&q=pont")),
        (cast.delegate, changelist_url()),
        (cast.national, "/admin/engineering_requests/escalatedrequest/"),
    ):
        cl = admin_as(user).get(url).context_data["cl"]
        fast = [str(row[0]) for row in fast_results(cl)]
        stock = ["".join(row) for row in admin_list.results(cl)]
        assert fast == stock


def test_rare_and_common_words_find_the_same_requests(admin_as, cast, monkeypatch):
    """A word looked up on the trigram indexes first (rare) finds what the list's condition
    finds (common): titles, references, collectivité names, combined with the filters."""
    from engineering_requests.admin import requests as request_admin

    created = bulk_requests(120, collectivities=[cast.collectivity], official=cast.official)
    EngineeringRequest.objects.filter(pk__in=[r.pk for r in created[:7]]).update(
        title="Halle gourmande du marché"
    )
    name = cast.collectivity.name
    queries = [
        "?q=halle",
        "?q=HALLE gourmande",
        f"?q={created[3].reference[-6:]}",
        f"?q={name}",
        f"?q={name.upper()} halle",
        "?q=introuvable",
        "?statut=in_review&q=halle",
        f"?q={created[5].reference}",
        f"?q={cast.collectivity.code} halle",
    ]

    def found(limit, probe_rows, probe_matches=51):
        request_admin._common_words.clear()
        monkeypatch.setattr(request_admin, "RARE_WORD_MATCHES", limit)
        monkeypatch.setattr(request_admin, "PROBE_ROWS", probe_rows)
        monkeypatch.setattr(request_admin, "PROBE_MATCHES", probe_matches)
        client = admin_as(cast.delegate)
        return {
            q: {r.pk for r in client.get(changelist_url(q)).context_data["cl"].result_list}
            for q in queries
        }

    common, rare = found(0, probe_rows=0), found(10_000, probe_rows=0)
    # The probe finds the name and "halle" common in the list's first rows, not the others.
    probed = found(10_000, probe_rows=60, probe_matches=5)
    assert common == rare == probed
    assert len(common["?q=halle"]) == 7 and not common["?q=introuvable"]
