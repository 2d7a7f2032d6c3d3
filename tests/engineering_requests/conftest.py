import pytest

from tests.engineering_requests.factories import Cast


@pytest.fixture
def cast(db):
    return Cast.create()


@pytest.fixture
def official_client(client, cast):
    """A browser signed in as the cast's official."""
    client.force_login(cast.official)
    return client
