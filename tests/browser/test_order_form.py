"""The order form in Chromium (ru-RU): a price typed with a decimal comma is saved to the kopeck, and the total
is shown while typing."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.models import Client, Order
from tests.browser.test_staff_journey import log_in
from tests.factories import ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TOTAL = "#id_price_total"


def test_price_typed_with_a_decimal_comma_is_saved_exactly_and_totalled_live(page, screenshot, demo_manager):
    buyer = ClientFactory(first_name="Анна", last_name="Ёлкина", email="elkina@example.com")
    log_in(page)

    page.goto(f"/admin/crm/order/add/?client={buyer.pk}")
    page.fill("input[name=product]", "Ноутбук")
    page.fill("input[name=quantity]", "2")
    expect(page.locator(TOTAL)).to_have_text("—")
    # Typed key by key, as a person types it: <input type="number"> used to drop the comma here.
    page.locator("input[name=price]").press_sequentially("89990,50")
    expect(page.locator(TOTAL)).to_have_text("179\xa0981,00\xa0₽")
    screenshot("order-form-01-live-total")

    page.fill("input[name=quantity]", "3")
    expect(page.locator(TOTAL)).to_have_text("269\xa0971,50\xa0₽")
    page.fill("input[name=price]", "1.234,50")  # ambiguous: no total shown, and the server refuses it
    expect(page.locator(TOTAL)).to_have_text("—")
    page.click("button[name=_continue]")
    expect(page.locator(".errors")).to_contain_text("Введите сумму, например 89 990,50")
    assert not Order.objects.exists()
    screenshot("order-form-02-ambiguous-price-refused")

    page.fill("input[name=quantity]", "2")
    page.fill("input[name=price]", "89 990,50")
    expect(page.locator(TOTAL)).to_have_text("179\xa0981,00\xa0₽")
    page.click("button[name=_continue]")
    page.wait_for_url(re.compile(r"/admin/crm/order/\d+/change/"))
    order = Order.objects.get()
    assert (order.price, order.total_price) == (Decimal("89990.50"), Decimal("179981.00"))
    # The saved order shows its price as people write it, and the same total.
    expect(page.locator("input[name=price]")).to_have_value("89990,50")
    expect(page.locator(TOTAL)).to_have_text("179\xa0981,00\xa0₽")
    screenshot("order-form-03-saved")


def test_phone_typed_any_way_is_stored_in_one_form_and_shown_grouped(page, screenshot, demo_manager):
    log_in(page)

    page.goto("/admin/crm/client/add/")
    page.fill("input[name=last_name]", "Ёлкина")
    page.fill("input[name=first_name]", "Анна")
    page.fill("input[name=email]", "elkina@example.com")
    page.fill("input[name=mobile_phone]", "8 900 555 44 33")
    page.click("button[name=_continue]")
    page.wait_for_url(re.compile(r"/admin/crm/client/\d+/change/"))

    assert Client.objects.get().mobile_phone == "+79005554433"
    expect(page.locator("input[name=mobile_phone]")).to_have_value("+7 (900) 555-44-33")
    page.goto("/admin/crm/client/")
    expect(page.locator("#result_list")).to_contain_text("+7 (900) 555-44-33")
    screenshot("client-list-phone-grouped")
