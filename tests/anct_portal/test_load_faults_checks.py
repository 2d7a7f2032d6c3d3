"""The load test's invariants (scripts/load_faults.py) hold on a consistent database and catch
each kind of fault: a lost or duplicated e-mail, a row left pending, a wrong reference shown,
a gap in the references, a message recorded twice or not at all, a broken transition chain."""

import importlib.util
from pathlib import Path

import pytest
from django.db.models import F

from engineering_requests.enums import RequestState as S
from engineering_requests.models import ReferenceSequence, RequestMessage, TransitionLog
from notifications.enums import Channel, NotificationStatus
from notifications.models import Notification
from tests.engineering_requests.factories import Cast

pytestmark = pytest.mark.django_db

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "load_faults.py"


@pytest.fixture(scope="module")
def load_faults():
    spec = importlib.util.spec_from_file_location("load_faults", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def received(sink, notification_id):
    sink.received.append({"message_id": f"<notification-{notification_id}@anct.gouv.fr>",
                          "key": "", "to": [], "at": 0})  # fmt: skip


@pytest.fixture
def cast(db):
    return Cast.create()


@pytest.fixture
def run(load_faults, cast):
    """A phase where everything went right: two submissions, their e-mails sent and received
    once each, one message posted with its mark."""
    other = cast.request_in(S.SUBMITTED)
    request = cast.request_in(S.SUBMITTED)
    mark = "[lt-0000000000aa]"
    RequestMessage.objects.create(engineering_request=request, author=cast.official,
                                  body=f"Bonjour {mark}")  # fmt: skip
    stats = load_faults.Stats("test")
    stats.accept(other.pk, other.reference)
    stats.accept(request.pk, request.reference)
    stats.message_sent(mark)
    Notification.objects.update(status=NotificationStatus.SENT)
    sink = load_faults.MailSink()
    for pk in Notification.objects.filter(channel=Channel.EMAIL).values_list("pk", flat=True):
        received(sink, pk)
    return stats, sink, request


def check(load_faults, stats, sink):
    return load_faults.check(stats, sink, 1, 1)


def test_a_consistent_run_passes(load_faults, run):
    stats, sink, _request = run
    result = check(load_faults, stats, sink)
    assert result["violations"] == []
    assert result["submissions_found"] == 2
    assert result["notifications"]["email_expected"] == result["notifications"]["email_delivered"]
    assert result["notifications"]["email_expected"] >= 2


def test_lost_duplicated_and_pending_notifications_are_caught(load_faults, run):
    stats, sink, _request = run
    emails = Notification.objects.filter(channel=Channel.EMAIL).order_by("pk")
    first, last = emails.first().pk, emails.last().pk
    received(sink, first)  # delivered twice
    sink.received = [r for r in sink.received if f"-{last}@" not in r["message_id"]]  # lost
    Notification.objects.filter(pk=last).update(status=NotificationStatus.PENDING)

    violations = " | ".join(check(load_faults, stats, sink)["violations"])

    assert "received more than once" in violations
    assert "never received" in violations
    assert "outbox rows not sent" in violations


def test_a_wrong_reference_a_gap_and_messages_are_caught(load_faults, run):
    stats, sink, request = run
    stats.accept(request.pk + 1000, "ING-2026-999999")  # a confirmation that is not in the db
    stats.message_sent("[lt-0000000000bb]")  # never recorded
    RequestMessage.objects.create(engineering_request=request, author=request.submitted_by,
                                  body="Bonjour [lt-0000000000aa]")  # recorded twice  # fmt: skip
    ReferenceSequence.objects.update(last_number=F("last_number") + 1)  # a number skipped

    violations = " | ".join(check(load_faults, stats, sink)["violations"])

    assert "accepted submission" in violations
    assert "not gap-free" in violations
    assert "messages sent but not in the thread" in violations
    assert "messages recorded more than once" in violations


def test_a_transition_chain_that_does_not_lead_to_the_state_is_caught(load_faults, run):
    stats, sink, request = run
    TransitionLog.objects.create(engineering_request=request, transition="start_review",
                                 source_state=S.DRAFT, target_state=S.IN_REVIEW,
                                 actor=request.submitted_by)  # fmt: skip

    violations = " | ".join(check(load_faults, stats, sink)["violations"])

    assert f"request {request.pk}: logs" in violations
