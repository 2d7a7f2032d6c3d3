"""``url_around``: one reverse() for URLs that differ by one integer, the same URLs as reverse()."""

import pytest
from django.urls import reverse

from anct_portal.reversing import url_around


@pytest.mark.parametrize("request_pk", [1, 42, 987654321, 9876543210])
def test_the_urls_are_those_reverse_gives(request_pk):
    start, end = url_around("engineering_requests:attachment", "attachment_pk", pk=request_pk)
    for attachment_pk in (1, 7, 987654321, 123456):
        expected = reverse(
            "engineering_requests:attachment",
            kwargs={"pk": request_pk, "attachment_pk": attachment_pk},
        )
        assert f"{start}{attachment_pk}{end}" == expected
    start, end = url_around("engineering_requests:detail", "pk")
    assert f"{start}{request_pk}{end}" == reverse("engineering_requests:detail", args=[request_pk])
