"""/api/orders/…: every call with a JSON and a form body, asserting the contract's exact bodies."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm.models import Order
from tests.api.conftest import assert_error
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

BODY_KINDS = ["json", "form", "multipart"]
MOSCOW = ZoneInfo("Europe/Moscow")


def _send(api, path, data, kind):
    return api.post(path, data, form=kind == "form", multipart=kind == "multipart")


@pytest.fixture
def ivanov(db):
    return ClientFactory(first_name="Иван", last_name="Иванов", middle_name="Иванович",
                         email="ivanov@example.com", mobile_phone="+79001234567")


@pytest.fixture
def laptop_order(ivanov):
    return OrderFactory(client=ivanov, product="Ноутбук", quantity=2, price=Decimal("1500.00"),
                        description="Заказ ноутбука",
                        created_at=datetime(2024, 12, 17, 21, 0, tzinfo=MOSCOW))


def _contract_order(order: Order, client) -> dict:
    return {
        "id": order.pk,
        "client": {"id": client.pk, "full_name": "Иван Иванов", "email": "ivanov@example.com",
                   "mobile_phone": "+79001234567"},
        "product": "Ноутбук", "quantity": 2, "price": "1500.00", "total_price": "3000.00",
        "description": "Заказ ноутбука", "status": "Pending", "created_at": "17.12.2024 21:00",
    }


@pytest.mark.parametrize("kind", BODY_KINDS)
def test_add_order(manager_api, ivanov, kind):
    response = _send(manager_api, "/api/orders/add/", {
        "client": ivanov.pk, "product": "Ноутбук", "quantity": 2, "price": "1500.00",
        "description": "Заказ ноутбука",
    }, kind)

    assert response.status_code == 200
    order = Order.objects.get()
    assert response.json() == {"success": True, "id": order.pk}
    assert (order.client, order.product, order.quantity, order.price, order.total_price, order.status) == (
        ivanov, "Ноутбук", 2, Decimal("1500.00"), Decimal("3000.00"), "Pending")


@pytest.mark.parametrize("price, expected", [
    ("1500.00", "1500.00"), ("1500", "1500.00"), ("1500,50", "1500.50"), ("0", "0.00"), (" 12,3 ", "12.30"),
    (1500, "1500.00"), (1500.5, "1500.50"),
])
def test_add_order_price_in_every_spelling(manager_api, ivanov, price, expected):
    body = {"client": str(ivanov.pk), "product": "Ноутбук", "quantity": "3", "price": price}

    response = manager_api.post("/api/orders/add/", body, form=isinstance(price, str))

    assert response.status_code == 200, response.json()
    order = manager_api.get(f"/api/orders/get/{response.json()['id']}/").json()
    assert order["price"] == expected
    assert order["total_price"] == f"{Decimal(expected) * 3:.2f}"


def test_add_order_quantity_defaults_to_one(manager_api, ivanov):
    response = manager_api.post("/api/orders/add/", {"client": ivanov.pk, "product": "Мышь", "price": "10"},
                                form=True)

    assert Order.objects.get(pk=response.json()["id"]).quantity == 1


def test_add_order_from_the_mobile_app_with_empty_description(manager_api, ivanov):
    response = manager_api.post("/api/orders/add/", {
        "client": str(ivanov.pk), "product": "Мышь", "quantity": "1", "price": "10.00", "description": "",
    }, form=True)

    assert response.status_code == 200
    assert Order.objects.get().description == ""


def test_add_order_ignores_a_status_it_was_not_asked_for(manager_api, ivanov):
    response = manager_api.post("/api/orders/add/", {"client": ivanov.pk, "product": "Мышь", "price": "10",
                                                     "status": "Completed", "total_price": "999"})

    order = Order.objects.get(pk=response.json()["id"])
    assert (order.status, order.total_price) == ("Pending", Decimal("10.00"))


def test_add_order_for_unknown_client_is_400_naming_the_field(manager_api):
    assert_error(manager_api.post("/api/orders/add/", {"client": 987654, "product": "Мышь", "price": "10"}),
                 400, "client")
    assert not Order.objects.exists()


@pytest.mark.parametrize("kind", ["json", "form"])
@pytest.mark.parametrize("method", ["post", "get"])
def test_get_one_order_is_the_order_object_at_top_level(manager_api, laptop_order, ivanov, kind, method):
    path = f"/api/orders/get/{laptop_order.pk}/"

    response = manager_api.get(path) if method == "get" else _send(manager_api, path, {}, kind)

    assert response.status_code == 200
    assert response.json() == _contract_order(laptop_order, ivanov)


def test_created_at_is_shown_in_the_server_time_zone(manager_api, ivanov):
    order = OrderFactory(client=ivanov, created_at=datetime(2024, 12, 17, 18, 0, tzinfo=ZoneInfo("UTC")))

    assert manager_api.get(f"/api/orders/get/{order.pk}/").json()["created_at"] == "17.12.2024 21:00"


def test_full_name_is_first_then_last_name(manager_api):
    client = ClientFactory(first_name="Анна", last_name="Петрова", middle_name="Сергеевна")
    order = OrderFactory(client=client)

    assert manager_api.get(f"/api/orders/get/{order.pk}/").json()["client"]["full_name"] == "Анна Петрова"


@pytest.mark.parametrize("kind", ["json", "form", "query"])
def test_list_orders_holds_only_the_list(manager_api, laptop_order, ivanov, kind):
    if kind == "query":
        response = manager_api.get("/api/orders/get/")
    else:
        response = _send(manager_api, "/api/orders/get/", {}, kind)

    assert response.status_code == 200
    assert response.json() == {"orders": [_contract_order(laptop_order, ivanov)]}


@pytest.mark.parametrize("kind", ["json", "form", "query"])
def test_empty_order_list_is_still_a_list(manager_api, kind):
    response = (manager_api.get("/api/orders/get/") if kind == "query"
                else _send(manager_api, "/api/orders/get/", {}, kind))

    assert response.json() == {"orders": []}


def test_order_list_pages_hold_fifty_from_start_id(manager_api, ivanov):
    ids = [OrderFactory(client=ivanov).pk for _ in range(70)][::-1]

    first = manager_api.post("/api/orders/get/", {"start_id": "0"}, form=True).json()["orders"]
    second = manager_api.get("/api/orders/get/", {"start_id": 50}).json()["orders"]

    assert [o["id"] for o in first] == ids[:50]
    assert [o["id"] for o in second] == ids[50:]


def test_order_list_filters_by_status_client_and_search(manager_api):
    anna, boris = ClientFactory(), ClientFactory()
    laptop = OrderFactory(client=anna, product="Ноутбук Lenovo", status="Pending")
    phone = OrderFactory(client=anna, product="Смартфон", description="Чёрный", status="Completed")
    other = OrderFactory(client=boris, product="ноутбук", status="Cancelled")

    def ids(**params):
        return sorted(o["id"] for o in manager_api.post("/api/orders/get/", params, form=True).json()["orders"])

    assert ids() == sorted([laptop.pk, phone.pk, other.pk])
    assert ids(status="") == sorted([laptop.pk, phone.pk, other.pk])
    assert ids(status="all") == sorted([laptop.pk, phone.pk, other.pk])
    assert ids(status="Completed") == [phone.pk]
    assert ids(client_id=anna.pk) == sorted([laptop.pk, phone.pk])
    assert ids(client_id="") == sorted([laptop.pk, phone.pk, other.pk])
    assert ids(search="НОУТБУК") == sorted([laptop.pk, other.pk])
    assert ids(search="черный") == [phone.pk]
    assert ids(search="ноутбук", client_id=boris.pk) == [other.pk]
    assert ids(search="lenovo ноутбук") == [laptop.pk]


@pytest.mark.parametrize("order_by", ["price", "-price", "total_price", "-quantity", "product", "created_at", "id"])
def test_order_list_order_by(manager_api, ivanov, order_by):
    for quantity, price, product in [(1, "30", "Б"), (5, "10", "А"), (2, "20", "В")]:
        OrderFactory(client=ivanov, quantity=quantity, price=Decimal(price), product=product)
    field = order_by.lstrip("-")

    response = manager_api.get("/api/orders/get/", {"order_by": order_by})

    values = [o[field] if field != "created_at" else o["id"] for o in response.json()["orders"]]
    if field in ("price", "total_price"):
        values = [Decimal(v) for v in values]
    assert values == sorted(values, reverse=order_by.startswith("-"))


@pytest.mark.parametrize("kind", BODY_KINDS)
def test_edit_order(manager_api, laptop_order, kind):
    response = _send(manager_api, f"/api/orders/edit/{laptop_order.pk}/", {
        "product": "Смартфон", "quantity": 3, "price": "1000.00", "status": "Completed",
    }, kind)

    assert response.status_code == 200
    assert response.json() == {"success": True, "id": laptop_order.pk}
    laptop_order.refresh_from_db()
    assert (laptop_order.product, laptop_order.quantity, laptop_order.price, laptop_order.total_price,
            laptop_order.status, laptop_order.description) == (
        "Смартфон", 3, Decimal("1000.00"), Decimal("3000.00"), "Completed", "Заказ ноутбука")


@pytest.mark.parametrize("field", ["client", "client_id"])
def test_edit_order_moves_it_to_another_client(manager_api, laptop_order, field):
    other = ClientFactory()

    response = manager_api.post(f"/api/orders/edit/{laptop_order.pk}/", {field: str(other.pk)}, form=True)

    assert response.status_code == 200
    laptop_order.refresh_from_db()
    assert laptop_order.client == other


def test_edit_order_to_unknown_client_is_400_and_changes_nothing(manager_api, laptop_order, ivanov):
    assert_error(manager_api.post(f"/api/orders/edit/{laptop_order.pk}/", {"client_id": 999999, "product": "X"}),
                 400, "client")
    laptop_order.refresh_from_db()
    assert (laptop_order.client, laptop_order.product) == (ivanov, "Ноутбук")


def test_delete_order_removes_it_from_reads(manager_api, laptop_order):
    response = manager_api.delete(f"/api/orders/delete/{laptop_order.pk}/")

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert not Order.objects.filter(pk=laptop_order.pk).exists()
    assert_error(manager_api.get(f"/api/orders/get/{laptop_order.pk}/"), 404)
    assert manager_api.get("/api/orders/get/").json() == {"orders": []}
    assert_error(manager_api.delete(f"/api/orders/delete/{laptop_order.pk}/"), 404)
    # Its history keeps a copy it can be restored from in the admin.
    assert Order.history.filter(id=laptop_order.pk, history_type="-").exists()


def test_order_output_built_by_hand_matches_the_order_serializer_byte_for_byte(manager_api):
    """The list and single reads shape orders with plain Python for speed; OrderSerializer is the schema."""
    from rest_framework.renderers import JSONRenderer

    from api.serializers import OrderSerializer
    from crm import selectors

    plain = ClientFactory(first_name="Анна", last_name="Ёлкина", middle_name="", mobile_phone="")
    OrderFactory(client=plain, product="Кабель «USB-C»", quantity=1, price=Decimal("0.00"), description="",
                 status="Completed", created_at=datetime(2024, 1, 1, 0, 30, tzinfo=ZoneInfo("UTC")))
    OrderFactory(client=plain, product="Сервер", quantity=1_000_000, price=Decimal("99999999.99"),
                 description="Строка 1\nстрока 2 \"кавычки\" \\ \u2028", status="Cancelled",
                 created_at=datetime(2025, 6, 30, 23, 59, 59, tzinfo=MOSCOW))
    OrderFactory(product="Мышь", quantity=3, price=Decimal("0.10"),
                 created_at=datetime(2024, 3, 31, 2, 15, tzinfo=ZoneInfo("Asia/Vladivostok")))
    orders = selectors.order_list()

    expected = JSONRenderer().render({"orders": OrderSerializer(orders, many=True).data})
    response = manager_api.post("/api/orders/get/")

    assert response.status_code == 200
    assert response.content == expected
    for order in orders:
        single = manager_api.post(f"/api/orders/get/{order.pk}/")
        assert single.content == JSONRenderer().render(OrderSerializer(order).data)
