"""The officials' forms and the admin's workflow forms under hostile input (hypothesis).

Whatever is posted: never a server error; a form shown again with its errors means nothing
was created nor changed (rows and the request's state counted before and after); what was
typed comes back escaped. Examples are bounded (``tests.fuzz.FUZZ``).
"""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from anct_portal.services import new_form_token
from engineering_requests.enums import EngineeringKind, RequestState
from engineering_requests.models import (
    Attachment,
    EngineeringRequest,
    RequestMessage,
    TransitionLog,
)
from notifications.models import Notification
from programmes.enums import InterventionForm, NationalInstrument
from tests.engineering_requests.factories import Cast
from tests.fuzz import FUZZ, assert_safe_page, field, hostile_text, post_data, rolled_back
from tests.programmes.factories import OperatorFactory, PriorityDomainFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    return Cast.create()


@pytest.fixture
def info_requested(cast):
    return cast.request_in(RequestState.INFO_REQUESTED)


@pytest.fixture
def in_review(cast):
    return cast.request_in(RequestState.IN_REVIEW)


@pytest.fixture
def submitted(cast):
    return cast.request_in(RequestState.SUBMITTED)


@pytest.fixture
def domain(db):
    return PriorityDomainFactory(code="ouvrages", name="Ouvrages d'art")


def snapshot(engineering_request=None) -> tuple:
    counts = tuple(
        model.objects.count()
        for model in (EngineeringRequest, RequestMessage, Attachment, TransitionLog, Notification)
    )
    if engineering_request is None:
        return counts
    row = EngineeringRequest.objects.filter(pk=engineering_request.pk).values().get()
    return counts, row


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def check(client, url, data, engineering_request=None, *, shown_again_means_unchanged=True):
    before = snapshot(engineering_request)
    with rolled_back():
        response = client.post(url, data)
        assert_safe_page(response, data)
        if response.status_code == 200 and shown_again_means_unchanged:
            assert snapshot(engineering_request) == before, "a refused form changed something"
        if response.status_code == 302 and engineering_request is not None:
            # Whatever changed is shown escaped on the request page.
            page = client.get(engineering_request.get_absolute_url())
            assert_safe_page(page, data)
    return response


token = st.one_of(st.builds(new_form_token), hostile_text, st.none())
seen = st.one_of(st.sampled_from(RequestState.values), hostile_text, st.none())


# The official's forms --------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_new_request_form_save_and_submit(cast, domain, data):
    client = signed_in(cast.official)
    values = data.draw(
        st.fixed_dictionaries(
            {
                "form_token": token,
                "collectivity": field(st.just(str(cast.collectivity.pk))),
                "title": field(st.text(max_size=60)),
                "description": field(st.text(max_size=200)),
                "need": field(st.text(max_size=200)),
                "engineering_kind": field(st.sampled_from(EngineeringKind.values)),
                "intervention_form": field(st.sampled_from(InterventionForm.values)),
                "programme": field(st.integers(-(2**63), 2**63).map(str)),
                "contract": field(st.integers(-5, 10**12).map(str)),
                "domains": field(st.lists(st.just(str(domain.pk)) | hostile_text, max_size=3)),
                "estimated_budget": field(
                    st.sampled_from(["250 000", "1 200 000 €", "12,50", "1e9", "-3"])
                ),
                "desired_start": field(
                    st.dates().map(lambda d: d.isoformat()) | st.just("15/09/2026")
                ),
                "action": field(st.sampled_from(["save", "submit"])),
            }
        )
    )
    values = post_data(values)
    before = snapshot()
    with rolled_back():
        response = client.post(reverse("engineering_requests:create"), values)
        assert_safe_page(response, values)
        if response.status_code == 200:
            notices = [str(m) for m in response.context["messages"]]
            if not any("brouillon est enregistré" in n for n in notices):
                assert snapshot() == before, "a refused form created something"
        else:
            assert response.status_code == 302
            created = EngineeringRequest.objects.order_by("-pk").first()
            assert created.collectivity_id == cast.collectivity.pk
            page = client.get(reverse("engineering_requests:edit", args=[created.pk]))
            assert_safe_page(page, values)


