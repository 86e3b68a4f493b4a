"""/api/clients/…: every call with a JSON and a form body, asserting the contract's exact bodies."""

import pytest

from crm.models import Client, Order
from tests.api.conftest import assert_error
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

BODY_KINDS = ["json", "form", "multipart"]


def _send(api, path, data, kind):
    return api.post(path, data, form=kind == "form", multipart=kind == "multipart")


def _client_object(client: Client) -> dict:
    return {"id": client.pk, "first_name": client.first_name, "last_name": client.last_name,
            "middle_name": client.middle_name, "mobile_phone": client.mobile_phone, "email": client.email}


@pytest.mark.parametrize("kind", BODY_KINDS)
def test_add_client(manager_api, kind):
    response = _send(manager_api, "/api/clients/add/", {
        "first_name": "Иван", "last_name": "Иванов", "middle_name": "Иванович",
        "mobile_phone": "+79001234567", "email": "ivanov@example.com",
    }, kind)

    assert response.status_code == 200
    client = Client.objects.get()
    assert response.json() == {"success": True, "id": client.pk}
    assert (client.first_name, client.last_name, client.middle_name, client.mobile_phone, client.email) == (
        "Иван", "Иванов", "Иванович", "+79001234567", "ivanov@example.com")
    assert client.status == Client.Status.ACTIVE


def test_add_client_from_the_mobile_app_with_empty_optional_fields(manager_api):
    response = manager_api.post("/api/clients/add/", {
        "first_name": "Иван", "last_name": "Иванов", "middle_name": "", "mobile_phone": "",
        "email": "ivanov@example.com",
    }, form=True)

    assert response.status_code == 200
    client = Client.objects.get(pk=response.json()["id"])
    assert (client.middle_name, client.mobile_phone) == ("", "")


def test_add_client_with_null_optional_fields(manager_api):
    response = manager_api.post("/api/clients/add/", {
        "first_name": "Иван", "last_name": "Иванов", "middle_name": None, "mobile_phone": None,
        "email": "ivanov@example.com",
    })

    assert response.status_code == 200
    assert Client.objects.get().middle_name == ""


def test_add_client_with_required_fields_only(manager_api):
    response = manager_api.post("/api/clients/add/", {"first_name": "Иван", "last_name": "Иванов",
                                                      "email": "ivanov@example.com"})

    assert response.status_code == 200


@pytest.mark.parametrize("email", ["ivanov@example.com", "IVANOV@Example.com", " ivanov@example.com "])
def test_add_client_with_taken_email_is_409_with_existing_id(manager_api, email):
    existing = ClientFactory(email="ivanov@example.com")

    response = manager_api.post("/api/clients/add/", {"first_name": "Пётр", "last_name": "Петров", "email": email})

    body = assert_error(response, 409, "email")
    assert body["id"] == existing.pk
    assert Client.objects.count() == 1


@pytest.mark.parametrize("kind", ["json", "form"])
@pytest.mark.parametrize("method", ["post", "get"])
def test_get_one_client(manager_api, kind, method):
    client = ClientFactory(first_name="Иван", last_name="Иванов", middle_name="Иванович",
                           mobile_phone="+79001234567", email="ivanov@example.com")
    path = f"/api/clients/get/{client.pk}/"

    response = manager_api.get(path) if method == "get" else _send(manager_api, path, {}, kind)

    assert response.status_code == 200
    assert response.json() == {"client": {
        "id": client.pk, "first_name": "Иван", "last_name": "Иванов", "middle_name": "Иванович",
        "mobile_phone": "+79001234567", "email": "ivanov@example.com",
    }}


def test_get_one_archived_client(manager_api):
    client = ClientFactory(status=Client.Status.ARCHIVED)

    assert manager_api.get(f"/api/clients/get/{client.pk}/").json() == {"client": _client_object(client)}


def test_get_unknown_client_is_404(manager_api):
    assert_error(manager_api.post("/api/clients/get/999999/"), 404)


@pytest.mark.parametrize("kind", ["json", "form", "query"])
def test_list_clients_holds_only_the_list(manager_api, kind):
    clients = [ClientFactory() for _ in range(3)]
    if kind == "query":
        response = manager_api.get("/api/clients/get/")
    else:
        response = _send(manager_api, "/api/clients/get/", {}, kind)

    assert response.status_code == 200
    assert response.json() == {"clients": [_client_object(c) for c in reversed(clients)]}


