"""Tokens end with the password, refresh tokens are used once even under concurrent requests, and rate limits and
lockouts count real client addresses, per user name and per address."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client as DjangoClient
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from tests.api.conftest import Api, assert_error
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "secret-pass-1"
NEW_PASSWORD = "another-pass-2"
ORDERS = "/api/orders/get/"
REFRESH = "/api/token/refresh/"


@pytest.fixture
def no_token_rate_limit(monkeypatch):
    from api.throttling import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "rate", "1000/min", raising=False)


def _login(username="manager", password=PASSWORD, **extra):
    return Api().post("/api/token/", {"username": username, "password": password}, **extra)


def _tokens(username="manager", password=PASSWORD) -> dict:
    response = _login(username, password)
    assert response.status_code == 200, response.content
    return response.json()


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def _refresh(refresh: str):
    return Api().post(REFRESH, {"refresh": refresh})


# ---------------------------------------------------------------------------
# A new password ends every token issued before it
# ---------------------------------------------------------------------------
def _by_the_model(user, superuser):
    user.set_password(NEW_PASSWORD)
    user.save()


def _by_the_admin_form(user, superuser):
    client = DjangoClient()
    client.force_login(superuser)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:2000]


def _by_the_reset_form(user, superuser):
    form = SetPasswordForm(user, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert form.is_valid(), form.errors
    form.save()


def _by_the_command(user, superuser, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", user.username, stdout=open(os.devnull, "w"))


def _by_assignment(user, superuser):
    user.password = make_password(NEW_PASSWORD)
    user.save()


PASSWORD_CHANGES = [_by_the_model, _by_the_admin_form, _by_the_reset_form, _by_the_command, _by_assignment]


@pytest.mark.django_db
@pytest.mark.parametrize("change", PASSWORD_CHANGES, ids=lambda change: change.__name__)
def test_a_new_password_ends_access_and_refresh_tokens(manager, superuser, change, monkeypatch):
    tokens = _tokens()
    other_device = _tokens()
    api = _bearer(tokens["access"])
    assert api.get(ORDERS).status_code == 200  # the user is in this worker's cache now

    if change is _by_the_command:
        change(manager, superuser, monkeypatch)
    else:
        change(manager, superuser)

    body = assert_error(api.get(ORDERS), 401)
    assert body["error"] == "Пароль пользователя был изменён."
    assert_error(_refresh(tokens["refresh"]), 401)
    assert_error(_refresh(other_device["refresh"]), 401)
    # Blacklisted too, not only refused by the password check.
    assert not OutstandingToken.objects.filter(user=manager, blacklistedtoken__isnull=True).exists()
    # The new password works, and its tokens do.
    fresh = _tokens(password=NEW_PASSWORD)
    assert _bearer(fresh["access"]).get(ORDERS).status_code == 200
    assert _refresh(fresh["refresh"]).status_code == 200


@pytest.mark.django_db
def test_a_password_changed_without_signals_still_ends_the_refresh_token(manager):
    """A bulk update sends no signal: nothing is blacklisted, the token's password digest refuses it."""
    tokens = _tokens()
    User.objects.filter(pk=manager.pk).update(password=make_password(NEW_PASSWORD))

    body = assert_error(_refresh(tokens["refresh"]), 401)
    assert body["error"] == "Пароль пользователя был изменён."


@pytest.mark.django_db
def test_other_saves_of_the_user_keep_the_tokens(manager):
    tokens = _tokens()
    manager.first_name = "Пётр"
    manager.save()
    _login()  # a login saves last_login

    assert _bearer(tokens["access"]).get(ORDERS).status_code == 200
    assert _refresh(tokens["refresh"]).status_code == 200


@pytest.mark.django_db
def test_deactivation_ends_refresh_tokens_for_good(manager):
    tokens = _tokens()
    manager.is_active = False
    manager.save()
    assert_error(_refresh(tokens["refresh"]), 401)

    manager.is_active = True
    manager.save()

    body = assert_error(_refresh(tokens["refresh"]), 401)
    assert body["error"] == "Токен занесен в черный список"