@FUZZ
@given(data=st.data())
def test_provide_info_form(cast, info_requested, data):
    request = info_requested
    values = post_data(
        data.draw(
            st.fixed_dictionaries(
                {"form_token": token, "seen_state": seen, "message": field(st.text(max_size=80))}
            )
        )
    )
    url = reverse("engineering_requests:provide_info", args=[request.pk])
    check(signed_in(cast.official), url, values, request)


@FUZZ
@given(data=st.data())
def test_message_form(cast, in_review, data):
    request = in_review
    values = post_data(
        data.draw(st.fixed_dictionaries({"form_token": token, "body": field(st.text())}))
    )
    url = reverse("engineering_requests:message", args=[request.pk])
    check(signed_in(cast.official), url, values, request)


@FUZZ
@given(data=st.data())
def test_withdraw_form(cast, submitted, data):
    request = submitted
    values = post_data(
        data.draw(
            st.fixed_dictionaries(
                {
                    "form_token": token,
                    "seen_state": seen,
                    "reason": field(st.text(max_size=80)),
                    "confirm": field(st.sampled_from(["on", "true"])),
                }
            )
        )
    )
    url = reverse("engineering_requests:withdraw", args=[request.pk])
    check(signed_in(cast.official), url, values, request)


# The admin's workflow forms ---------------------------------------------------------------------

ADMIN_FORMS = {
    # transition: (state of the request, who acts, fields → valid values)
    "request_info": (RequestState.IN_REVIEW, "delegate", {"message": st.text(min_size=1)}),
    "resolve_locally": (
        RequestState.IN_REVIEW,
        "delegate",
        {
            "contact_name": st.text(min_size=1, max_size=40),
            "contact_organisation": st.text(min_size=1, max_size=40),
            "contact_email": st.emails(),
            "comment": st.text(max_size=40),
            "provider": st.integers(-10, 10**10).map(str),
        },
    ),
    "escalate": (
        RequestState.IN_REVIEW,
        "delegate",
        {
            "fragility": st.text(max_size=60),
            "insufficient_local_resources": st.text(max_size=60),
            "innovative_or_complex": st.text(max_size=60),
            "rare_expertise": st.sampled_from(["on", "1"]),
            "national_scope": st.sampled_from(["on", "0"]),
        },
    ),
    "decline": (RequestState.IN_REVIEW, "delegate", {"reason": st.text(min_size=1)}),
    "approve_national": (
        RequestState.ESCALATED,
        "national",
        {
            "instrument": st.sampled_from(NationalInstrument.values),
            "operator": st.just("operator"),  # replaced by the operator's pk
            "amount": st.sampled_from(["15000", "15 000,50", "-1", "1e12", "NaN", "0"]),
            "comment": st.text(max_size=40),
        },
    ),
    "refer_back": (RequestState.ESCALATED, "national", {"reason": st.text(min_size=1)}),
    "complete": (RequestState.LOCAL_SUPPORT, "delegate", {"outcome": st.text(min_size=1)}),
}


@pytest.mark.parametrize("transition", list(ADMIN_FORMS))
def test_admin_transition_forms(cast, transition):
    state, actor, fields = ADMIN_FORMS[transition]
    request = cast.request_in(state)
    operator = OperatorFactory()
    client = signed_in(getattr(cast, actor))
    url = reverse(
        "admin:engineering_requests_engineeringrequest_transition", args=[request.pk, transition]
    )
    strategies = {name: field(valid) for name, valid in fields.items()}
    strategies["seen_state"] = st.one_of(st.just(state), seen)

    @FUZZ
    @given(values=st.fixed_dictionaries(strategies))
    def run(values):
        values = post_data(values)
        if values.get("operator") == "operator":
            values["operator"] = str(operator.pk)
        response = check(client, url, values, request)
        if response.status_code == 302:
            # Either done or refused with a message; never a change to another request.
            assert response.url.endswith(
                reverse("admin:engineering_requests_engineeringrequest_change", args=[request.pk])
            )

    run()
