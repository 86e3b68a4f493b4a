"""Input that Python's JSON decoder accepts but nothing after it can handle: deep nesting and unpaired surrogates.
Every endpoint that reads a body answers 400 with the envelope, never a 500, and changes nothing."""

import json

import pytest

from tests.api.conftest import Api, assert_error, database_snapshot
from tests.api.test_null_characters import CLIENT, TEXT_INPUTS
from tests.factories import ClientFactory, OrderFactory, make_user

pytestmark = pytest.mark.django_db

# Every body the API reads: the anonymous token endpoints, then the same table as the NUL-character tests.
BODIES = [
    ("/api/token/", {"username": "manager", "password": "secret-pass-1"}, ["username", "password"]),
    ("/api/token/refresh/", {"refresh": "{refresh}"}, ["refresh"]),
    *TEXT_INPUTS,
]
FIELDS = [(path, body, field) for path, body, fields in BODIES for field in fields]
PATHS = [path for path, _, _ in BODIES]
ANONYMOUS = ("/api/token/", "/api/token/refresh/")


@pytest.fixture
def ids(manager):
    from rest_framework_simplejwt.tokens import RefreshToken

    client = ClientFactory(email="taken@example.com")
    refresh = str(RefreshToken.for_user(manager))
    return {"client": client.pk, "order": OrderFactory(client=client).pk, "refresh": refresh}


@pytest.fixture
def no_axes(settings):
    settings.AXES_ENABLED = False


def _api(path, manager):
    return Api() if path in ANONYMOUS else Api(manager)


def _filled(body: dict, ids: dict) -> dict:
    return {key: value.format(**ids) for key, value in body.items()}


# ---------------------------------------------------------------------------
# Unpaired surrogates ("\ud800" as a JSON escape): no UTF-8 encoder takes them, neither the database nor the response
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("spoiled", ["\ud800", "Ив\udc00ан", "\udfff", "ok\ud83d"],
                         ids=["alone", "inside", "low", "half-pair"])
@pytest.mark.parametrize("path, body, field", FIELDS, ids=[f"{p} {f}" for p, _, f in FIELDS])
def test_an_unpaired_surrogate_in_any_field_is_400_naming_it(manager, ids, no_axes, path, body, field, spoiled):
    before = database_snapshot()
    body = {**_filled(body, ids), field: spoiled}

    response = _api(path, manager).post(path.format(**ids), body)

    errors = assert_error(response, 400, field)["errors"]
    assert errors[field] == ["Содержит недопустимый символ (непарный суррогат UTF-16, \\ud800-\\udfff)."]
    assert database_snapshot() == before


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("where", ["key", "nested value", "unknown field", "top-level string"])
def test_an_unpaired_surrogate_anywhere_in_the_body_is_400(manager, ids, no_axes, path, where):
    body = {
        "key": {"\ud800": "x"},
        "nested value": {"search": ["a", {"b": "\ud800"}]},
        "unknown field": {"comment": "\ud800"},
        "top-level string": "\ud800",
    }[where]

    assert_error(_api(path, manager).post(path.format(**ids), body), 400)


def test_a_surrogate_pair_is_one_character_and_welcome(manager):
    response = Api(manager).post("/api/clients/add/", {**CLIENT, "first_name": "Иван \ud83d\ude00"})

    assert response.status_code == 200, response.content
    from crm.models import Client

    assert Client.objects.get(pk=response.json()["id"]).first_name == "Иван 😀"


@pytest.mark.parametrize("path, field", [("/api/clients/get/", "status"), ("/api/orders/get/", "order_by"),
                                         ("/api/reports/new/", "period")])
def test_invalid_utf8_in_a_form_body_is_never_a_500(manager, path, field):
    # Django decodes form bodies with replacement characters; the value is then an ordinary bad value.
    response = Api(manager).client.generic("POST", path, f"{field}=%ED%A0%80",
                                           content_type="application/x-www-form-urlencoded")

    assert_error(response, 400, field)


@pytest.mark.parametrize("path", ["/api/clients/get/", "/api/orders/get/"])
def test_invalid_utf8_in_a_query_string_is_never_a_500(manager, path):
    for query in ("search=%ED%A0%80", "status=%ED%A0%80", "order_by=%ED%A0%80"):
        response = Api(manager).client.get(f"{path}?{query}")
        assert response.status_code in (200, 400), (query, response.status_code)


# ---------------------------------------------------------------------------
# Deep nesting: a RecursionError in the decoder, or in anything that walks the value later
# ---------------------------------------------------------------------------
def _nested_lists(depth: int) -> str:
    return "[" * depth + "]" * depth


def _nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


DEEP_BODIES = {
    "lists 100000": _nested_lists(100_000),
    "objects 100000": _nested_objects(100_000),
    "lists 900 in a field": '{"status": ' + _nested_lists(900) + ', "search": "a", "period": "week"}',
    "objects 900 in a field": '{"username": ' + _nested_objects(900) + ', "password": "x", "refresh": "x"}',
    "33 levels": _nested_lists(33),
}


@pytest.mark.parametrize("kind", DEEP_BODIES)
@pytest.mark.parametrize("path", PATHS)
def test_a_deeply_nested_body_is_400(manager, ids, no_axes, path, kind):
    before = database_snapshot()

    response = _api(path, manager).post_raw(path.format(**ids), DEEP_BODIES[kind])

    body = assert_error(response, 400)
    assert body["error"] == "Тело JSON слишком глубоко вложено."
    assert database_snapshot() == before


def test_nesting_up_to_the_limit_is_an_ordinary_bad_value(manager):
    response = Api(manager).post_raw("/api/clients/get/", json.dumps({"status": json.loads(_nested_lists(31))}))

    assert_error(response, 400, "status")


def test_anonymous_deep_body_on_a_protected_endpoint_is_401(db):
    assert_error(Api().post_raw("/api/clients/add/", _nested_lists(100_000)), 401)


def test_an_admin_session_with_a_deep_body_is_400(manager):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(make_user("admin-session", group="Managers"))

    response = client.generic("POST", "/api/clients/get/", _nested_lists(100_000), content_type="application/json")

    assert_error(response, 400)
