from django.utils import translation

from engineering_requests.enums import RequestState, Transition
from engineering_requests.models import EngineeringRequest, TransitionLog


def test_state_label_in_the_active_language():
    request = EngineeringRequest(state=RequestState.INFO_REQUESTED)
    with translation.override("fr"):
        assert request.get_state_display() == "Complément demandé"
    with translation.override("en"):
        english = request.get_state_display()
    assert english != "Complément demandé"
    with translation.override("en"):
        assert english == str(RequestState.INFO_REQUESTED.label)


def test_every_state_shows_its_own_label():
    for value, label in RequestState.choices:
        assert EngineeringRequest(state=value).get_state_display() == str(label)


def test_an_unknown_value_is_shown_as_stored():
    assert EngineeringRequest(state="archived").get_state_display() == "archived"


def test_other_fields_and_models_keep_their_labels():
    log = TransitionLog(
        transition=Transition.REQUEST_INFO,
        source_state=RequestState.IN_REVIEW,
        target_state=RequestState.INFO_REQUESTED,
    )
    assert log.get_transition_display() == str(Transition.REQUEST_INFO.label)
    assert log.get_source_state_display() == str(RequestState.IN_REVIEW.label)
    assert log.get_target_state_display() == "Complément demandé"
