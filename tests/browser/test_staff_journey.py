"""A manager's day in a real browser: log in, dashboard, client, order, filters, bulk action, history."""

import re

import pytest
from playwright.sync_api import expect

from crm.models import Client, Order
from tests.browser.conftest import log_in
from tests.factories import ClientFactory, OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_manager_journey(page, screenshot, demo_manager):
    ClientFactory(first_name="Борис", last_name="Смирнов", email="smirnov@example.com")
    for status in ("Pending", "Completed", "Cancelled"):
        OrderFactory(product=f"Заказ {status}", status=status)

    page.goto("/admin/login/")
    screenshot("01-login")
    log_in(page)

    # The dashboard, in Russian, with its chart drawn.
    expect(page.locator("#crm-dashboard")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("canvas.chart")).to_be_visible()
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length > 0")
    screenshot("02-dashboard")

    # Create a client.
    page.goto("/admin/crm/client/add/")
    page.fill("input[name=last_name]", "Ёлкина")
    page.fill("input[name=first_name]", "Анна")
    page.fill("input[name=email]", "elkina@example.com")
    page.fill("input[name=mobile_phone]", "+7 900 555-44-33")
    screenshot("03-client-add")
    page.click("button[name=_continue]")
    page.wait_for_url(re.compile(r"/admin/crm/client/\d+/change/"))
    client = Client.objects.get(email="elkina@example.com")
    expect(page.locator("body")).to_contain_text("Ёлкина Анна")
    screenshot("04-client-change")

    # Add an order for it, picking the client with the autocomplete.
    page.goto("/admin/crm/order/add/")
    page.click("#id_client + .select2 .select2-selection")
    page.fill(".select2-search__field", "ёлкина")
    page.locator(".select2-results__option", has_text="Ёлкина Анна").click()
    page.fill("input[name=product]", "Ноутбук")
    page.fill("input[name=quantity]", "2")
    page.fill("input[name=price]", "1500.00")
    screenshot("05-order-add")
    page.click("button[name=_save]")
    page.wait_for_url(re.compile(r"/admin/crm/order/$"))
    order = Order.objects.get(client=client)
    assert str(order.total_price) == "3000.00"
    screenshot("06-order-list")

    # Filter orders by status.
    page.goto("/admin/crm/order/?status__exact=Pending")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).not_to_contain_text("Заказ Completed")
    screenshot("07-orders-filtered")

    # A bulk action: mark the new order Completed.
    page.locator(f"#result_list input.action-select[value='{order.pk}']").check()
    page.select_option("select[name=action]", "mark_completed")
    page.locator("#changelist-actions button[type=submit], button[name=index]").first.click()
    page.wait_for_load_state("networkidle")
    order.refresh_from_db()
    assert order.status == "Completed"
    screenshot("08-bulk-action-done")

    # The client's history shows who created it.
    page.goto(f"/admin/crm/client/{client.pk}/history/")
    expect(page.locator("body")).to_contain_text("test")
    screenshot("09-client-history")

    page.goto(f"/admin/crm/client/{client.pk}/change/")
    expect(page.locator("body")).to_contain_text("Ноутбук")
