"""JWT login and refresh, sessions, django-axes lockouts and throttling."""

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import Api, assert_error
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-1"


def _obtain(api: Api, username="manager", password=PASSWORD, *, form=False):
    return api.post("/api/token/", {"username": username, "password": password}, form=form)


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_login_answers_access_then_refresh(manager, anonymous_api, form):
    response = _obtain(anonymous_api, form=form)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["access", "refresh"]
    assert all(isinstance(token, str) and token.count(".") == 2 for token in body.values())


def test_access_token_opens_the_api(manager):
    tokens = _obtain(Api()).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    response = client.get("/api/clients/get/")

    assert response.status_code == 200
    assert response.json() == {"clients": []}


@pytest.mark.parametrize("username, password", [("manager", "wrong"), ("ghost", PASSWORD)])
def test_wrong_credentials_are_401_envelope(manager, anonymous_api, username, password):
    assert_error(_obtain(anonymous_api, username, password), 401)


def test_inactive_user_cannot_log_in(manager, anonymous_api):
    manager.is_active = False
    manager.save()

    assert_error(_obtain(anonymous_api), 401)


@pytest.mark.parametrize("body", [{}, {"username": "manager"}, {"password": PASSWORD}])
def test_missing_credentials_are_400_naming_the_field(manager, anonymous_api, body):
    response = anonymous_api.post("/api/token/", body)

    body_fields = {"username", "password"} - set(body)
    assert_error(response, 400, *body_fields)


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_refresh_answers_both_tokens_and_rotates(manager, anonymous_api, form):
    first = _obtain(anonymous_api).json()

    response = anonymous_api.post("/api/token/refresh/", {"refresh": first["refresh"]}, form=form)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != first["refresh"]
    # The mobile app parses this with the login response's class: both tokens must work.
    again = anonymous_api.post("/api/token/refresh/", {"refresh": body["refresh"]})
    assert again.status_code == 200


def test_used_refresh_token_is_refused(manager, anonymous_api):
    refresh = _obtain(anonymous_api).json()["refresh"]
    assert anonymous_api.post("/api/token/refresh/", {"refresh": refresh}).status_code == 200

    assert_error(anonymous_api.post("/api/token/refresh/", {"refresh": refresh}), 401)


@pytest.mark.parametrize("refresh", ["garbage", "a.b.c", ""])
def test_bad_refresh_token_is_refused(anonymous_api, refresh):
    response = anonymous_api.post("/api/token/refresh/", {"refresh": refresh})

    assert response.status_code in (400, 401)
    assert_error(response, response.status_code)


def test_access_token_is_not_a_refresh_token(manager, anonymous_api):
    access = _obtain(anonymous_api).json()["access"]

    assert_error(anonymous_api.post("/api/token/refresh/", {"refresh": access}), 401)


def test_refresh_token_is_not_an_access_token(manager):
    refresh = _obtain(Api()).json()["refresh"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh}")

    assert_error(client.get("/api/clients/get/"), 401)


def test_access_token_stops_working_when_the_user_is_deactivated(manager, manager_api):
    assert manager_api.get("/api/clients/get/").status_code == 200
    manager.is_active = False
    manager.save()

    body = assert_error(manager_api.get("/api/clients/get/"), 401)
    assert body["error"] == "Пользователь неактивен"


def test_access_token_of_a_deleted_user_is_401(manager, manager_api):
    manager.delete()

    assert_error(manager_api.get("/api/orders/get/"), 401)


def test_access_token_user_lookup_is_one_query(manager_api, django_assert_num_queries):
    """The token's user is read with one query; the list and the permissions (two) add the rest."""
    with django_assert_num_queries(4):
        assert manager_api.get("/api/orders/get/").status_code == 200


@pytest.mark.parametrize("header", ["Bearer", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer a b"])
def test_malformed_authorization_header_is_401(manager, header):
    client = APIClient()

    response = client.get("/api/clients/get/", HTTP_AUTHORIZATION=header)

    assert_error(response, 401)


def test_admin_session_authenticates(manager):
    client = APIClient()
    client.force_login(manager)

    response = client.post("/api/clients/get/", {}, format="json")

    assert response.status_code == 200
    assert response.json() == {"clients": []}


def test_session_writes_need_the_csrf_token(manager):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post("/api/clients/add/", {"first_name": "Иван", "last_name": "Иванов",
                                                  "email": "i@example.com"}, format="json")

    assert_error(response, 403)


# ---------------------------------------------------------------------------
# django-axes: repeated failed logins lock the user name out for this address with a 429 envelope.
# ---------------------------------------------------------------------------
@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "token": "1000/min"},
    }


def test_repeated_failed_logins_lock_out_with_429_envelope(manager, anonymous_api, axes_on):
    statuses = [_obtain(anonymous_api, password="wrong").status_code for _ in range(3)]
    assert statuses[:2] == [401, 401]

    # Even the right password is refused while locked out, with JSON, never a 500 or HTML.
    body = assert_error(_obtain(anonymous_api), 429)
    assert "access" not in body
    assert statuses[2] == 429


def test_lockout_is_per_user_name(manager, viewer, anonymous_api, axes_on):
    for _ in range(3):
        _obtain(anonymous_api, password="wrong")

    assert _obtain(anonymous_api, "viewer").status_code == 200


def test_successful_login_resets_the_failures(manager, anonymous_api, axes_on):
    for _ in range(2):
        _obtain(anonymous_api, password="wrong")
    assert _obtain(anonymous_api).status_code == 200

    assert _obtain(anonymous_api, password="wrong").status_code == 401
    assert _obtain(anonymous_api).status_code == 200


# ---------------------------------------------------------------------------
# Throttling
# ---------------------------------------------------------------------------
@pytest.fixture
def low_rates(settings):
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/min", "user": "4/min"},
    }
    # SimpleRateThrottle reads its rates once at import: point it at the new settings.
    from rest_framework import throttling

    original = throttling.SimpleRateThrottle.THROTTLE_RATES
    throttling.SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    yield
    throttling.SimpleRateThrottle.THROTTLE_RATES = original


def test_token_endpoint_is_throttled_per_address(manager, anonymous_api, low_rates):
    for _ in range(3):
        assert _obtain(anonymous_api, password="wrong").status_code == 401

    response = _obtain(anonymous_api)

    assert_error(response, 429)
    assert int(response["Retry-After"]) > 0
    # Another address is not affected.
    other = Api()
    other.client.defaults["REMOTE_ADDR"] = "10.0.0.2"
    assert _obtain(other).status_code == 200


def test_refresh_shares_the_token_rate(manager, anonymous_api, low_rates):
    refresh = _obtain(anonymous_api).json()["refresh"]
    for _ in range(2):
        refresh = anonymous_api.post("/api/token/refresh/", {"refresh": refresh}).json()["refresh"]

    assert_error(anonymous_api.post("/api/token/refresh/", {"refresh": refresh}), 429)


def test_authenticated_user_is_throttled(manager, viewer, low_rates):
    api = Api(manager)
    for _ in range(4):
        assert api.get("/api/clients/get/").status_code == 200

    response = api.post("/api/clients/get/")

    assert_error(response, 429)
    assert "Retry-After" in response
    # Another user has a budget of their own.
    assert Api(viewer).get("/api/clients/get/").status_code == 200


def test_new_user_login_is_not_blocked_by_another_users_throttle(low_rates):
    make_user("someone", group="Managers")
    assert _obtain(Api(), "someone").status_code == 200
