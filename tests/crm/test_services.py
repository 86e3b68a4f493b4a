"""Service rules shared by the admin, the API and imports."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import services
from crm.models import Client, Order
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_client_create_validates_and_saves():
    client = services.client_create(first_name="Иван", last_name="Иванов", email="Ivanov@Example.com")
    assert client.pk and client.email == "ivanov@example.com" and client.status == "active"


@pytest.mark.parametrize(
    "fields, bad_field",
    [
        ({"first_name": "", "last_name": "Иванов", "email": "a@example.com"}, "first_name"),
        ({"first_name": "Иван", "last_name": "", "email": "a@example.com"}, "last_name"),
        ({"first_name": "Иван", "last_name": "Иванов", "email": "not-an-email"}, "email"),
        ({"first_name": "Иван", "last_name": "Иванов", "email": ""}, "email"),
        ({"first_name": "И" * 101, "last_name": "Иванов", "email": "a@example.com"}, "first_name"),
        ({"first_name": "Иван", "last_name": "Иванов", "email": "a@example.com", "mobile_phone": "call me"}, "mobile_phone"),
        ({"first_name": "Иван", "last_name": "Иванов", "email": "a@example.com", "status": "gone"}, "status"),
    ],
)
def test_client_create_refuses_bad_input_and_writes_nothing(fields, bad_field):
    with pytest.raises(ValidationError) as excinfo:
        services.client_create(**fields)
    assert bad_field in excinfo.value.message_dict
    assert Client.objects.count() == 0


def test_client_create_refuses_email_taken_in_any_case_and_names_the_owner():
    owner = ClientFactory(email="ivanov@example.com")
    with pytest.raises(services.ClientEmailTaken) as excinfo:
        services.client_create(first_name="a", last_name="b", email="IVANOV@EXAMPLE.COM")
    assert excinfo.value.existing_client_id == owner.pk
    assert "email" in excinfo.value.message_dict
    assert Client.objects.count() == 1


def test_client_update_keeps_own_email_and_refuses_anothers():
    ClientFactory(email="taken@example.com")
    client = ClientFactory(email="mine@example.com")
    services.client_update(client=client, email="MINE@example.com", first_name="Пётр")
    client.refresh_from_db()
    assert client.first_name == "Пётр"
    with pytest.raises(services.ClientEmailTaken):
        services.client_update(client=client, email="taken@example.com")
    client.refresh_from_db()
    assert client.email == "mine@example.com"


def test_client_update_rejects_unknown_field_names():
    with pytest.raises(TypeError):
        services.client_update(client=ClientFactory(), is_vip=True)


def test_archive_keeps_orders_and_restore_brings_back():
    order = OrderFactory()
    client = services.client_archive(client=order.client)
    assert Client.objects.get(pk=client.pk).status == "archived"
    assert Order.objects.filter(pk=order.pk).exists()
    services.client_restore(client=client)
    assert Client.objects.get(pk=client.pk).status == "active"


def test_client_delete_refused_while_it_has_orders():
    order = OrderFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.client_delete(client=order.client)
    assert excinfo.value.code == "protected"
    assert Client.objects.filter(pk=order.client_id).exists()


def test_client_delete_without_orders():
    client = ClientFactory()
    services.client_delete(client=client)
    assert not Client.objects.exists()


def test_order_create_computes_total_and_accepts_client_id():
    client = ClientFactory()
    order = services.order_create(client=client.pk, product="Ноутбук", quantity=2, price="1500.00")
    assert order.total_price == Decimal("3000.00")
    assert order.status == "Pending"


def test_order_create_takes_the_total_from_the_insert_and_an_update_reads_it_back():
    client = ClientFactory()
    with CaptureQueriesContext(connection) as queries:
        order = services.order_create(client=client, product="Сейф", quantity=3, price="0.10")
    assert order.total_price == Decimal("0.30")
    assert not [query for query in queries if query["sql"].startswith("SELECT") and "total_price" in query["sql"]]
    order = services.order_update(order=order, quantity=7)
    assert order.total_price == Decimal("0.70") == Order.objects.get(pk=order.pk).total_price


def test_order_update_checks_the_client_only_when_it_changes():
    order = OrderFactory()
    with CaptureQueriesContext(connection) as queries:
        services.order_update(order=order, quantity=5)
    assert not [query for query in queries if 'FROM "crm_client"' in query["sql"]]
    with pytest.raises(ValidationError) as error:
        services.order_update(order=order, client=999_999)
    assert "client" in error.value.message_dict


def test_order_create_for_archived_client_is_allowed():
    client = ClientFactory(status="archived")
    assert services.order_create(client=client, product="x", price="1").pk


@pytest.mark.parametrize(
    "fields, bad_field",
    [
        ({"product": "", "price": "1"}, "product"),
        ({"product": "x", "price": "-0.01"}, "price"),
        ({"product": "x", "price": "1.001"}, "price"),
        ({"product": "x", "price": "100000000"}, "price"),
        ({"product": "x", "price": "abc"}, "price"),
        ({"product": "x", "price": "1", "quantity": 0}, "quantity"),
        ({"product": "x", "price": "1", "quantity": 10**9}, "quantity"),
        ({"product": "x", "price": "1", "status": "Lost"}, "status"),
        ({"product": "x", "price": "1", "description": "d" * 5001}, "description"),
        ({"product": "p" * 201, "price": "1"}, "product"),
    ],
)
def test_order_create_refuses_bad_input_and_writes_nothing(fields, bad_field):
    client = ClientFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.order_create(client=client, **fields)
    assert bad_field in excinfo.value.message_dict
    assert Order.objects.count() == 0


@pytest.mark.parametrize("client_ref", [999999, "abc", None, ""])
def test_order_create_refuses_unknown_client(client_ref):
    with pytest.raises(ValidationError) as excinfo:
        services.order_create(client=client_ref, product="x", price="1")
    assert "client" in excinfo.value.message_dict


def test_order_update_recomputes_total_and_changes_client():
    order = OrderFactory(quantity=1, price=Decimal("10.00"))
    other = ClientFactory()
    services.order_update(order=order, quantity=3, price="0.10", client=other.pk, status="Completed")
    order.refresh_from_db()
    assert (order.total_price, order.client_id, order.status) == (Decimal("0.30"), other.pk, "Completed")


def test_order_update_bad_value_changes_nothing_in_database():
    order = OrderFactory(quantity=2)
    with pytest.raises(ValidationError):
        services.order_update(order=order, quantity=-5)
    order.refresh_from_db()
    assert order.quantity == 2


def test_orders_set_status_changes_only_others_and_records_history():
    pending = OrderFactory.create_batch(3)
    done = OrderFactory(status="Completed")
    history_before = Order.history.count()
    changed = services.orders_set_status(orders=Order.objects.all(), status="Completed")
    assert changed == 3
    assert set(Order.objects.values_list("status", flat=True)) == {"Completed"}
    assert Order.history.count() == history_before + 3
    assert Order.history.filter(id=done.pk).count() == 1  # the order already Completed got no new record
    assert len(pending) == 3


def test_orders_set_status_refuses_unknown_status():
    OrderFactory()
    with pytest.raises(ValidationError):
        services.orders_set_status(orders=Order.objects.all(), status="Lost")
    assert Order.objects.get().status == "Pending"


def test_clients_set_status_archives_many():
    ClientFactory.create_batch(3)
    assert services.clients_set_status(clients=Client.objects.all(), status="archived") == 3
    assert Client.objects.filter(status="archived").count() == 3


def test_history_records_each_change():
    client = services.client_create(first_name="Иван", last_name="Иванов", email="i@example.com")
    services.client_update(client=client, first_name="Пётр")
    assert [h.first_name for h in client.history.order_by("history_id")] == ["Иван", "Пётр"]


def test_order_restore_brings_a_deleted_order_back_under_its_id():
    order = OrderFactory(quantity=2, price=Decimal("10.00"), product="Сейф")
    order_id = order.pk
    services.order_delete(order=order)
    record = Order.history.filter(id=order_id, history_type="-").latest("history_date")
    restored = services.order_restore(history_record=record)
    assert (restored.pk, restored.product, restored.total_price) == (order_id, "Сейф", Decimal("20.00"))
    with pytest.raises(ValidationError):
        services.order_restore(history_record=record)


@pytest.mark.parametrize("field", ["first_name", "last_name", "middle_name", "email"])
def test_client_text_with_nul_character_is_bad_input_not_a_database_error(field):
    fields = {"first_name": "Иван", "last_name": "Иванов", "email": "a@example.com", "middle_name": ""}
    fields[field] = "a\x00b" if field != "email" else "a\x00b@example.com"
    with pytest.raises(ValidationError) as excinfo:
        services.client_create(**fields)
    assert field in excinfo.value.message_dict
    assert not Client.objects.exists()


@pytest.mark.parametrize("field", ["product", "description"])
def test_order_text_with_nul_character_is_bad_input_not_a_database_error(field):
    fields = {"product": "Ноутбук", "description": "", field: "a\x00b"}
    with pytest.raises(ValidationError) as excinfo:
        services.order_create(client=ClientFactory(), price="1", **fields)
    assert field in excinfo.value.message_dict
    assert not Order.objects.exists()


def test_client_restore_deleted_brings_the_client_back_under_its_id_and_refuses_a_live_one():
    from django.core.exceptions import ValidationError

    from crm.models import Client

    client = services.client_create(first_name="Анна", last_name="Ёлкина", email="anna@example.com")
    client_id = client.pk
    services.client_delete(client=client)
    record = Client.history.filter(id=client_id, history_type="-").get()

    restored = services.client_restore_deleted(history_record=record, first_name="Анна-Мария")

    assert restored.pk == client_id
    assert Client.objects.get(pk=client_id).first_name == "Анна-Мария"
    with pytest.raises(ValidationError):
        services.client_restore_deleted(history_record=record)
