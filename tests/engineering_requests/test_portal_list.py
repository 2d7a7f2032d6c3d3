""" "Mes demandes": the official's requests, what waits for them first, filters, pagination."""

import pytest
from django.db.models import Q
from django.urls import reverse

from engineering_requests.enums import RequestState
from tests.engineering_requests.factories import EngineeringRequestFactory

pytestmark = pytest.mark.django_db

URL = reverse("engineering_requests:list")


def rows(response):
    return [item.pk for item in response.context["requests"]]


def test_lists_the_requests_of_my_collectivities_only(official_client, cast):
    mine = cast.request_in(RequestState.SUBMITTED)
    draft = cast.draft(title="Mon brouillon")
    other = EngineeringRequestFactory(submitted=True)  # another collectivité
    response = official_client.get(URL)
    assert response.status_code == 200
    assert set(rows(response)) == {mine.pk, draft.pk}
    html = response.content.decode()
    assert mine.reference in html and "Mon brouillon" in html and other.title not in html
    assert 'class="fr-badge fr-badge--info fr-badge--sm">Déposée' in html


def test_what_waits_for_the_official_comes_first(official_client, cast):
    submitted = cast.request_in(RequestState.SUBMITTED)
    completed = cast.request_in(RequestState.COMPLETED)
    draft = cast.draft()
    waiting = cast.request_in(RequestState.INFO_REQUESTED)
    response = official_client.get(URL)
    assert rows(response) == [waiting.pk, draft.pk, submitted.pk, completed.pk]
    html = response.content.decode()
    assert "Ce qui vous attend" in html
    assert "1 demande attend votre réponse" in html
    assert "1 brouillon à terminer et déposer" in html
    assert "Répondre au délégué territorial" in html


def test_filter_by_state_and_search_by_reference_or_title(official_client, cast):
    first = cast.request_in(RequestState.SUBMITTED, title="Pont de la Creuse")
    second = cast.request_in(RequestState.IN_REVIEW, title="École primaire")
    cast.draft(title="Halle du marché")
    assert rows(official_client.get(URL, {"statut": "in_review"})) == [second.pk]
    assert rows(official_client.get(URL, {"q": "PRIMAIRE"})) == [second.pk]
    assert rows(official_client.get(URL, {"q": first.reference})) == [first.pk]
    assert rows(official_client.get(URL, {"q": first.reference[-6:]})) == [first.pk]
    response = official_client.get(URL, {"q": "introuvable"})
    assert rows(response) == [] and "Aucune demande ne correspond" in response.content.decode()
    # A made-up state is ignored, not an error.
    assert len(rows(official_client.get(URL, {"statut": "n'importe quoi"}))) == 3


@pytest.mark.postgres
def test_search_ignores_the_case_of_accented_letters(official_client, cast):
    school = cast.request_in(RequestState.SUBMITTED, title="École primaire")
    assert rows(official_client.get(URL, {"q": "école"})) == [school.pk]


def test_pagination_keeps_the_filters(official_client, cast):
    EngineeringRequestFactory.create_batch(
        45, collectivity=cast.collectivity, submitted_by=cast.official, in_review=True
    )
    first = official_client.get(URL, {"statut": "in_review"})
    assert len(rows(first)) == 20
    html = first.content.decode()
    assert "?statut=in_review&amp;page=2" in html
    third = official_client.get(URL, {"statut": "in_review", "page": 3})
    assert len(rows(third)) == 5
    assert len(rows(official_client.get(URL, {"page": "999"}))) == 5  # past the end: last page


def test_mes_demandes_runs_a_constant_number_of_queries(
    official_client, cast, django_assert_max_num_queries
):
    for trait in ("info_requested", "in_review", "completed", "submitted"):
        EngineeringRequestFactory.create_batch(
            75, collectivity=cast.collectivity, submitted_by=cast.official, **{trait: True}
        )
    EngineeringRequestFactory.create_batch(
        50, collectivity=cast.collectivity, submitted_by=cast.official
    )
    # Session, user, roles, "follows", counts by state, unread notifications, the page's rows.
    for params in ({}, {"statut": "draft"}, {"q": "pont", "page": 2}):
        with django_assert_max_num_queries(7):
            response = official_client.get(URL, params)
        assert response.status_code == 200
    assert response.context["total"] == 350