@pytest.mark.django_db
def test_refresh_token_of_a_deleted_user_is_401(manager):
    tokens = _tokens()
    manager.delete()

    assert_error(_refresh(tokens["refresh"]), 401)


@pytest.mark.django_db
def test_refresh_token_of_a_user_deleted_with_a_bulk_delete_is_401(manager):
    tokens = _tokens()
    User.objects.filter(pk=manager.pk).delete()

    assert_error(_refresh(tokens["refresh"]), 401)


# ---------------------------------------------------------------------------
# Concurrent refreshes of one refresh token: exactly one wins
# ---------------------------------------------------------------------------
def race_refreshes(refresh: str, racers: int = 8) -> list[tuple[int, dict]]:
    """POST the same refresh token from `racers` threads at once; (status, body) of each."""
    from django.db import connections

    start = threading.Barrier(racers)
    results = []

    def racer():
        client = DjangoClient()
        start.wait()
        try:
            response = client.post(REFRESH, {"refresh": refresh}, content_type="application/json")
            results.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def assert_one_winner(results: list[tuple[int, dict]], racers: int = 8) -> dict:
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * (racers - 1), statuses
    return next(body for status, body in results if status == 200)


RACE_SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
from django.test.utils import setup_test_environment
setup_test_environment()
call_command("migrate", verbosity=0)
from rest_framework_simplejwt.tokens import RefreshToken
from tests.factories import make_user
from tests.reliability.test_tokens_and_logins import race_refreshes
user = make_user("racer")
rounds = []
for _ in range(3):
    refresh = str(RefreshToken.for_user(user))
    results = race_refreshes(refresh)
    winner = next((body for status, body in results if status == 200), None)
    again = race_refreshes(winner["refresh"], racers=1) if winner else None
    rounds.append({"results": results, "winner_refresh_works": again})
