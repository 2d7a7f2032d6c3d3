"""The one-time form tokens (``anct_portal.services.claim_form_token``)."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from anct_portal.models import FormSubmission
from anct_portal.services import (
    KEEP_FOR,
    AlreadySubmitted,
    claim_form_token,
    new_form_token,
    record_form_result,
)
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_token_is_claimed_once_and_the_second_claim_finds_the_first_result():
    user = UserFactory()
    token = new_form_token()
    with transaction.atomic():
        submission = claim_form_token(user=user, token=token)
        record_form_result(submission, url="/demandes/7/confirmation/", object_id=7)
    stored = FormSubmission.objects.get(token=token)
    assert stored.pk == submission.pk and stored.user == user
    assert (stored.result_url, stored.object_id) == ("/demandes/7/confirmation/", 7)
    with pytest.raises(AlreadySubmitted) as again, transaction.atomic():
        claim_form_token(user=user, token=token)
    assert again.value.submission == stored
    assert FormSubmission.objects.count() == 1


def test_a_token_claimed_last_records_its_result_in_the_same_statement(
    django_assert_num_queries,
):
    user = UserFactory()
    token = new_form_token()
    with transaction.atomic(), django_assert_num_queries(1):
        submission = claim_form_token(
            user=user, token=token, url="/demandes/8/confirmation/", object_id=8
        )
    stored = FormSubmission.objects.get(token=token)
    assert stored.pk == submission.pk
    assert (stored.result_url, stored.object_id) == ("/demandes/8/confirmation/", 8)
    assert (submission.result_url, submission.object_id) == (stored.result_url, 8)
    with pytest.raises(AlreadySubmitted) as again, transaction.atomic():
        claim_form_token(user=user, token=token, url="/demandes/9/confirmation/", object_id=9)
    assert again.value.submission == stored
    assert FormSubmission.objects.get(token=token).object_id == 8


def test_someone_elses_token_is_refused_without_showing_their_result():
    token = new_form_token()
    with transaction.atomic():
        claim_form_token(user=UserFactory(), token=token)
    with pytest.raises(AlreadySubmitted) as refused, transaction.atomic():
        claim_form_token(user=UserFactory(), token=token)
    assert refused.value.submission is None


def test_a_claim_rolled_back_frees_the_token():
    user = UserFactory()
    token = new_form_token()
    with pytest.raises(RuntimeError), transaction.atomic():
        claim_form_token(user=user, token=token)
        raise RuntimeError("the action failed")
    assert not FormSubmission.objects.exists()
    with transaction.atomic():
        claim_form_token(user=user, token=token)
    assert FormSubmission.objects.filter(token=token).exists()


@pytest.mark.django_db(transaction=True)
def test_a_claim_needs_the_callers_transaction():
    with pytest.raises(RuntimeError, match="inside the caller's transaction"):
        claim_form_token(user=UserFactory(), token=new_form_token())


def test_claiming_forgets_the_users_tokens_older_than_a_week():
    user, other = UserFactory(), UserFactory()
    long_ago = timezone.now() - KEEP_FOR - datetime.timedelta(minutes=1)
    lately = timezone.now() - KEEP_FOR + datetime.timedelta(hours=1)
    old = FormSubmission.objects.create(token=new_form_token(), user=user, created_at=long_ago)
    recent = FormSubmission.objects.create(token=new_form_token(), user=user, created_at=lately)
    others = FormSubmission.objects.create(token=new_form_token(), user=other, created_at=long_ago)
    with transaction.atomic():
        claim_form_token(user=user, token=new_form_token())
    remaining = set(FormSubmission.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert {recent.pk, others.pk} <= remaining
    assert len(remaining) == 3
