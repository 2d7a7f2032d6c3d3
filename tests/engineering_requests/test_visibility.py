"""``permissions.can_view`` (one loaded request, used by the request page and the services) and
``selectors.visible_to`` (querysets) must say the same thing for every role and state."""

from engineering_requests import permissions, selectors
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from tests.accounts.factories import UserFactory

STATES = [S.DRAFT, S.SUBMITTED, S.INFO_REQUESTED, S.LOCAL_SUPPORT, S.ESCALATED, S.WITHDRAWN]


def test_can_view_mirrors_visible_to(cast):
    requests = [cast.request_in(state) for state in STATES]
    # The local contact is named on the local-support one (as the service stores it:
    # lowercased); a draft naming them stays the collectivité's own.
    draft = cast.draft()
    EngineeringRequest.objects.filter(pk=draft.pk).update(contact_email=cast.contact.email)
    draft.refresh_from_db()
    requests.append(draft)
    inactive = UserFactory(is_active=False)
    people = [
        cast.official,
        cast.colleague,
        cast.other_official,
        cast.delegate,
        cast.other_delegate,
        cast.national,
        cast.contact,
        cast.nobody,
        inactive,
    ]
    seen = 0
    for user in people:
        visible = set(selectors.visible_to(user).values_list("pk", flat=True))
        for request in requests:
            expected = request.pk in visible
            assert permissions.can_view(request, user) is expected, (user, request.state)
            seen += expected
    assert seen > len(requests)  # the case is not empty: several people see several requests


def test_the_request_page_answers_404_alike_for_unseen_and_missing(client, cast):
    draft = cast.draft()
    client.force_login(cast.delegate)  # a delegate never sees a draft
    unseen = client.get(f"/demandes/{draft.pk}/")
    missing = client.get(f"/demandes/{draft.pk + 1000}/")
    assert unseen.status_code == missing.status_code == 404
