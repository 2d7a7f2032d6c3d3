import pytest
from django.core.management import CommandError, call_command

from accounts import roles
from accounts.models import User
from engineering_requests.enums import RequestState
from engineering_requests.models import EngineeringRequest, TransitionLog
from tests.programmes.factories import OperatorFactory, PriorityDomainFactory
from tests.territories.factories import CollectivityFactory, CommuneFactory, DepartementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference_data():
    CollectivityFactory(
        commune=CommuneFactory(
            code="23008", name="Aubusson", departement=DepartementFactory(code="23", name="Creuse")
        )
    )
    CollectivityFactory(
        commune=CommuneFactory(
            code="71014",
            name="Autun",
            departement=DepartementFactory(code="71", name="Saône-et-Loire"),
        )
    )
    theme = PriorityDomainFactory(code="ruralite", name="Territoires et ruralité")
    PriorityDomainFactory(code="acv", name="Action cœur de ville", parent=theme)
    PriorityDomainFactory(code="sante", name="Santé", parent=theme)
    OperatorFactory(code="cerema", name="Cerema")


def test_demo_data_covers_every_state_with_consistent_histories(reference_data, settings, capsys):
    settings.DEBUG = True
    call_command("create_demo_data")
    output = capsys.readouterr().out
    assert "elu-a@demo.test" in output and "password" in output

    elu_a = User.objects.get(email="elu-a@demo.test")
    delegue_a = User.objects.get(email="delegue-a@demo.test")
    assert roles.is_official(elu_a) and roles.is_delegate(delegue_a)
    assert roles.is_national_staff(User.objects.get(email="national@demo.test"))

    in_a = EngineeringRequest.objects.filter(departement__code="23")
    in_b = EngineeringRequest.objects.filter(departement__code="71")
    assert set(in_a.values_list("state", flat=True)) == set(RequestState.values)
    assert in_b.exists()
    assert in_a.filter(state="submitted").count() >= 2
    assert in_a.filter(state="draft", submitted_by=elu_a).exists()
    assert 45 <= EngineeringRequest.objects.count() <= 60
    for request in EngineeringRequest.objects.exclude(state="draft"):
        logs = list(TransitionLog.objects.filter(engineering_request=request))
        assert logs[0].transition == "submit" and logs[-1].target_state == request.state
        assert request.title and request.description
    assert EngineeringRequest.objects.filter(contact_email="contact-a@demo.test").exists()
    # Histories are spread over time, so dashboards show real delays.
    for request in EngineeringRequest.objects.filter(review_started_at__isnull=False):
        assert (request.review_started_at - request.submitted_at).total_seconds() >= 12 * 3600


def test_demo_data_is_idempotent(reference_data, settings):
    settings.DEBUG = True
    call_command("create_demo_data")
    count = EngineeringRequest.objects.count()
    call_command("create_demo_data")
    assert EngineeringRequest.objects.count() == count
    assert User.objects.filter(email__endswith="@demo.test").count() == 6


def test_demo_data_refuses_to_run_in_production(reference_data, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("create_demo_data")
    assert not User.objects.filter(email__endswith="@demo.test").exists()


def test_demo_data_needs_the_territories(settings):
    settings.DEBUG = True
    PriorityDomainFactory()
    with pytest.raises(CommandError, match="load_territories"):
        call_command("create_demo_data")
