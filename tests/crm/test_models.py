"""Single-row rules: the database itself refuses bad rows, whatever path writes them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from crm.models import Client, Order
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_total_price_is_quantity_times_price_on_create():
    order = OrderFactory(quantity=3, price=Decimal("0.10"))
    assert order.total_price == Decimal("0.30")


def test_total_price_follows_bulk_update_and_queryset_update():
    order = OrderFactory(quantity=2, price=Decimal("1500.00"))
    Order.objects.filter(pk=order.pk).update(quantity=5)
    order.refresh_from_db()
    assert order.total_price == Decimal("7500.00")
    order.price = Decimal("19.99")
    Order.objects.bulk_update([order], ["price"])
    order.refresh_from_db()
    assert order.total_price == Decimal("99.95")


def test_total_price_filled_by_bulk_create():
    client = ClientFactory()
    Order.objects.bulk_create([Order(client=client, product="Мышь", quantity=4, price=Decimal("250.25"))])
    assert Order.objects.get().total_price == Decimal("1001.00")


def test_database_refuses_zero_quantity():
    client = ClientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.bulk_create([Order(client=client, product="x", quantity=0, price=1)])


def test_database_refuses_negative_price():
    client = ClientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.bulk_create([Order(client=client, product="x", quantity=1, price=Decimal("-1"))])


def test_database_refuses_unknown_order_status():
    order = OrderFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status="Lost")


def test_database_refuses_unknown_client_status():
    client = ClientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.filter(pk=client.pk).update(status="deleted")


def test_database_refuses_same_email_in_other_case():
    ClientFactory(email="ivanov@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.bulk_create([Client(first_name="a", last_name="b", email="IVANOV@example.com")])


def test_database_refuses_empty_required_fields():
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.bulk_create([Client(first_name="", last_name="b", email="x@example.com")])


def test_client_with_orders_cannot_be_deleted_by_accident():
    order = OrderFactory()
    with pytest.raises(ProtectedError), transaction.atomic():
        order.client.delete()
    assert Order.objects.filter(pk=order.pk).exists()


def test_save_normalises_email_and_search_text():
    client = ClientFactory(first_name=" Пётр ", last_name="Иванов", email=" Petr@Example.COM ", mobile_phone="+7 (900) 123-45-67")
    assert client.first_name == "Пётр"
    assert client.email == "petr@example.com"
    assert "петр" in client.search_text
    assert "79001234567" in client.search_text


def test_new_order_is_pending_with_quantity_one():
    order = Order(client=ClientFactory(), product="x", price=1)
    assert order.status == Order.Status.PENDING
    assert order.quantity == 1


def test_names_for_display():
    client = ClientFactory(first_name="Иван", last_name="Иванов", middle_name="Иванович")
    assert client.full_name == "Иван Иванов"
    assert str(client) == "Иванов Иван Иванович"
