"""A table of bad inputs per endpoint: each gets its documented status and envelope and changes nothing."""

import json

import pytest

from tests.api.conftest import assert_error, database_snapshot
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

HUGE = "я" * 100_000  # 100 KB of Cyrillic (200 KB of UTF-8)
BIG_INT = 10**30
CLIENT = {"first_name": "Иван", "last_name": "Иванов", "email": "new@example.com"}
ORDER = {"product": "Ноутбук", "price": "1500.00"}


@pytest.fixture
def existing(db):
    client = ClientFactory(email="taken@example.com")
    return {"client": client, "order": OrderFactory(client=client)}


# (id, path, JSON body or raw string, expected status, fields named in "errors")
CASES = [
    # clients/add/
    ("client add: nothing", "/api/clients/add/", {}, 400, ["first_name", "last_name", "email"]),
    ("client add: empty name", "/api/clients/add/", {**CLIENT, "first_name": ""}, 400, ["first_name"]),
    ("client add: blank name", "/api/clients/add/", {**CLIENT, "last_name": "   "}, 400, ["last_name"]),
    ("client add: null name", "/api/clients/add/", {**CLIENT, "first_name": None}, 400, ["first_name"]),
    ("client add: name is a list", "/api/clients/add/", {**CLIENT, "first_name": ["Иван"]}, 400, ["first_name"]),
    ("client add: name is an object", "/api/clients/add/", {**CLIENT, "last_name": {"a": 1}}, 400, ["last_name"]),
    ("client add: 100 KB name", "/api/clients/add/", {**CLIENT, "first_name": HUGE}, 400, ["first_name"]),
    ("client add: 100 KB middle name", "/api/clients/add/", {**CLIENT, "middle_name": HUGE}, 400, ["middle_name"]),
    ("client add: bad e-mail", "/api/clients/add/", {**CLIENT, "email": "not-an-email"}, 400, ["email"]),
    ("client add: e-mail a number", "/api/clients/add/", {**CLIENT, "email": 5}, 400, ["email"]),
    ("client add: 100 KB e-mail", "/api/clients/add/", {**CLIENT, "email": HUGE + "@example.com"}, 400, ["email"]),
    ("client add: bad phone", "/api/clients/add/", {**CLIENT, "mobile_phone": "call me"}, 400, ["mobile_phone"]),
    ("client add: NUL in name", "/api/clients/add/", {**CLIENT, "first_name": "Ив\x00ан"}, 400, ["first_name"]),
    ("client add: body is a list", "/api/clients/add/", [CLIENT], 400, []),
    ("client add: body is null", "/api/clients/add/", "null", 400, []),
    ("client add: malformed JSON", "/api/clients/add/", '{"first_name": "Иван",', 400, []),
    ("client add: taken e-mail", "/api/clients/add/", {**CLIENT, "email": "Taken@Example.com"}, 409, ["email"]),
    # clients/edit/<id>/
    ("client edit: empty name", "/api/clients/edit/{client}/", {"first_name": ""}, 400, ["first_name"]),
    ("client edit: bad e-mail", "/api/clients/edit/{client}/", {"email": "@"}, 400, ["email"]),
    ("client edit: 100 KB phone", "/api/clients/edit/{client}/", {"mobile_phone": HUGE}, 400, ["mobile_phone"]),
    ("client edit: unknown id", "/api/clients/edit/987654/", {"first_name": "Пётр"}, 404, []),
    ("client edit: huge id", f"/api/clients/edit/{BIG_INT}/", {"first_name": "Пётр"}, 404, []),
    ("client edit: malformed JSON", "/api/clients/edit/{client}/", "{", 400, []),
    # clients/get/<id>/ and clients/get/
    ("client get: unknown id", "/api/clients/get/987654/", {}, 404, []),
    ("client get: huge id", f"/api/clients/get/{BIG_INT}/", {}, 404, []),
    ("client get: id not a number", "/api/clients/get/abc/", {}, 404, []),
    ("client get: negative id", "/api/clients/get/-1/", {}, 404, []),
    ("client list: negative start", "/api/clients/get/", {"start_id": -1}, 400, ["start_id"]),
    ("client list: start not a number", "/api/clients/get/", {"start_id": "abc"}, 400, ["start_id"]),
    ("client list: fractional start", "/api/clients/get/", {"start_id": 1.5}, 400, ["start_id"]),
    ("client list: huge start", "/api/clients/get/", {"start_id": BIG_INT}, 400, ["start_id"]),
    ("client list: unknown status", "/api/clients/get/", {"status": "deleted"}, 400, ["status"]),
    ("client list: order status", "/api/clients/get/", {"status": "Pending"}, 400, ["status"]),
    ("client list: unknown order_by", "/api/clients/get/", {"order_by": "password"}, 400, ["order_by"]),
    ("client list: bare minus", "/api/clients/get/", {"order_by": "-"}, 400, ["order_by"]),
    ("client list: SQL in order_by", "/api/clients/get/", {"order_by": "id; DROP TABLE crm_client"}, 400,
     ["order_by"]),
    ("client list: order field of orders", "/api/clients/get/", {"order_by": "total_price"}, 400, ["order_by"]),
    ("client list: 100 KB search", "/api/clients/get/", {"search": HUGE}, 400, ["search"]),
    ("client list: 100 KB order_by", "/api/clients/get/", {"order_by": HUGE}, 400, ["order_by"]),
    ("client list: body is a list", "/api/clients/get/", [1, 2], 400, []),
    ("client list: malformed JSON", "/api/clients/get/", "{'start_id': 0}", 400, []),
    # orders/add/
    ("order add: nothing", "/api/orders/add/", {}, 400, ["client", "product", "price"]),
    ("order add: unknown client", "/api/orders/add/", {**ORDER, "client": 987654}, 400, ["client"]),
    ("order add: client not a number", "/api/orders/add/", {**ORDER, "client": "abc"}, 400, ["client"]),
    ("order add: client zero", "/api/orders/add/", {**ORDER, "client": 0}, 400, ["client"]),
    ("order add: client negative", "/api/orders/add/", {**ORDER, "client": -1}, 400, ["client"]),
    ("order add: client huge", "/api/orders/add/", {**ORDER, "client": BIG_INT}, 400, ["client"]),
    ("order add: client a boolean", "/api/orders/add/", {**ORDER, "client": True}, 400, ["client"]),
    ("order add: client an object", "/api/orders/add/", {**ORDER, "client": {"id": 1}}, 400, ["client"]),
    ("order add: empty product", "/api/orders/add/", {**ORDER, "client": "{client}", "product": ""}, 400,
     ["product"]),
    ("order add: 100 KB product", "/api/orders/add/", {**ORDER, "client": "{client}", "product": HUGE}, 400,
     ["product"]),
    ("order add: 100 KB description", "/api/orders/add/", {**ORDER, "client": "{client}", "description": HUGE},
     400, ["description"]),
    ("order add: quantity zero", "/api/orders/add/", {**ORDER, "client": "{client}", "quantity": 0}, 400,
     ["quantity"]),
    ("order add: quantity negative", "/api/orders/add/", {**ORDER, "client": "{client}", "quantity": -2}, 400,
     ["quantity"]),
    ("order add: quantity huge", "/api/orders/add/", {**ORDER, "client": "{client}", "quantity": BIG_INT}, 400,
     ["quantity"]),
    ("order add: quantity over the limit", "/api/orders/add/", {**ORDER, "client": "{client}",
                                                                "quantity": 1_000_001}, 400, ["quantity"]),
    ("order add: quantity fractional", "/api/orders/add/", {**ORDER, "client": "{client}", "quantity": "2.5"}, 400,
     ["quantity"]),
    ("order add: quantity text", "/api/orders/add/", {**ORDER, "client": "{client}", "quantity": "two"}, 400,
     ["quantity"]),
    ("order add: price negative", "/api/orders/add/", {**ORDER, "client": "{client}", "price": "-1.00"}, 400,
     ["price"]),
    ("order add: price three decimals", "/api/orders/add/", {**ORDER, "client": "{client}", "price": "1.234"}, 400,
     ["price"]),
    ("order add: price comma three decimals", "/api/orders/add/", {**ORDER, "client": "{client}",
                                                                   "price": "1,234"}, 400, ["price"]),
    ("order add: price huge", "/api/orders/add/", {**ORDER, "client": "{client}", "price": "1" + "0" * 40}, 400,
     ["price"]),
    ("order add: price over the limit", "/api/orders/add/", {**ORDER, "client": "{client}",
                                                             "price": "100000000.00"}, 400, ["price"]),
    ("order add: price text", "/api/orders/add/", {**ORDER, "client": "{client}", "price": "дёшево"}, 400,
     ["price"]),
    ("order add: price NaN", "/api/orders/add/", {**ORDER, "client": "{client}", "price": "NaN"}, 400, ["price"]),
    ("order add: price Infinity", "/api/orders/add/", {**ORDER, "client": "{client}", "price": "Infinity"}, 400,
     ["price"]),
    ("order add: price exponent", "/api/orders/add/", {**ORDER, "client": "{client}", "price": "1e400"}, 400,
     ["price"]),
    ("order add: price a list", "/api/orders/add/", {**ORDER, "client": "{client}", "price": [1]}, 400, ["price"]),
    ("order add: malformed JSON", "/api/orders/add/", '{"client": 1, "price": 1.00.0}', 400, []),
    # orders/edit/<id>/
    ("order edit: unknown status", "/api/orders/edit/{order}/", {"status": "Shipped"}, 400, ["status"]),
    ("order edit: status lower case", "/api/orders/edit/{order}/", {"status": "pending"}, 400, ["status"]),
    ("order edit: quantity zero", "/api/orders/edit/{order}/", {"quantity": "0"}, 400, ["quantity"]),
    ("order edit: price negative", "/api/orders/edit/{order}/", {"price": "-5"}, 400, ["price"]),
    ("order edit: unknown client", "/api/orders/edit/{order}/", {"client": 987654}, 400, ["client"]),
    ("order edit: client_id text", "/api/orders/edit/{order}/", {"client_id": "x"}, 400, ["client_id"]),
    ("order edit: empty product", "/api/orders/edit/{order}/", {"product": ""}, 400, ["product"]),
    ("order edit: unknown id", "/api/orders/edit/987654/", {"product": "X"}, 404, []),
    ("order edit: body is a string", "/api/orders/edit/{order}/", '"product"', 400, []),
    # orders/get/<id>/ and orders/get/
    ("order get: unknown id", "/api/orders/get/987654/", {}, 404, []),
    ("order get: huge id", f"/api/orders/get/{BIG_INT}/", {}, 404, []),
    ("order list: unknown status", "/api/orders/get/", {"status": "Done"}, 400, ["status"]),
    ("order list: client status", "/api/orders/get/", {"status": "active"}, 400, ["status"]),
    ("order list: unknown order_by", "/api/orders/get/", {"order_by": "client"}, 400, ["order_by"]),
    ("order list: client order_by", "/api/orders/get/", {"order_by": "last_name"}, 400, ["order_by"]),
    ("order list: client_id text", "/api/orders/get/", {"client_id": "abc"}, 400, ["client_id"]),
    ("order list: client_id negative", "/api/orders/get/", {"client_id": -1}, 400, ["client_id"]),
    ("order list: client_id huge", "/api/orders/get/", {"client_id": BIG_INT}, 400, ["client_id"]),
    ("order list: negative start", "/api/orders/get/", {"start_id": "-5"}, 400, ["start_id"]),
    ("order list: 100 KB search", "/api/orders/get/", {"search": HUGE}, 400, ["search"]),
    # reports and tokens
    ("report new: unknown period", "/api/reports/new/", {"period": "decade"}, 400, ["period"]),
    ("report new: 100 KB period", "/api/reports/new/", {"period": HUGE}, 400, ["period"]),
    ("report new: malformed JSON", "/api/reports/new/", "{period: week}", 400, []),
    ("report download: unknown id", "/api/reports/get/987654/", None, 404, []),
    ("token: malformed JSON", "/api/token/", '{"username": ', 400, []),
    ("token: 100 KB user name", "/api/token/", {"username": HUGE, "password": "x"}, 401, []),
    ("refresh: malformed JSON", "/api/token/refresh/", "[", 400, []),
    ("refresh: 100 KB token", "/api/token/refresh/", {"refresh": HUGE}, 401, []),
]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids) if value.startswith("{") and value.endswith("}") and value[1:-1] in ids else value
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


