"""A NUL character (\\x00) in any text input is a 400 envelope naming the field, before any query:
PostgreSQL can neither store nor search it (it would be a 500), so every database answers the same."""

import pytest
from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import translation

from tests.api.conftest import Api, assert_error, database_snapshot
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

CLIENT = {"first_name": "Иван", "last_name": "Иванов", "email": "new@example.com", "middle_name": "Иванович",
          "mobile_phone": "+79001234567"}
ORDER = {"client": "{client}", "product": "Ноутбук", "quantity": "2", "price": "1500.00", "description": "Заказ"}

# (path, the valid body a NUL is put into, the fields to try one at a time)
TEXT_INPUTS = [
    ("/api/clients/add/", CLIENT, list(CLIENT)),
    ("/api/clients/edit/{client}/", CLIENT, list(CLIENT)),
    ("/api/clients/get/", {"search": "Иван", "status": "all", "order_by": "-id", "start_id": "0"},
     ["search", "status", "order_by", "start_id"]),
    ("/api/orders/add/", ORDER, list(ORDER)),
    ("/api/orders/edit/{order}/", {**ORDER, "client_id": "{client}", "status": "Completed"},
     [*ORDER, "client_id", "status"]),
    ("/api/orders/get/", {"search": "ноутбук", "status": "Pending", "order_by": "-id", "client_id": "{client}",
                          "start_id": "0"},
     ["search", "status", "order_by", "client_id", "start_id"]),
    ("/api/reports/new/", {"period": "week"}, ["period"]),
]
CASES = [(path, body, field) for path, body, fields in TEXT_INPUTS for field in fields]
CASE_IDS = [f"{path} {field}" for path, body, field in CASES]
LISTS = [case for case in CASES if case[0].endswith("/get/")]


@pytest.fixture
def existing(db):
    client = ClientFactory(email="taken@example.com")
    return {"client": client.pk, "order": OrderFactory(client=client).pk}


def _with_nul(body: dict, field: str, ids: dict) -> dict:
    body = {key: value.format(**ids) for key, value in body.items()}
    value = body[field]
    body[field] = value[:1] + "\x00" + value[1:]
    return body


@pytest.mark.parametrize("kind", ["json", "form", "multipart"])
@pytest.mark.parametrize("path, body, field", CASES, ids=CASE_IDS)
def test_nul_in_a_text_input_is_400_naming_the_field(manager_api, existing, path, body, field, kind):
    before = database_snapshot()

    response = manager_api.post(path.format(**existing), _with_nul(body, field, existing),
                                form=kind == "form", multipart=kind == "multipart")

    assert_error(response, 400, field)
    assert database_snapshot() == before


@pytest.mark.parametrize("path, body, field", LISTS, ids=[f"{path} {field}" for path, body, field in LISTS])
def test_nul_in_a_list_query_string_is_400_naming_the_field(manager_api, existing, path, body, field):
    response = manager_api.get(path, _with_nul(body, field, existing))

    assert_error(response, 400, field)


@pytest.mark.parametrize("search", ["\x00", "ноут\x00бук", "\x00\x00\x00", " \x00 "])
@pytest.mark.parametrize("path", ["/api/clients/get/", "/api/orders/get/"])
def test_nul_only_searches_are_400_too(manager_api, existing, path, search):
    body = assert_error(manager_api.post(path, {"search": search}), 400, "search")

    with translation.override(settings.LANGUAGE_CODE):
        assert body["errors"]["search"] == [str(ProhibitNullCharactersValidator.message)]


@pytest.mark.parametrize("field", ["username", "password"])
@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_nul_in_login_is_400_naming_the_field(manager, field, form):
    body = {"username": "manager", "password": "secret-pass-1"}
    body[field] = body[field][:3] + "\x00" + body[field][3:]

    assert_error(Api().post("/api/token/", body, form=form), 400, field)


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_nul_in_refresh_token_is_400(manager, form):
    refresh = Api().post("/api/token/", {"username": "manager", "password": "secret-pass-1"}).json()["refresh"]

    assert_error(Api().post("/api/token/refresh/", {"refresh": refresh + "\x00"}, form=form), 400, "refresh")
