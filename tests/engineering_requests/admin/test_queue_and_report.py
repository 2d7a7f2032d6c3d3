"""The national queue (escalations awaiting a decision, oldest first, justification readable in
the list) and the comité local report, whose figures must match a crafted data set exactly."""

import csv
import datetime
import io
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from engineering_requests import reports
from engineering_requests.enums import RequestState as S
from programmes.enums import NationalInstrument
from tests.engineering_requests.factories import EngineeringRequestFactory
from tests.programmes.factories import OperatorFactory
from tests.territories.factories import CollectivityFactory

pytestmark = pytest.mark.django_db

QUEUE_URL = reverse("admin:engineering_requests_escalatedrequest_changelist")
REPORT_URL = reverse("admin:engineering_requests_engineeringrequest_comite_report")


def days_ago(days: int) -> datetime.datetime:
    """The start (local midnight) of the day ``days`` days ago: on that calendar day, and at
    least ``days`` whole days ago whatever the time the test runs (a fixed 10:00 was less than
    40 days ago before 10:00, and the queue then showed "39 jours")."""
    moment = timezone.localtime() - datetime.timedelta(days=days)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


# National queue ----------------------------------------------------------------------------


def test_queue_lists_escalations_oldest_first_with_their_justification(admin_as, cast):
    common = {"collectivity": cast.collectivity, "submitted_by": cast.official}
    recent = EngineeringRequestFactory(escalated=True, escalated_at=days_ago(2), **common)
    oldest = EngineeringRequestFactory(
        escalated=True,
        escalated_at=days_ago(40),
        innovative_rationale="",
        fragility_rationale="Commune de 200 habitants en déprise démographique.",
        insufficient_resources_rationale="Aucun bureau d'études dans le département.",
        national_scope=True,
        **common,
    )
    middle = EngineeringRequestFactory(
        escalated=True, escalated_at=days_ago(15), rare_expertise=True
    )
    EngineeringRequestFactory(in_review=True, **common)  # not escalated: not in the queue

    response = admin_as(cast.national).get(QUEUE_URL)

    assert response.status_code == 200
    assert list(response.context_data["cl"].result_list) == [oldest, middle, recent]
    page = unescape(response.content.decode())
    for text in (
        "Commune de 200 habitants en déprise démographique.",
        "Aucun bureau d'études dans le département.",
        "Fragilité et ressources locales insuffisantes",
        "Envergure nationale",
        "Expertise rare",
        "40 jours",
        reverse("admin:engineering_requests_engineeringrequest_change", args=[oldest.pk]),
    ):
        assert text in page, text


def test_queue_is_for_national_staff(admin_as, cast):
    EngineeringRequestFactory(escalated=True, collectivity=cast.collectivity)
    assert admin_as(cast.delegate).get(QUEUE_URL).status_code == 403
    assert admin_as(cast.other_delegate).get(QUEUE_URL).status_code == 403
    index = admin_as(cast.national).get(reverse("admin:index")).content.decode()
    assert QUEUE_URL in index
    assert QUEUE_URL not in admin_as(cast.delegate).get(reverse("admin:index")).content.decode()


def test_queue_rows_open_the_request_page(admin_as, cast):
    request = EngineeringRequestFactory(escalated=True, collectivity=cast.collectivity)
    proxy_url = reverse("admin:engineering_requests_escalatedrequest_change", args=[request.pk])
    response = admin_as(cast.national).get(proxy_url)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:engineering_requests_engineeringrequest_change", args=[request.pk]
    )


# Comité local report -------------------------------------------------------------------------


