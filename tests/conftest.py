import pytest

from api.authentication import clear_user_cache
from crm.paging import clear_compiled_pages
from tests.factories import make_user


@pytest.fixture(autouse=True)
def _fresh_api_user_cache():
    """The API's per-worker user cache outlives a test's rolled-back rows: every test starts with none."""
    clear_user_cache()
    yield
    clear_user_cache()


@pytest.fixture(autouse=True)
def _fresh_compiled_pages():
    """A page's SQL compiled in an earlier test (crm.paging.page_rows) would skip a test's patched selector."""
    clear_compiled_pages()
    yield
    clear_compiled_pages()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits, django-axes and unfold's search keep state in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


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