@pytest.mark.parametrize("kind", ["json", "form", "query"])
def test_empty_list_is_still_a_list(manager_api, kind):
    if kind == "query":
        response = manager_api.get("/api/clients/get/", {"search": "нет такого"})
    else:
        response = _send(manager_api, "/api/clients/get/", {"search": "нет такого"}, kind)

    assert response.json() == {"clients": []}


def test_list_pages_hold_fifty_from_start_id(manager_api):
    ids = [ClientFactory().pk for _ in range(120)][::-1]  # default order: -id

    pages = [manager_api.post("/api/clients/get/", {"start_id": start}, form=True).json()["clients"]
             for start in (0, 50, 100, 150)]

    assert [[c["id"] for c in page] for page in pages] == [ids[:50], ids[50:100], ids[100:], []]


def test_list_parameters_as_strings_in_json(manager_api):
    ids = [ClientFactory().pk for _ in range(3)]

    response = manager_api.post("/api/clients/get/", {"start_id": "1", "order_by": "id"})

    assert [c["id"] for c in response.json()["clients"]] == ids[1:]


def test_list_status_filters(manager_api):
    active = ClientFactory()
    archived = ClientFactory(status=Client.Status.ARCHIVED)

    def ids(**params):
        return [c["id"] for c in manager_api.post("/api/clients/get/", params).json()["clients"]]

    assert ids() == [active.pk]
    assert ids(status="") == [active.pk]
    assert ids(status="active") == [active.pk]
    assert ids(status="archived") == [archived.pk]
    assert ids(status="all") == [archived.pk, active.pk]


@pytest.mark.parametrize("order_by, key", [("last_name", lambda c: c.last_name), ("-email", lambda c: c.email)])
def test_list_order_by(manager_api, order_by, key):
    clients = [ClientFactory(last_name=name, email=f"{mail}@example.com")
               for name, mail in [("Борисов", "c"), ("Алексеев", "a"), ("Викторов", "b")]]

    response = manager_api.get("/api/clients/get/", {"order_by": order_by})

    expected = sorted(clients, key=key, reverse=order_by.startswith("-"))
    assert [c["id"] for c in response.json()["clients"]] == [c.pk for c in expected]


# ---------------------------------------------------------------------------
# Search: Cyrillic in any case, ё/е, the full name in either order, e-mail, phone digits.
# ---------------------------------------------------------------------------
@pytest.fixture
def search_clients(db):
    return {
        "anatoly": ClientFactory(first_name="Анатолий", last_name="Тюрин", middle_name="Петрович",
                                 email="tyurin@example.com", mobile_phone="+7 (900) 123-45-67"),
        "fyodor": ClientFactory(first_name="Фёдор", last_name="Ёлкин", middle_name="",
                                email="elkin@example.com", mobile_phone="+79111111111"),
        "ivan": ClientFactory(first_name="Иван", last_name="Иванов", middle_name="Иванович",
                              email="ivanov@example.com", mobile_phone="8 912 000 00 00"),
    }


@pytest.mark.parametrize("query, expected", [
    ("анатолий", ["anatoly"]),
    ("АНАТОЛИЙ", ["anatoly"]),
    ("Анатолий", ["anatoly"]),
    ("тюрин анатолий", ["anatoly"]),
    ("Анатолий Тюрин", ["anatoly"]),
    ("петрович", ["anatoly"]),
    ("федор", ["fyodor"]),
    ("Фёдор Ёлкин", ["fyodor"]),
    ("елкин федор", ["fyodor"]),
    ("Иван Иванов", ["ivan"]),
    ("Иванов Иван", ["ivan"]),
    ("TYURIN@EXAMPLE", ["anatoly"]),
    ("9001234567", ["anatoly"]),
    ("+7 900 123-45-67", ["anatoly"]),
    ("89001234567", ["anatoly"]),
    ("79120000000", ["ivan"]),
    ("nobody", []),
])
@pytest.mark.parametrize("kind", ["json", "form", "query"])
def test_search_clients(manager_api, search_clients, query, expected, kind):
    if kind == "query":
        response = manager_api.get("/api/clients/get/", {"search": query})
    else:
        response = _send(manager_api, "/api/clients/get/", {"search": query}, kind)

    assert response.status_code == 200
    assert sorted(c["id"] for c in response.json()["clients"]) == sorted(search_clients[k].pk for k in expected)


# ---------------------------------------------------------------------------
# Edit and delete
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", BODY_KINDS)
def test_edit_client_changes_only_the_given_fields(manager_api, kind):
    client = ClientFactory(first_name="Иван", last_name="Иванов", middle_name="Иванович", email="i@example.com")

    response = _send(manager_api, f"/api/clients/edit/{client.pk}/", {"first_name": "Петр", "last_name": "Петров"},
                     kind)

    assert response.status_code == 200
    assert response.json() == {"success": True, "id": client.pk}
    client.refresh_from_db()
    assert (client.first_name, client.last_name, client.middle_name, client.email) == (
        "Петр", "Петров", "Иванович", "i@example.com")


