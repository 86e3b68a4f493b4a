"""The API keeps each token's user, with permissions, for API_USER_CACHE_SECONDS in the worker; changes made in
this process drop it at once (signals), changes made by other workers show after the seconds run out."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission, User
from rest_framework_simplejwt.tokens import AccessToken

from api import authentication
from tests.api.conftest import Api, assert_error

pytestmark = pytest.mark.django_db

ORDERS = "/api/orders/get/"


@pytest.fixture
def cache_on(settings):
    settings.API_USER_CACHE_SECONDS = 5


@pytest.fixture
def clock(monkeypatch):
    """The authentication module's monotonic clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(authentication, "monotonic", lambda: now[0])
    return now


def test_second_request_costs_only_the_page_query(cache_on, manager_api, django_assert_num_queries):
    # First: the user, the user's and the group's permissions, the page.
    with django_assert_num_queries(4):
        assert manager_api.get(ORDERS).status_code == 200

    # Then: the page alone, no user lookup and no permission queries.
    with django_assert_num_queries(1):
        assert manager_api.get(ORDERS).status_code == 200
    with django_assert_num_queries(1):
        assert manager_api.post("/api/clients/get/").status_code == 200


def test_cache_off_looks_the_user_up_on_every_request(settings, manager_api, django_assert_num_queries):
    settings.API_USER_CACHE_SECONDS = 0

    for _ in range(2):
        with django_assert_num_queries(4):
            assert manager_api.get(ORDERS).status_code == 200
    assert authentication._users == {}


def test_each_request_gets_its_own_copy_of_the_user(cache_on, manager):
    token = AccessToken.for_user(manager)
    authentication.JWTAuthentication().get_user(token)  # puts the user in the cache
    first = authentication.JWTAuthentication().get_user(token)
    first.set_by_a_request = True

    second = authentication.JWTAuthentication().get_user(token)

    assert second is not first
    assert second.pk == manager.pk
    assert not hasattr(second, "set_by_a_request")


def test_deactivating_the_user_locks_them_out_on_the_next_request(cache_on, manager, manager_api):
    assert manager_api.get(ORDERS).status_code == 200
    manager.is_active = False
    manager.save()

    body = assert_error(manager_api.get(ORDERS), 401)
    assert body["error"] == "Пользователь неактивен"


def test_deleting_the_user_locks_them_out_on_the_next_request(cache_on, manager, manager_api):
    assert manager_api.get(ORDERS).status_code == 200
    manager.delete()

    assert_error(manager_api.get(ORDERS), 401)


@pytest.mark.parametrize("side", ["user", "group"])
def test_leaving_the_group_is_403_on_the_next_request(cache_on, manager, manager_api, side):
    assert manager_api.get(ORDERS).status_code == 200
    managers = Group.objects.get(name="Managers")
    if side == "user":
        manager.groups.remove(managers)
    else:
        managers.user_set.remove(manager)

    assert_error(manager_api.get(ORDERS), 403)


def test_a_permission_taken_from_the_group_is_403_on_the_next_request(cache_on, manager_api):
    assert manager_api.get(ORDERS).status_code == 200
    view_order = Permission.objects.get(content_type__app_label="crm", codename="view_order")
    Group.objects.get(name="Managers").permissions.remove(view_order)

    assert_error(manager_api.get(ORDERS), 403)
    assert manager_api.get("/api/clients/get/").status_code == 200


def test_a_permission_given_to_the_user_works_on_the_next_request(cache_on, nobody, nobody_api):
    assert_error(nobody_api.get(ORDERS), 403)
    nobody.user_permissions.add(Permission.objects.get(content_type__app_label="crm", codename="view_order"))

    assert nobody_api.get(ORDERS).status_code == 200


def test_a_password_change_rejects_the_old_access_token_on_the_next_request(cache_on, manager, manager_api):
    """CHECK_REVOKE_TOKEN: the token carries a digest of the password hash; the cached user is dropped by the save."""
    assert manager_api.get(ORDERS).status_code == 200
    manager.set_password("another-pass-2")
    manager.save()

    body = assert_error(manager_api.get(ORDERS), 401)
    assert body["error"] == "Пароль пользователя был изменён."


