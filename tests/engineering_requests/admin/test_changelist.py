"""The change list: its columns, filters and search, a constant number of queries with 1,000
requests, and pages that never count the table (DESIGN §8)."""

import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from programmes.enums import InterventionForm
from tests.accounts.factories import DelegateFactory
from tests.engineering_requests.admin.conftest import changelist_url
from tests.engineering_requests.factories import EngineeringRequestFactory
from tests.programmes.factories import PriorityDomainFactory, ProgrammeFactory
from tests.territories.factories import CollectivityFactory, DepartementFactory

pytestmark = pytest.mark.django_db

STATES = [s for s in S.values if s != S.DRAFT]


def bulk_requests(count, *, collectivities, official, delegate=None, **fields):
    """``count`` submitted requests built by the factory and inserted in bulk, with two
    domains and a programme each, in rotating states."""
    domains = [PriorityDomainFactory() for _ in range(3)]
    programme = ProgrammeFactory()
    now = timezone.now()
    rows = [
        EngineeringRequestFactory.build(
            submitted=True,
            collectivity=collectivity,
            departement=collectivity.departement,
            submitted_by=official,
            assigned_delegate=delegate,
            state=state,
            programme=programme,
            intervention_form=InterventionForm.PROGRAMME,
            submitted_at=now - datetime.timedelta(days=index % 200),
            **fields,
        )
        for index, collectivity, state in zip(
            range(count), itertools.cycle(collectivities), itertools.cycle(STATES), strict=False
        )
    ]
    created = EngineeringRequest.objects.bulk_create(rows, batch_size=500)
    through = EngineeringRequest.domains.through
    through.objects.bulk_create(
        [
            through(engineeringrequest_id=r.pk, prioritydomain_id=d.pk)
            for i, r in enumerate(created)
            for d in (domains[i % 3], domains[(i + 1) % 3])
        ],
        batch_size=1000,
    )
    return created


@pytest.fixture
def thousand(cast):
    """1,000 requests: 600 in département A (the cast's), 400 in two other départements."""
    others = [CollectivityFactory(commune__departement=DepartementFactory()) for _ in range(2)]
    in_a = bulk_requests(
        600, collectivities=[cast.collectivity], official=cast.official, delegate=cast.delegate
    )
    elsewhere = bulk_requests(400, collectivities=others, official=cast.official)
    return in_a, elsewhere


QUERIES = ["", "?a_traiter=moi", "?statut=in_review&anciennete=30-90", "?q=pont&domaine={}", "?p=3"]


def test_change_list_runs_a_constant_number_of_queries(
    admin_as, cast, thousand, django_assert_max_num_queries
):
    two_departements = DelegateFactory(
        departements=[cast.collectivity.departement, thousand[1][0].departement]
    )
    domain = thousand[0][0].domains.first()
    for user in (cast.delegate, cast.national, two_departements):
        client = admin_as(user)
        for query in (q.format(domain.pk) for q in QUERIES):
            # 12 is the budget (DESIGN §8); a search adds one (test_query_budget)
            with django_assert_max_num_queries(8):
                response = client.get(changelist_url(query))
            assert response.status_code == 200
            assert response.context_data["cl"].result_list, (user, query)


def test_pages_never_count_the_table(admin_as, cast, thousand):
    client = admin_as(cast.national)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(changelist_url())
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    cl = first.context_data["cl"]
    assert len(cl.result_list) == 50 and cl.has_next_page and cl.next_page_url
    page = first.content.decode()
    assert "Page suivante" in page and "Lignes 1 à 50" in page
    last = client.get(changelist_url("?p=20"))
    assert (
        len(last.context_data["cl"].result_list) == 50 and not last.context_data["cl"].has_next_page
    )
    assert "Page précédente" in last.content.decode()
    assert client.get(changelist_url("?p=21")).status_code == 302  # past the end: back to p1


def test_columns_show_reference_collectivite_state_age_domains_programme_delegate(admin_as, cast):
    domain = PriorityDomainFactory(name="Revitalisation commerciale")
    programme = ProgrammeFactory(name="Petites villes de demain")
    request = EngineeringRequestFactory(
        in_review=True,
        collectivity=cast.collectivity,
        submitted_by=cast.official,
        assigned_delegate=cast.delegate,
        programme=programme,
        submitted_at=timezone.now() - datetime.timedelta(days=12, hours=1),
    )
    request.domains.set([domain])
    page = admin_as(cast.delegate).get(changelist_url()).content.decode()
    for text in (
        request.reference,
        cast.collectivity.name,
        cast.collectivity.departement.code,
        'class="request-state request-state--in_review"',
        "En instruction",
        "12 jours",
        "Revitalisation commerciale",
        "Petites villes de demain",
        cast.delegate.get_full_name(),
    ):
        assert text in page, text


def test_filters_and_search(admin_as, cast):
    def shown(query, user=cast.delegate):
        return set(admin_as(user).get(changelist_url(query)).context_data["cl"].result_list)

    common = {"collectivity": cast.collectivity, "submitted_by": cast.official}
    new = EngineeringRequestFactory(submitted=True, **common)
    answered = EngineeringRequestFactory(
        in_review=True, info_provided_at=timezone.now(), title="Halle gourmande", **common
    )
    in_review = EngineeringRequestFactory(
        in_review=True, submitted_at=timezone.now() - datetime.timedelta(days=45), **common
    )
    escalated = EngineeringRequestFactory(
        escalated=True,
        fragility_rationale="Très fragile.",
        insufficient_resources_rationale="Aucune ressource.",
        innovative_rationale="",
        national_scope=True,
        **common,
    )
    domain = PriorityDomainFactory()
    in_review.domains.set([domain])
    elsewhere = EngineeringRequestFactory(submitted=True)

    assert shown("") == {new, answered, in_review, escalated}
    assert shown("?a_traiter=moi") == {new, answered}
    assert shown("?a_traiter=moi", cast.national) == {escalated}
    assert shown("?statut=in_review") == {answered, in_review}
    assert shown("?anciennete=30-90") == {in_review}
    assert shown("?anciennete=0-7") == {new, answered, escalated}
    assert shown(f"?domaine={domain.pk}") == {in_review}
    assert shown("?motif=fragility") == {escalated}
    assert shown("?motif=national_scope") == {escalated}
    assert shown("?motif=innovative") == set()
    assert shown(f"?q={answered.reference}") == {answered}
    assert shown(f"?q={answered.reference.lower()}") == {answered}
    assert shown("?q=halle") == {answered}
    assert shown(f"?q={cast.collectivity.code}") == {new, answered, in_review, escalated}
    assert shown(f"?q={cast.collectivity.name.upper()}") == {new, answered, in_review, escalated}
    assert shown(f"?departement={elsewhere.departement_id}", cast.national) == {elsewhere}
    assert elsewhere not in shown(f"?departement={elsewhere.departement_id}")


def test_departement_filter_offers_only_the_users_departements(admin_as, cast):
    mine, other = cast.collectivity.departement, DepartementFactory()
    delegate = DelegateFactory(departements=[mine, DepartementFactory(name="Corrèze")])
    response = admin_as(delegate).get(changelist_url())
    spec = next(
        s for s in response.context_data["cl"].filter_specs if s.parameter_name == "departement"
    )
    labels = [label for _value, label in spec.lookup_choices]
    assert len(labels) == 2 and any(mine.name in label for label in labels)
    assert not any(other.name in label for label in labels)
    # A delegate of a single département has nothing to choose: no filter shown.
    single = admin_as(cast.delegate).get(changelist_url()).context_data["cl"]
    assert "departement" not in [s.parameter_name for s in single.filter_specs]