@pytest.fixture
def crafted(cast):
    """Département A over the last 30 days, plus rows that must not count.

    In the period: 6 deposited; 3 answered locally (1 since completed); 4 escalated (1 approved
    with 40,000 € of credits, 1 approved through a framework agreement, 1 referred back then
    answered locally, 1 pending); 1 declined. Local answer rate: 3 / (3 + 4) = 42.9 %.
    """
    make = EngineeringRequestFactory
    common = {"collectivity": cast.collectivity, "submitted_by": cast.official}
    rows = {
        "local": make(
            resolved=True, submitted_at=days_ago(20), resolved_locally_at=days_ago(10), **common
        ),
        "local_done": make(
            resolved=True,
            state=S.COMPLETED,
            submitted_at=days_ago(60),  # deposited before the period
            resolved_locally_at=days_ago(25),
            completed_at=days_ago(3),
            outcome="Étude rendue.",
            **common,
        ),
        "approved_credits": make(
            escalated=True,
            state=S.NATIONAL_SUPPORT,
            submitted_at=days_ago(28),
            escalated_at=days_ago(21),
            decided_at=days_ago(14),
            national_instrument=NationalInstrument.SUBSIDY,
            granted_amount=Decimal("40000.00"),
            **common,
        ),
        "approved_operator": make(
            escalated=True,
            state=S.COMPLETED,
            submitted_at=days_ago(90),
            escalated_at=days_ago(29),
            decided_at=days_ago(20),
            completed_at=days_ago(1),
            national_instrument=NationalInstrument.FRAMEWORK_AGREEMENT,
            operator=OperatorFactory(),
            **common,
        ),
        "referred_then_local": make(
            resolved=True,
            submitted_at=days_ago(27),
            escalated_at=days_ago(19),
            referred_back_at=days_ago(12),
            referral_reason="Le CAUE peut répondre.",
            resolved_locally_at=days_ago(5),
            innovative_rationale="Complexe.",
            **common,
        ),
        "pending": make(
            escalated=True, submitted_at=days_ago(8), escalated_at=days_ago(4), **common
        ),
        "declined": make(
            in_review=True,
            state=S.DECLINED,
            submitted_at=days_ago(9),
            declined_at=days_ago(2),
            **common,
        ),
        "submitted": make(submitted=True, submitted_at=days_ago(1), **common),
        # Outside the period, or outside the département: never counted.
        "old_local": make(
            resolved=True, submitted_at=days_ago(80), resolved_locally_at=days_ago(45), **common
        ),
        "old_escalation": make(
            escalated=True, submitted_at=days_ago(70), escalated_at=days_ago(35), **common
        ),
        "elsewhere": make(
            resolved=True,
            collectivity=CollectivityFactory(),
            submitted_at=days_ago(5),
            resolved_locally_at=days_ago(3),
        ),
    }
    start = (timezone.localtime() - datetime.timedelta(days=30)).date()
    end = timezone.localdate()
    return rows, start, end


EXPECTED = {
    "deposited": 6,
    "answered_locally": 3,
    "local_completed": 1,
    "escalated": 4,
    "approved": 2,
    "referred_back": 1,
    "pending": 1,
    "declined": 1,
    "amount_granted": Decimal("40000.00"),
}


def test_report_figures_match_the_crafted_data(cast, crafted):
    rows, start, end = crafted
    report = reports.comite_local_report(
        user=cast.delegate, departement=cast.collectivity.departement, start=start, end=end
    )
    assert report.figures == EXPECTED
    assert report.local_rate == Decimal("42.9")
    assert [r.pk for r in report.local_requests] == [
        rows[k].pk for k in ("local_done", "local", "referred_then_local")
    ]
    outcomes = {r.pk: r.outcome_code for r in report.escalations}
    assert outcomes == {
        rows["approved_operator"].pk: "approved",
        rows["approved_credits"].pk: "approved",
        rows["referred_then_local"].pk: "referred_back",
        rows["pending"].pk: "pending",
    }
    assert report.escalations[0].pk == rows["approved_operator"].pk  # oldest first


def test_report_page_csv_and_pdf(admin_as, cast, crafted):
    rows, start, end = crafted
    client = admin_as(cast.delegate)
    query = {"departement": cast.collectivity.departement.pk, "start": start, "end": end}

    page = unescape(client.get(REPORT_URL, query).content.decode())
    assert "Rapport au comité local de cohésion territoriale" in page
    assert "Claire Martin" in page and rows["local"].reference in page
    assert rows["old_local"].reference not in page and rows["elsewhere"].reference not in page
    assert "Renvoyée au département" in page and "42,9 %" in page

    response = client.get(REPORT_URL, {**query, "format": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="comite-local-')
    lines = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff")), delimiter=";"))
    figures = {line[0]: line[1] for line in lines if len(line) == 2}
    assert figures["Demandes déposées"] == "6"
    assert figures["Réponses locales (interlocuteur unique désigné)"] == "3"
    assert figures["Transmissions à l'ANCT"] == "4"
    assert figures["… dont appui national accordé"] == "2"
    assert figures["Taux de réponse locale (objectif 90 %)"] == "42,9 %"
    assert figures["Montant des crédits nationaux accordés (€)"] == "40000,00"
    references = [line[0] for line in lines if line and line[0].startswith("ING-")]
    assert len(references) == 3 + 4
    assert rows["elsewhere"].reference not in references

    pdf = client.get(REPORT_URL, {**query, "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert LogEntry.objects.filter(user=cast.delegate, change_message__contains="PDF").exists()
    assert LogEntry.objects.filter(user=cast.delegate, change_message__contains="CSV").exists()


def test_report_is_limited_to_the_users_departements(admin_as, cast, crafted):
    rows, start, end = crafted
    query = {"departement": cast.collectivity.departement.pk, "start": start, "end": end}
    for fmt in ("html", "csv"):
        response = admin_as(cast.other_delegate).get(REPORT_URL, {**query, "format": fmt})
        assert response.status_code == 200
        assert "departement" in response.context["form"].errors
        assert rows["local"].reference not in response.content.decode()
    national = admin_as(cast.national).get(REPORT_URL, query)
    assert national.context["report"].figures == EXPECTED
