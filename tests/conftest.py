import pytest

from tests.factories import make_user


@pytest.fixture
def manager(db):
    return make_user("manager", group="Managers")


@pytest.fixture
def viewer(db):
    return make_user("viewer", group="Viewers")


@pytest.fixture
def superuser(db):
    return make_user("root", superuser=True)


@pytest.fixture
def nobody(db):
    """A logged-in user with no group and no permissions."""
    return make_user("nobody")