def test_someone_without_collectivity_sees_why_they_cannot_file(client, cast):
    client.force_login(cast.nobody)
    html = client.get(URL).content.decode()
    assert "aucune collectivité" in html
    assert reverse("engineering_requests:create") not in html
    response = client.get(reverse("engineering_requests:create"))
    assert response.url == URL


def test_the_local_contact_lists_the_requests_they_follow(client, cast):
    followed = cast.request_in(RequestState.LOCAL_SUPPORT)
    cast.request_in(RequestState.SUBMITTED)
    client.force_login(cast.contact)
    response = client.get(reverse("engineering_requests:followed"))
    assert rows(response) == [followed.pk]
    assert "Publier un point d'avancement" in response.content.decode()


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.url == f"{reverse('accounts:login')}?next={URL}"


def test_mes_demandes_holds_exactly_what_the_official_may_see_of_their_collectivites(cast):
    from engineering_requests import selectors

    mine = [cast.draft(), cast.request_in(RequestState.IN_REVIEW), cast.request_in("submitted")]
    elsewhere = EngineeringRequestFactory(submitted=True)  # another collectivité
    EngineeringRequestFactory(submitted=True, contact_email=cast.official.email)  # followed only
    for user in (cast.official, cast.colleague, cast.other_official, cast.delegate, cast.nobody):
        expected = set(
            selectors.visible_to(user).filter(
                collectivity_id__in=user.collectivity_memberships.values("collectivity_id")
            )
        )
        assert set(selectors.of_my_collectivities(user)) == expected
    assert set(selectors.of_my_collectivities(cast.official)) == set(mine)
    assert elsewhere not in set(selectors.of_my_collectivities(cast.official))
    cast.official.is_active = False
    assert not selectors.of_my_collectivities(cast.official).exists()


def test_the_plain_sql_tables_hold_what_the_orm_querysets_hold(cast):
    """``RequestTable`` (plain SQL) against ``of_my_collectivities``, ``followed_by`` and
    ``waiting_first``: same rows, same order, same counts, for every filter."""
    from collections import Counter

    from engineering_requests import selectors

    for trait in ("info_requested", "in_review", "completed", "resolved", "submitted"):
        EngineeringRequestFactory.create_batch(
            4, collectivity=cast.collectivity, submitted_by=cast.official, **{trait: True}
        )
    EngineeringRequestFactory.create_batch(3, collectivity=cast.collectivity, title="Pont 100%_")
    EngineeringRequestFactory(submitted=True, contact_email=cast.official.email)  # followed
    EngineeringRequestFactory(contact_email=cast.contact.email)  # a draft elsewhere: hidden
    EngineeringRequestFactory(resolved=True, contact_email=cast.contact.email)
    EngineeringRequestFactory(collectivity=cast.collectivity, contact_email=cast.official.email)
    users = (cast.official, cast.colleague, cast.contact, cast.delegate, cast.national)
    for user in users:
        for table, queryset in (
            (selectors.RequestTable.of_my_collectivities(user), selectors.of_my_collectivities),
            (selectors.RequestTable.followed_by(user), selectors.followed_by),
        ):
            assert table.exists() == queryset(user).exists()
            for query, state in (("", ""), ("pont", ""), ("100%_", ""), ("", "draft"), ("x", "")):
                expected = queryset(user)
                if query:
                    expected = expected.filter(
                        Q(reference__icontains=query) | Q(title__icontains=query)
                    )
                filtered = table.filter(query=query)
                assert filtered.counts_by_state() == dict(
                    Counter(expected.values_list("state", flat=True))
                )
                if state:
                    expected = expected.filter(state=state)
                ordered = list(selectors.waiting_first(expected).values_list("pk", flat=True))
                rows = filtered.filter(state=state)
                assert [row.pk for row in rows[0:100]] == ordered
                assert [row.pk for row in rows[3:5]] == ordered[3:5]
