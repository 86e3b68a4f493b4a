"""The order and client lists in a real browser (ru-RU): summary, page numbers, quick periods, archived clients."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.models import Client, Order
from tests.browser.test_staff_journey import log_in
from tests.factories import ClientFactory, OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def shop(db):
    from django.utils import timezone

    now = timezone.now()
    smirnov = ClientFactory(first_name="Борис", last_name="Смирнов")
    elkina = ClientFactory(first_name="Анна", last_name="Ёлкина")
    ClientFactory(first_name="Олег", last_name="Пустов", status=Client.Status.ARCHIVED)
    ClientFactory(first_name="Пётр", last_name="Безпокупкин")
    products = ["Ноутбук", "Мышь", "Монитор", "Клавиатура", "Кабель USB-C"]
    rows = []
    for number in range(57):
        order = Order(client=smirnov if number % 3 else elkina, product=products[number % 5], quantity=1 + number % 4,
                      price=Decimal("1499.90") + number, created_at=now - timedelta(days=number),
                      status=Order.Status.values[number % 3])
        order.normalize_fields()
        rows.append(order)
    Order.objects.bulk_create(rows)
    OrderFactory(client=elkina, product="Сервер", price=Decimal("250000.00"))


def test_order_list_answers_how_many_and_for_how_much(page, screenshot, demo_manager, shop):
    log_in(page)
    page.goto("/admin/crm/order/")
    summary = page.locator("#change-list-summary")
    expect(summary).to_have_text(re.compile(r"^Найдено 58 заказов на сумму [\d\s]+,\d\d\s₽$"))
    # Page numbers, and the quick periods above the table.
    expect(page.locator("a[href='?p=2']").first).to_be_visible()
    expect(page.locator("#change-list-quick-links a.active")).to_have_text("За всё время")
    screenshot("lists-01-orders")

    page.locator("#change-list-quick-links a", has_text="7 дней").click()
    page.wait_for_url(re.compile(r"period=7days"))
    expect(page.locator("#change-list-quick-links a.active")).to_have_text("7 дней")
    expect(summary).to_contain_text("Найдено 8 заказов")
    screenshot("lists-02-orders-7-days")

    page.goto("/admin/crm/order/?p=2")
    expect(page.locator("#result_list tbody tr")).to_have_count(8)
    screenshot("lists-03-orders-page-2")


def test_client_list_shows_active_clients_with_their_orders(page, screenshot, demo_manager, shop):
    log_in(page)
    page.goto("/admin/crm/client/")
    expect(page.locator("#result_list")).to_contain_text("Последний заказ")
    expect(page.locator("#result_list")).not_to_contain_text("Пустов")
    expect(page.locator("#change-list-quick-links a.active")).to_have_text("Активные")
    screenshot("lists-04-clients")

    page.locator("#change-list-quick-links a", has_text="В архиве").click()
    page.wait_for_url(re.compile(r"status__exact=archived"))
    expect(page.locator("#result_list")).to_contain_text("Пустов")
    screenshot("lists-05-clients-archived")


def test_adding_an_order_for_an_archived_client_asks_first(page, screenshot, demo_manager, shop):
    archived = Client.objects.get(last_name="Пустов")
    log_in(page)
    page.goto(f"/admin/crm/order/add/?client={archived.pk}")
    page.fill("input[name=product]", "Ноутбук")
    page.fill("input[name=quantity]", "1")
    page.fill("input[name=price]", "1500.00")
    page.click("button[name=_save]")
    expect(page.locator("body")).to_contain_text("в архиве: восстановите клиента или подтвердите заказ")
    assert not Order.objects.filter(client=archived).exists()
    screenshot("lists-06-order-for-archived-client")

    page.get_by_label("Восстановить клиента и оформить заказ").check()
    page.click("button[name=_save]")
    page.wait_for_url(re.compile(r"/admin/crm/order/$"))
    archived.refresh_from_db()
    assert archived.status == Client.Status.ACTIVE and archived.orders.count() == 1
