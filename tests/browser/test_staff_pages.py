"""The staff pages in a real browser, with screenshots: the client page's summary, the dashboard on a laptop and on a
phone, the Ctrl+K palette with results, the report page and the report list (nothing scrolls sideways)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.models import Order
from reports.services import report_generate
from tests.browser.conftest import SCREENSHOTS, log_in
from tests.factories import ClientFactory, OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1440, "height": 900}

# Nothing scrolls sideways: neither the document nor any scroll box (a wide table scrolls inside its own simplebar
# box, which the document's width does not show).
OVERFLOWING = """
() => [...document.querySelectorAll("body *")]
    .filter((el) => el.offsetParent !== null && ["auto", "scroll"].includes(getComputedStyle(el).overflowX)
        && el.scrollWidth > el.clientWidth + 1)
    .map((el) => `${el.tagName}.${el.className.toString().slice(0, 60)} ${el.scrollWidth}>${el.clientWidth}`)
"""


def assert_nothing_scrolls_sideways(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(OVERFLOWING) == []


def wait_for_charts(page, count):
    page.wait_for_function(f"() => window.Chart && Object.keys(Chart.instances).length >= {count}")


@pytest.fixture
def shop(db):
    """A client with orders in every status over the last weeks, and a large order to widen the amounts."""
    elkina = ClientFactory(first_name="Анна", last_name="Ёлкина", middle_name="", email="elkina@example.com",
                           mobile_phone="+7 900 555-44-33")
    now = timezone.now()
    for day in range(40):
        status = (Order.Status.PENDING, Order.Status.COMPLETED, Order.Status.CANCELLED)[day % 3]
        order = OrderFactory(client=elkina if day % 4 == 0 else ClientFactory(), product=f"Ноутбук {day}",
                             quantity=1 + day % 3, price=f"{1500 + day * 37}.50", status=status)
        Order.objects.filter(pk=order.pk).update(created_at=now - timedelta(days=day, hours=day % 5))
    OrderFactory(client=elkina, product="Сервер", quantity=5, price="99999999.99", status=Order.Status.COMPLETED)
    return elkina


def test_client_page_opens_with_its_summary(page, screenshot, demo_manager, shop):
    page.set_viewport_size(LAPTOP)
    log_in(page)
    page.goto(f"/admin/crm/client/{shop.pk}/change/")
    summary = page.locator("#client-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Потрачено всего")
    expect(summary).to_contain_text("Первый заказ")
    expect(page.locator("#client-summary-statuses")).to_contain_text("Завершён")
    assert_nothing_scrolls_sideways(page)
    screenshot("pages-01-client-summary")
    # A status card opens that client's orders in that status.
    page.locator("#client-summary-statuses a").nth(1).click()
    page.wait_for_url(re.compile(rf"client__id__exact={shop.pk}&status__exact=Completed"))
    expect(page.locator("#result_list tbody tr").first).to_contain_text("Завершён")


def test_dashboard_on_a_laptop_and_on_a_phone(page, screenshot, browser, live_server, demo_manager, shop):
    page.set_viewport_size(LAPTOP)
    log_in(page)
    wait_for_charts(page, 1)
    assert_nothing_scrolls_sideways(page)
    screenshot("pages-02-dashboard-1440")
    page.locator("#crm-kpi a", has_text="Выручка в этом месяце").click()
    page.wait_for_url(re.compile(r"/admin/crm/order/\?created_at_from=.*status__in=Pending,Completed"))

    phone = browser.new_context(viewport=PHONE, locale="ru-RU", base_url=live_server.url, is_mobile=True,
                                has_touch=True, device_scale_factor=2)
    try:
        mobile = phone.new_page()
        log_in(mobile)
        wait_for_charts(mobile, 1)
        assert_nothing_scrolls_sideways(mobile)
        chart = mobile.locator("canvas.chart").bounding_box()
        # Tall enough to read (the old aspect ratio left it about 100 px high), inside the screen.
        assert chart["height"] >= 250 and chart["x"] >= 0 and chart["x"] + chart["width"] <= PHONE["width"]
        # Every amount on one line, whole.
        for metric in mobile.locator("#crm-kpi .whitespace-nowrap").all():
            assert metric.evaluate("(el) => el.scrollWidth <= el.clientWidth && el.getClientRects().length === 1")
        mobile.screenshot(path=str(SCREENSHOTS / "pages-03-dashboard-390.png"), full_page=True)
    finally:
        phone.close()


def test_palette_finds_clients_and_orders(page, screenshot, demo_manager, shop):
    page.set_viewport_size(LAPTOP)
    log_in(page)
    page.keyboard.press("Control+k")
    field = page.locator("#search-input-command")
    expect(field).to_be_visible()
    # Cyrillic is typed as text, without key events: a key press after it is what the palette listens to.
    field.fill("ёлкина")
    field.press("End")
    client_result = page.locator(f"#command-results-list a[href='/admin/crm/client/{shop.pk}/change/']")
    expect(client_result).to_be_visible()
    expect(client_result).to_contain_text("elkina@example.com")
    screenshot("pages-04-palette-client")

    field.fill("ноутбук 3")
    field.press("End")
    expect(page.locator("#command-results-list a[href*='/admin/crm/order/']").first).to_be_visible()
    screenshot("pages-05-palette-orders")
    page.locator("#command-results-list a[href*='/admin/crm/order/']").first.click()
    page.wait_for_url(re.compile(r"/admin/crm/order/\d+/change/"))


def test_report_page_and_list_fit_a_laptop(page, screenshot, demo_manager, shop):
    reports = [report_generate(period=period, user=demo_manager) for period in ("week", "month", "year")]
    page.set_viewport_size(LAPTOP)
    log_in(page)

    page.goto("/admin/reports/report/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    assert_nothing_scrolls_sideways(page)
    # The row's actions button is on screen; it offers the download.
    more = page.locator("#result_list td.field-actions_holder span.material-symbols-outlined").first
    expect(more).to_be_visible()
    box = more.bounding_box()
    assert box["x"] + box["width"] <= LAPTOP["width"]
    screenshot("pages-06-report-list-1440")
    more.click()
    download = page.locator(f"a[href='/admin/reports/report/{reports[2].pk}/download_text/']").last
    expect(download).to_be_visible()

    page.goto(f"/admin/reports/report/{reports[2].pk}/change/")
    wait_for_charts(page, 2)
    expect(page.locator("#report-figures")).to_contain_text("Сумма новых заказов")
    expect(page.locator("#report-page")).to_contain_text("Топ товаров")
    expect(page.locator("h1")).to_contain_text("Аналитика")
    expect(page.locator("#report-page a", has_text="Скачать текст")).to_be_visible()
    assert_nothing_scrolls_sideways(page)
    screenshot("pages-07-report-page-1440")
