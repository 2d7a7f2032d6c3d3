import pytest

from tests.engineering_requests.factories import Cast


@pytest.fixture
def cast(db):
    return Cast.create()