print(json.dumps(rounds))
"""


@pytest.mark.slow
def test_concurrent_refreshes_of_one_token_on_a_sqlite_file_have_one_winner(tmp_path):
    """Threads of one worker on a file database, as in production (the test database is in memory)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings_test", "DJANGO_ENV_FILE": "",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}", "AXES_ENABLED": "0",
           "API_THROTTLE_TOKEN": "1000/min"}
    result = subprocess.run([sys.executable, "-c", RACE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    for race in json.loads(result.stdout.strip().splitlines()[-1]):
        assert_one_winner(race["results"])
        assert [status for status, _ in race["winner_refresh_works"]] == [200]


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_have_one_winner(no_token_rate_limit):
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory test database is shared by threads differently; see the SQLite file test")
    # A superuser: other transactional tests may have flushed the staff groups.
    make_user("racer", superuser=True)
    for _ in range(3):
        refresh = _tokens("racer")["refresh"]

        winner = assert_one_winner(race_refreshes(refresh))

        assert _bearer(winner["access"]).get(ORDERS).status_code == 200
        assert _refresh(winner["refresh"]).status_code == 200


@pytest.mark.django_db
def test_a_used_refresh_token_gives_no_second_pair(manager):
    refresh = _tokens()["refresh"]
    assert _refresh(refresh).status_code == 200

    body = assert_error(_refresh(refresh), 401)
    assert body["error"] == "Токен занесен в черный список"


# ---------------------------------------------------------------------------
# Client addresses: X-Forwarded-For only from trusted proxies
# ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_spoofed_forwarded_for_does_not_escape_the_token_rate_limit(manager):
    # A new user name each time, so that only the rate limit (with its Retry-After) can answer 429.
    responses = [
        _login(f"user{n}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n % 250}, 10.0.{n}.1") for n in range(100)
    ]

    assert [response.status_code for response in responses[:20]] == [401] * 20  # the default 20/min per address
    assert {response.status_code for response in responses[20:]} == {429}
    assert all(int(response["Retry-After"]) > 0 for response in responses[20:])


@pytest.fixture
def behind_one_proxy(settings):
    settings.PROXY_COUNT = 1


@pytest.mark.django_db
def test_behind_a_proxy_the_address_it_appended_is_the_client(manager, behind_one_proxy):
    # The proxy (REMOTE_ADDR) appends the address it saw; what the client wrote before it is not read.
    for n in range(20):
        assert _login(f"user{n}", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7").status_code == 401
    response = _login(HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert_error(response, 429)
    assert "Retry-After" in response  # the rate limit, not a lockout

    # Another client behind the same proxy has a budget of its own.
    assert _login(HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("forwarded", ["", "not-an-address", "203.0.113.7, <script>"])
def test_behind_a_proxy_a_bad_forwarded_for_falls_back_to_the_peer(manager, behind_one_proxy, forwarded):
    from api.throttling import client_address
    from django.test import RequestFactory

    request = RequestFactory().post("/api/token/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == "10.0.0.1"
    assert _login(HTTP_X_FORWARDED_FOR=forwarded).status_code == 200


@pytest.mark.django_db
def test_two_proxies_take_the_second_address_from_the_right(settings):
    from api.throttling import client_address
    from django.test import RequestFactory

    settings.PROXY_COUNT = 2
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7, 10.0.0.9")

    assert client_address(request) == "203.0.113.7"


# ---------------------------------------------------------------------------
# Lockouts (django-axes): per user name and address, and per address (password spraying)
# ---------------------------------------------------------------------------
@pytest.fixture
def lockouts(settings, no_token_rate_limit):
    """Axes on with small limits; the token rate out of the way."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_ADDRESS_FAILURE_LIMIT = 6


def test_default_limits():
    from django.conf import settings

    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_ADDRESS_FAILURE_LIMIT == 30
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def _admin_login(username, password, address="127.0.0.1", **extra):
    return DjangoClient(REMOTE_ADDR=address).post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def _api_login(username, password, address="127.0.0.1", **extra):
    api = Api()
    api.client.defaults["REMOTE_ADDR"] = address
    return api.post("/api/token/", {"username": username, "password": password}, **extra)


LOGINS = {"api": (_api_login, 401, 200), "admin": (_admin_login, 200, 302)}


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", LOGINS)
def test_password_spraying_locks_the_address_out(manager, lockouts, endpoint):
    login, refused, accepted = LOGINS[endpoint]
    make_user("sprayer")  # the attacker's own account: its success must not reset the address's failures
    statuses = []
    for n in range(6):
        statuses.append(login(f"user{n}", "Summer2024!").status_code)
        if n == 2:
            assert login("sprayer", PASSWORD).status_code == accepted
    assert statuses == [refused] * 5 + [429]

    # Every user name from that address is refused now, even with the right password.
    assert login("manager", PASSWORD).status_code == 429
    # Other addresses are not.
    assert login("manager", PASSWORD, address="10.0.0.2").status_code == accepted


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", LOGINS)
def test_one_user_name_locks_out_at_its_own_lower_limit(manager, viewer, lockouts, endpoint):
    login, refused, accepted = LOGINS[endpoint]
    statuses = [login("manager", "wrong").status_code for _ in range(3)]

    assert statuses == [refused, refused, 429]
    assert login("manager", PASSWORD).status_code == 429
    assert login("viewer", PASSWORD).status_code == accepted  # the address is still below its limit


@pytest.mark.django_db
def test_failures_older_than_the_cool_off_do_not_count(manager, lockouts):
    from datetime import timedelta

    for n in range(5):
        _api_login(f"user{n}", "wrong")
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(minutes=16))

    assert _api_login("user5", "wrong").status_code == 401
    assert _api_login("manager", PASSWORD).status_code == 200


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_does_not_escape_a_lockout(manager, lockouts):
    statuses = [
        _api_login("manager", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(4)
    ]

    assert statuses == [401, 401, 429, 429]
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}
