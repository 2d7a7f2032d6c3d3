"""A crafted data set for the dashboards: requests with precise milestones, built directly as
rows (the workflow itself is tested in tests/engineering_requests)."""

import datetime
from dataclasses import dataclass

from engineering_requests.enums import RequestState as S
from programmes.enums import InterventionForm, NationalInstrument
from tests.accounts.factories import DelegateFactory, NationalStaffFactory, OfficialFactory
from tests.engineering_requests.factories import EngineeringRequestFactory
from tests.programmes.factories import OperatorFactory, PriorityDomainFactory, ProgrammeFactory
from tests.territories.factories import CollectivityFactory, DepartementFactory, RegionFactory

DAY = datetime.timedelta(days=1)


@dataclass
class Place:
    departement: object
    collectivity: object
    official: object


def place(departement) -> Place:
    collectivity = CollectivityFactory(commune__departement=departement)
    official = OfficialFactory(collectivities=[collectivity])
    return Place(departement, collectivity, official)


def request_at(
    where: Place,
    now,
    *,
    state,
    submitted_days_ago=None,
    review=None,
    local=None,
    escalated=None,
    decided=None,
    **fields,
):
    """A request of ``where`` submitted ``submitted_days_ago`` days before ``now``; the other
    milestones are given in days after submission."""
    submitted_at = now - submitted_days_ago * DAY if submitted_days_ago is not None else None

    def after(days):
        return submitted_at + days * DAY if days is not None else None

    return EngineeringRequestFactory(
        collectivity=where.collectivity,
        submitted_by=where.official,
        state=state,
        submitted=submitted_at is not None,
        submitted_at=submitted_at,
        review_started_at=after(review),
        resolved_locally_at=after(local),
        escalated_at=after(escalated),
        decided_at=after(decided),
        **fields,
    )  # fmt: skip


@dataclass
class Crafted:
    now: datetime.datetime
    a: Place
    b: Place
    c: Place
    region_ab: object
    region_c: object
    programme: object
    theme: object
    delegate_a: object
    national: object
    operator: object


def crafted_data_set(now) -> Crafted:
    """Three départements: A and B in one région, C in another. Expected figures are written
    next to the tests that read them."""
    region_ab, region_c = RegionFactory(), RegionFactory()
    a = place(DepartementFactory(region=region_ab, name="Creuse-test"))
    b = place(DepartementFactory(region=region_ab, name="Saône-test"))
    c = place(DepartementFactory(region=region_c, name="Corrèze-test"))
    programme = ProgrammeFactory(code="pvd-test", name="Petites villes de demain (test)")
    theme = PriorityDomainFactory(code="theme-test", name="Ruralité (test)")
    item = PriorityDomainFactory(code="item-test", name="Santé (test)", parent=theme)
    operator = OperatorFactory(code="cerema", name="Cerema")
    fragile = {"fragility_rationale": "Commune fragile.",
               "insufficient_resources_rationale": "Aucune ressource locale."}  # fmt: skip

    # Département A
    request_at(a, now, state=S.COMPLETED, submitted_days_ago=100, review=1, local=5)
    request_at(a, now, state=S.LOCAL_SUPPORT, submitted_days_ago=60, review=2, local=10,
               programme=programme, intervention_form=InterventionForm.PROGRAMME)  # fmt: skip
    request_at(a, now, state=S.LOCAL_SUPPORT, submitted_days_ago=40, review=3, local=20)
    a4 = request_at(
        a, now, state=S.NATIONAL_SUPPORT, submitted_days_ago=50, review=4, escalated=6,
        decided=30, national_instrument=NationalInstrument.SUBSIDY, granted_amount=40000,
        intervention_form=InterventionForm.CONTRACT, **fragile,
    )  # fmt: skip
    a4.domains.add(item)
    request_at(a, now, state=S.ESCALATED, submitted_days_ago=20, review=1, escalated=2,
               innovative_rationale="Projet complexe.", rare_expertise=True)  # fmt: skip
    request_at(a, now, state=S.SUBMITTED, submitted_days_ago=3)
    request_at(a, now, state=S.IN_REVIEW, submitted_days_ago=95, review=7)
    request_at(a, now, state=S.DECLINED, submitted_days_ago=30, review=1)
    request_at(a, now, state=S.DRAFT)
    request_at(a, now, state=S.WITHDRAWN, submitted_days_ago=10)
    # Département B
    request_at(
        b, now, state=S.COMPLETED, submitted_days_ago=80, review=2, escalated=4, decided=12,
        national_instrument=NationalInstrument.FRAMEWORK_AGREEMENT, operator=operator,
        innovative_rationale="Ouvrage d'art.", national_scope=True,
    )  # fmt: skip
    request_at(b, now, state=S.LOCAL_SUPPORT, submitted_days_ago=35, review=1, local=6,
               programme=programme, intervention_form=InterventionForm.PROGRAMME)  # fmt: skip
    request_at(b, now, state=S.INFO_REQUESTED, submitted_days_ago=8, review=1)
    # Département C
    request_at(c, now, state=S.COMPLETED, submitted_days_ago=200, review=10, local=15)

    return Crafted(
        now=now, a=a, b=b, c=c, region_ab=region_ab, region_c=region_c, programme=programme,
        theme=theme, delegate_a=DelegateFactory(departements=[a.departement]),
        national=NationalStaffFactory(), operator=operator,
    )  # fmt: skip