@pytest.mark.parametrize("path, body, status, fields", [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(manager_api, existing, path, body, status, fields):
    ids = {name: obj.pk for name, obj in existing.items()}
    path = path.format(**ids)
    before = database_snapshot()

    if body is None:
        response = manager_api.get(path)
    elif isinstance(body, str):
        response = manager_api.post_raw(path, body)
    else:
        response = manager_api.post_raw(path, json.dumps(_fill(body, ids)))

    assert_error(response, status, *fields)
    assert database_snapshot() == before


@pytest.mark.parametrize("path, body, status, fields", [case[1:] for case in CASES if isinstance(case[2], dict)],
                         ids=[c[0] for c in CASES if isinstance(c[2], dict)])
def test_bad_form_input_is_refused_and_changes_nothing(manager_api, existing, path, body, status, fields):
    """The same table sent the mobile app's way, every value a string."""
    ids = {name: obj.pk for name, obj in existing.items()}
    path = path.format(**ids)
    form = {key: value for key, value in _fill(body, ids).items() if not isinstance(value, (dict, list))}
    if len(form) < len(body) or any(value is None or isinstance(value, bool) for value in form.values()):
        pytest.skip("no form spelling of a null, boolean, list or object")
    before = database_snapshot()

    response = manager_api.post(path, {key: str(value) for key, value in form.items()}, form=True)

    assert_error(response, status, *fields)
    assert database_snapshot() == before


# (path, methods that are not allowed there)
WRONG_METHODS = [
    ("/api/token/", ["get", "put", "patch", "delete"]),
    ("/api/token/refresh/", ["get", "put", "delete"]),
    ("/api/clients/add/", ["get", "put", "patch", "delete"]),
    ("/api/clients/get/{client}/", ["put", "patch", "delete"]),
    ("/api/clients/get/", ["put", "patch", "delete"]),
    ("/api/clients/edit/{client}/", ["get", "put", "patch", "delete"]),
    ("/api/clients/delete/{client}/", ["get", "post", "put", "patch"]),
    ("/api/orders/add/", ["get", "put", "delete"]),
    ("/api/orders/get/{order}/", ["put", "patch", "delete"]),
    ("/api/orders/get/", ["put", "delete"]),
    ("/api/orders/edit/{order}/", ["get", "put", "patch", "delete"]),
    ("/api/orders/delete/{order}/", ["get", "post", "put", "patch"]),
    ("/api/reports/new/", ["get", "put", "delete"]),
    ("/api/reports/get/", ["put", "patch", "delete"]),
    ("/api/reports/get/1/", ["post", "put", "delete"]),
]


@pytest.mark.parametrize("path, method", [(path, method) for path, methods in WRONG_METHODS for method in methods])
def test_wrong_method_is_405_envelope(manager_api, existing, path, method):
    path = path.format(**{name: obj.pk for name, obj in existing.items()})
    before = database_snapshot()

    response = manager_api.request(method.upper(), path, data=json.dumps({"first_name": "X"}),
                                   content_type="application/json")

    assert_error(response, 405)
    assert database_snapshot() == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_unsupported_body_type_is_an_envelope(manager_api, existing, content_type):
    before = database_snapshot()

    response = manager_api.post_raw("/api/clients/add/", "first_name=Иван", content_type=content_type)

    assert_error(response, 415)
    assert database_snapshot() == before


def test_body_that_is_not_utf8_is_400(manager_api, existing):
    before = database_snapshot()

    response = manager_api.post_raw("/api/clients/add/", b'{"first_name": "\xff\xfe"}')

    assert_error(response, 400)
    assert database_snapshot() == before