def test_a_password_change_in_another_worker_rejects_the_old_token_when_the_entry_expires(
    cache_on, clock, manager, manager_api
):
    from django.contrib.auth.hashers import make_password

    assert manager_api.get(ORDERS).status_code == 200
    User.objects.filter(pk=manager.pk).update(password=make_password("another-pass-2"))  # no signal here

    clock[0] += 4.9
    assert manager_api.get(ORDERS).status_code == 200
    clock[0] += 0.2
    assert_error(manager_api.get(ORDERS), 401)


def test_change_from_another_worker_shows_when_the_entry_expires(cache_on, clock, manager, manager_api):
    assert manager_api.get(ORDERS).status_code == 200
    # Another worker's change: no signals reach this process.
    User.objects.filter(pk=manager.pk).update(is_active=False)

    clock[0] += 4.9
    assert manager_api.get(ORDERS).status_code == 200

    clock[0] += 0.2
    assert_error(manager_api.get(ORDERS), 401)


def test_cache_is_emptied_when_it_is_full(cache_on, manager, viewer, monkeypatch):
    monkeypatch.setattr(authentication, "_USERS_MAX", 1)
    manager_api, viewer_api = Api(manager), Api(viewer)
    manager_api.get(ORDERS)
    viewer_api.get(ORDERS)

    assert list(authentication._users) == [viewer.pk]


def test_a_login_elsewhere_keeps_the_cache(cache_on, manager_api, manager, django_assert_num_queries):
    """Every login saves last_login; that alone must not drop every cached user of the worker."""
    from django.contrib.auth.models import update_last_login

    assert manager_api.get(ORDERS).status_code == 200
    update_last_login(None, manager)
    with django_assert_num_queries(1):
        assert manager_api.get(ORDERS).status_code == 200
    manager.first_name = "Пётр"
    manager.save()  # any other save still drops it
    assert authentication._users == {}


# ---------------------------------------------------------------------------
# Verified tokens
# ---------------------------------------------------------------------------
@pytest.fixture
def decodes(monkeypatch):
    """How many times simplejwt verified a token's signature and claims."""
    from rest_framework_simplejwt.backends import TokenBackend

    count = []
    decode = TokenBackend.decode
    monkeypatch.setattr(TokenBackend, "decode", lambda self, *args, **kwargs: count.append(1) or decode(
        self, *args, **kwargs))
    return count


def test_a_token_is_verified_once_per_worker(cache_on, manager_api, decodes):
    for _ in range(3):
        assert manager_api.get(ORDERS).status_code == 200
    assert len(decodes) == 1


def test_a_kept_token_is_refused_once_it_expires(cache_on, manager, monkeypatch, decodes):
    token = AccessToken.for_user(manager)
    api = Api()
    api.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get(ORDERS).status_code == 200

    expiry = token["exp"]
    monkeypatch.setattr(authentication, "time", lambda: expiry + 1)
    from rest_framework_simplejwt import tokens
    monkeypatch.setattr(tokens, "aware_utcnow", lambda: datetime.datetime.fromtimestamp(expiry + 1, datetime.UTC))

    refused = assert_error(api.get(ORDERS), 401)
    authentication.clear_user_cache()
    assert assert_error(api.get(ORDERS), 401) == refused  # what a worker that never saw the token says


def test_a_changed_token_is_verified_again_and_refused(cache_on, manager_api, decodes):
    assert manager_api.get(ORDERS).status_code == 200
    header = manager_api.client._credentials["HTTP_AUTHORIZATION"]
    manager_api.client.credentials(HTTP_AUTHORIZATION=header[:-2] + ("AA" if header[-2:] != "AA" else "BB"))
    assert_error(manager_api.get(ORDERS), 401)
    assert len(decodes) == 2


def test_clearing_the_user_cache_forgets_verified_tokens(cache_on, manager_api, decodes):
    manager_api.get(ORDERS)
    authentication.clear_user_cache()
    manager_api.get(ORDERS)
    assert len(decodes) == 2
