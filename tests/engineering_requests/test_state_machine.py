"""The state machine of DESIGN §3, exhaustively: every transition from every state, every role."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm import TransitionNotAllowed

from engineering_requests import services
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest, TransitionLog
from programmes.enums import NationalInstrument
from tests.programmes.factories import OperatorFactory

pytestmark = pytest.mark.django_db

# transition -> (allowed sources, target)
DESIGN = {
    "submit": ({S.DRAFT}, S.SUBMITTED),
    "start_review": ({S.SUBMITTED}, S.IN_REVIEW),
    "request_info": ({S.IN_REVIEW}, S.INFO_REQUESTED),
    "provide_info": ({S.INFO_REQUESTED}, S.IN_REVIEW),
    "resolve_locally": ({S.IN_REVIEW}, S.LOCAL_SUPPORT),
    "escalate": ({S.IN_REVIEW}, S.ESCALATED),
    "approve_national": ({S.ESCALATED}, S.NATIONAL_SUPPORT),
    "refer_back": ({S.ESCALATED}, S.IN_REVIEW),
    "decline": ({S.IN_REVIEW}, S.DECLINED),
    "withdraw": ({S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.INFO_REQUESTED}, S.WITHDRAWN),
    "complete": ({S.LOCAL_SUPPORT, S.NATIONAL_SUPPORT}, S.COMPLETED),
}


def run(transition: str, request, user):
    """Call the service of ``transition`` with valid data."""
    calls = {
        "submit": lambda: services.submit_request(engineering_request=request, user=user),
        "start_review": lambda: services.start_review(engineering_request=request, user=user),
        "request_info": lambda: services.request_info(
            engineering_request=request, user=user, message="Pouvez-vous préciser le budget ?"
        ),
        "provide_info": lambda: services.provide_info(
            engineering_request=request, user=user, message="Le budget est de 250 000 €."
        ),
        "resolve_locally": lambda: services.resolve_locally(
            engineering_request=request,
            user=user,
            contact_name="Claire Martin",
            contact_organisation="ATD de la Creuse",
            contact_email="claire.martin@atd23.example.fr",
        ),
        "escalate": lambda: services.escalate_request(
            engineering_request=request,
            user=user,
            fragility="Commune de 300 habitants sans service technique.",
            insufficient_local_resources="L'ATD n'a pas d'ingénieur ouvrages d'art.",
        ),
        "approve_national": lambda: services.approve_national_support(
            engineering_request=request,
            user=user,
            instrument=NationalInstrument.SUBSIDY,
            amount="40000",
        ),
        "refer_back": lambda: services.refer_back(
            engineering_request=request, user=user, reason="Le CAUE peut répondre localement."
        ),
        "decline": lambda: services.decline_request(
            engineering_request=request, user=user, reason="Le projet est déjà financé."
        ),
        "withdraw": lambda: services.withdraw_request(engineering_request=request, user=user),
        "complete": lambda: services.complete_request(
            engineering_request=request, user=user, outcome="Étude rendue en juin."
        ),
    }
    return calls[transition]()


def actor_for(transition: str, state: str, cast):
    if transition in {"submit", "provide_info", "withdraw"}:
        return cast.official
    if transition in {"approve_national", "refer_back"}:
        return cast.national
    if transition == "complete" and state == S.NATIONAL_SUPPORT:
        return cast.national
    return cast.delegate


@pytest.mark.parametrize("state", list(S.values))
@pytest.mark.parametrize("transition", list(DESIGN))
def test_every_transition_from_every_state(cast, state, transition):
    request = cast.request_in(state)
    sources, target = DESIGN[transition]
    logs_before = TransitionLog.objects.filter(engineering_request=request).count()
    user = actor_for(transition, state, cast)
    if state in sources:
        updated = run(transition, request, user)
        assert updated.state == target
        logs = TransitionLog.objects.filter(engineering_request=request)
        assert logs.count() == logs_before + 1
        last = logs.last()
        assert (last.transition, last.source_state, last.target_state, last.actor) == (
            transition,
            state,
            target,
            user,
        )
    else:
        with pytest.raises(TransitionNotAllowed):
            run(transition, request, user)
        request.refresh_from_db()
        assert request.state == state
        assert TransitionLog.objects.filter(engineering_request=request).count() == logs_before


ROLES = [
    "official",
    "colleague",
    "other_official",
    "delegate",
    "other_delegate",
    "national",
    "contact",
    "nobody",
]
PERMITTED = {
    "submit": {"official", "colleague"},
    "start_review": {"delegate"},
    "request_info": {"delegate"},
    "provide_info": {"official", "colleague"},
    "resolve_locally": {"delegate"},
    "escalate": {"delegate"},
    "approve_national": {"national"},
    "refer_back": {"national"},
    "decline": {"delegate"},
    "withdraw": {"official", "colleague"},
}
SOURCE_FOR = {
    "submit": S.DRAFT,
    "start_review": S.SUBMITTED,
    "request_info": S.IN_REVIEW,
    "provide_info": S.INFO_REQUESTED,
    "resolve_locally": S.IN_REVIEW,
    "escalate": S.IN_REVIEW,
    "approve_national": S.ESCALATED,
    "refer_back": S.ESCALATED,
    "decline": S.IN_REVIEW,
    "withdraw": S.SUBMITTED,
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("transition", list(PERMITTED))
def test_every_role_for_every_transition(cast, transition, role):
    request = cast.request_in(SOURCE_FOR[transition])
    user = getattr(cast, role)
    if role in PERMITTED[transition]:
        assert run(transition, request, user).state == DESIGN[transition][1]
    else:
        with pytest.raises(PermissionDenied):
            run(transition, request, user)
        request.refresh_from_db()
        assert request.state == SOURCE_FOR[transition]
        assert not TransitionLog.objects.filter(
            engineering_request=request, transition=transition
        ).exists()


@pytest.mark.parametrize(
    ("state", "permitted"),
    [(S.LOCAL_SUPPORT, {"delegate"}), (S.NATIONAL_SUPPORT, {"national"})],
)
@pytest.mark.parametrize("role", ROLES)
def test_complete_depends_on_the_kind_of_support(cast, state, permitted, role):
    request = cast.request_in(state)
    user = getattr(cast, role)
    if role in permitted:
        assert run("complete", request, user).state == S.COMPLETED
    else:
        with pytest.raises(PermissionDenied):
            run("complete", request, user)


def test_start_review_assigns_the_delegate_and_stamps_milestones(cast):
    request = cast.request_in(S.SUBMITTED)
    assert request.reference.startswith("ING-")
    assert request.submitted_at is not None
    reviewed = services.start_review(engineering_request=request, user=cast.delegate)
    assert reviewed.assigned_delegate == cast.delegate
    assert reviewed.review_started_at >= reviewed.submitted_at


def test_state_cannot_be_assigned_directly(cast):
    request = cast.request_in(S.SUBMITTED)
    with pytest.raises(AttributeError):
        request.state = S.COMPLETED


# Guards ----------------------------------------------------------------------------------------


def assert_unchanged(request, state):
    request.refresh_from_db()
    assert request.state == state
    assert not TransitionLog.objects.filter(
        engineering_request=request, source_state=state
    ).exists()


@pytest.mark.parametrize(
    ("justification", "field"),
    [
        ({}, "__all__"),
        ({"fragility": "Commune de 200 habitants."}, "insufficient_local_resources"),
        ({"insufficient_local_resources": "Aucune ATD dans le département."}, "fragility"),
        ({"fragility": "   ", "insufficient_local_resources": "\n"}, "__all__"),
        ({"rare_expertise": True, "national_scope": True}, "__all__"),
    ],
)
def test_escalate_needs_a_complete_justification(cast, justification, field):
    request = cast.request_in(S.IN_REVIEW)
    with pytest.raises(ValidationError) as excinfo:
        services.escalate_request(engineering_request=request, user=cast.delegate, **justification)
    assert field in excinfo.value.message_dict
    assert_unchanged(request, S.IN_REVIEW)


@pytest.mark.parametrize(
    "justification",
    [
        {"innovative_or_complex": "Premier réseau de chaleur géothermique de la vallée."},
        {
            "fragility": "Commune de 200 habitants, sans agent technique.",
            "insufficient_local_resources": "Ni ATD ni agence d'urbanisme.",
        },
    ],
)
def test_escalate_with_either_ground(cast, justification):
    request = cast.request_in(S.IN_REVIEW)
    escalated = services.escalate_request(
        engineering_request=request, user=cast.delegate, national_scope=True, **justification
    )
    assert escalated.state == S.ESCALATED
    assert escalated.national_scope is True
    assert escalated.has_valid_justification()


@pytest.mark.parametrize(
    ("decision", "field"),
    [
        ({"instrument": ""}, "instrument"),
        ({"instrument": "magic_wand"}, "instrument"),
        ({"instrument": NationalInstrument.FRAMEWORK_AGREEMENT}, "operator"),
        ({"instrument": NationalInstrument.SUBSIDY}, "amount"),
        ({"instrument": NationalInstrument.PURCHASE_ORDER, "amount": "-5"}, "amount"),
        ({"instrument": NationalInstrument.SUBSIDY, "amount": "beaucoup"}, "amount"),
        ({"instrument": NationalInstrument.SUBSIDY, "amount": "1e20"}, "amount"),
        ({"instrument": NationalInstrument.STATE_MISSION, "operator": "op"}, "operator"),
    ],
)
def test_approve_needs_instrument_operator_or_amount(cast, decision, field):
    request = cast.request_in(S.ESCALATED)
    if decision.get("operator") == "op":
        decision["operator"] = OperatorFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.approve_national_support(
            engineering_request=request, user=cast.national, **decision
        )
    assert field in excinfo.value.message_dict
    assert_unchanged(request, S.ESCALATED)


def test_approve_with_credits_records_the_amount(cast):
    request = cast.request_in(S.ESCALATED)
    approved = services.approve_national_support(
        engineering_request=request,
        user=cast.national,
        instrument=NationalInstrument.PURCHASE_ORDER,
        amount="35000.5",
        comment="Marché à bon de commande ingénierie ouvrages d'art.",
    )
    assert approved.granted_amount == pytest.approx(35000.50)
    assert approved.decided_by == cast.national
    assert "35 000,50 €" in approved.transition_logs.last().comment


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        ({"contact_name": ""}, "contact_name"),
        ({"contact_organisation": " "}, "contact_organisation"),
        ({"contact_email": ""}, "contact_email"),
        ({"contact_email": "pas-une-adresse"}, "contact_email"),
    ],
)
def test_resolve_locally_needs_the_interlocuteur_unique(cast, contact, field):
    request = cast.request_in(S.IN_REVIEW)
    values = {
        "contact_name": "Claire Martin",
        "contact_organisation": "ATD",
        "contact_email": "claire@atd.example.fr",
        **contact,
    }
    with pytest.raises(ValidationError) as excinfo:
        services.resolve_locally(engineering_request=request, user=cast.delegate, **values)
    assert field in excinfo.value.message_dict
    assert_unchanged(request, S.IN_REVIEW)


def test_resolve_locally_with_a_provider_from_the_directory(cast):
    from tests.programmes.factories import LocalProviderFactory

    provider = LocalProviderFactory(departement=cast.collectivity.departement)
    request = cast.request_in(S.IN_REVIEW)
    resolved = services.resolve_locally(
        engineering_request=request,
        user=cast.delegate,
        provider=provider,
        contact_name="",
        contact_organisation="",
        contact_email="",
    )
    assert resolved.local_provider == provider
    assert resolved.contact_organisation == provider.name
    assert resolved.contact_email == provider.email


@pytest.mark.parametrize(
    ("service", "state", "kwargs", "field"),
    [
        ("request_info", S.IN_REVIEW, {"message": "  "}, "message"),
        ("provide_info", S.INFO_REQUESTED, {"message": ""}, "message"),
        ("refer_back", S.ESCALATED, {"reason": ""}, "reason"),
        ("decline_request", S.IN_REVIEW, {"reason": ""}, "reason"),
        ("complete_request", S.LOCAL_SUPPORT, {"outcome": ""}, "outcome"),
        ("decline_request", S.IN_REVIEW, {"reason": "x" * 10_001}, "reason"),
    ],
)
def test_what_each_transition_must_carry(cast, service, state, kwargs, field):
    request = cast.request_in(state)
    user = {
        "provide_info": cast.official,
        "refer_back": cast.national,
    }.get(service, cast.delegate)
    with pytest.raises(ValidationError) as excinfo:
        getattr(services, service)(engineering_request=request, user=user, **kwargs)
    assert field in excinfo.value.message_dict
    request.refresh_from_db()
    assert request.state == state


def test_the_concurrency_guard_watches_the_state_field_only():
    # EngineeringRequest.state_fields short-cuts django-fsm-2's search through every field.
    from django_fsm import FSMFieldMixin

    request = EngineeringRequest()
    found = [f for f in EngineeringRequest._meta.fields if isinstance(f, FSMFieldMixin)]
    assert list(request.state_fields) == found