def test_edit_client_clears_middle_name_with_an_empty_form_field(manager_api):
    client = ClientFactory(middle_name="Иванович")

    response = manager_api.post(f"/api/clients/edit/{client.pk}/", {"middle_name": ""}, form=True)

    assert response.status_code == 200
    client.refresh_from_db()
    assert client.middle_name == ""


def test_edit_client_to_a_taken_email_is_409(manager_api):
    other = ClientFactory(email="taken@example.com")
    client = ClientFactory(email="mine@example.com")

    body = assert_error(manager_api.post(f"/api/clients/edit/{client.pk}/", {"email": "TAKEN@example.com"}), 409)

    assert body["id"] == other.pk
    client.refresh_from_db()
    assert client.email == "mine@example.com"


def test_edit_client_keeping_its_own_email(manager_api):
    client = ClientFactory(email="mine@example.com")

    response = manager_api.post(f"/api/clients/edit/{client.pk}/", {"email": "MINE@example.com"}, form=True)

    assert response.status_code == 200


def test_api_edit_is_recorded_in_history_as_the_api_user(manager, manager_api):
    client = ClientFactory(first_name="Иван")

    manager_api.post(f"/api/clients/edit/{client.pk}/", {"first_name": "Пётр"}, form=True)

    record = client.history.first()
    assert record.first_name == "Пётр"
    assert record.history_user == manager


def test_api_order_edit_is_recorded_in_history_as_the_api_user(manager, manager_api):
    order = OrderFactory()

    manager_api.post(f"/api/orders/edit/{order.pk}/", {"status": "Completed"}, form=True)

    record = order.history.first()
    assert (record.status, record.history_user) == ("Completed", manager)


def test_delete_client_archives_it_and_keeps_its_orders(manager_api):
    client = ClientFactory()
    order = OrderFactory(client=client)

    response = manager_api.delete(f"/api/clients/delete/{client.pk}/")

    assert response.status_code == 200
    assert response.json() == {"success": True}
    client.refresh_from_db()
    assert client.status == Client.Status.ARCHIVED
    assert Order.objects.filter(pk=order.pk, client=client).exists()
    # It leaves the default list, is still readable by id and in the archived list, and its orders remain.
    assert manager_api.get("/api/clients/get/").json() == {"clients": []}
    assert manager_api.get(f"/api/clients/get/{client.pk}/").status_code == 200
    assert [c["id"] for c in manager_api.get("/api/clients/get/", {"status": "archived"}).json()["clients"]] == [
        client.pk]
    assert [o["id"] for o in manager_api.get("/api/orders/get/").json()["orders"]] == [order.pk]


def test_delete_archived_client_again_is_harmless(manager_api):
    client = ClientFactory(status=Client.Status.ARCHIVED)

    assert manager_api.delete(f"/api/clients/delete/{client.pk}/").json() == {"success": True}


def test_delete_unknown_client_is_404(manager_api):
    assert_error(manager_api.delete("/api/clients/delete/424242/"), 404)


def test_an_order_can_be_taken_for_an_archived_client(manager_api):
    client = ClientFactory(status=Client.Status.ARCHIVED)

    response = manager_api.post("/api/orders/add/", {"client": client.pk, "product": "Ноутбук", "price": "1"})

    assert response.status_code == 200


def test_client_output_built_by_hand_matches_the_client_serializer_byte_for_byte(manager_api):
    """The list and single reads shape clients with plain Python for speed; ClientSerializer is the schema."""
    from rest_framework.renderers import JSONRenderer

    from api.serializers import ClientSerializer
    from crm import selectors

    ClientFactory(first_name="Анна", last_name="Ёлкина", middle_name="", mobile_phone="", email="anna@example.com")
    ClientFactory(first_name="O'Brien \"Q\"", last_name="Smith\\\u2028", middle_name="Jr.",
                  mobile_phone="+7 (900) 123-45-67", email="obrien@example.com")
    clients = selectors.client_list()

    response = manager_api.post("/api/clients/get/")

    assert response.status_code == 200
    assert response.content == JSONRenderer().render({"clients": ClientSerializer(clients, many=True).data})
    for client in clients:
        single = manager_api.post(f"/api/clients/get/{client.pk}/")
        assert single.content == JSONRenderer().render({"client": ClientSerializer(client).data})
