"""The client page: a summary of the client's orders (selectors.client_summary) above the form, exact to the kopeck,
every card opening the orders it counts; the hidden version field and the orders inline stay."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from crm import selectors
from crm.models import Order
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db
MOSCOW = ZoneInfo("Europe/Moscow")


def order_at(when, **fields):
    order = OrderFactory(**fields)
    Order.objects.filter(pk=order.pk).update(created_at=when)
    return order


@pytest.fixture
def shopper(db):
    """A client with orders in every status, sums that only add up exactly in cents, and known first/last dates."""
    client = ClientFactory(first_name="Анна", last_name="Ёлкина", email="elkina@example.com")
    order_at(datetime(2024, 3, 1, 10, 0, tzinfo=MOSCOW), client=client, price="0.10", quantity=3,
             status=Order.Status.COMPLETED)
    order_at(datetime(2024, 5, 2, 23, 30, tzinfo=MOSCOW), client=client, price="0.20", quantity=1,
             status=Order.Status.COMPLETED)
    order_at(datetime(2024, 4, 1, 12, 0, tzinfo=MOSCOW), client=client, price="1000.05", quantity=3,
             status=Order.Status.PENDING)
    order_at(datetime(2024, 6, 1, 12, 0, tzinfo=MOSCOW), client=client, price="500.00",
             status=Order.Status.CANCELLED)
    OrderFactory(price="777.00")  # another client's order counts nowhere here
    return client


def test_summary_counts_and_sums_every_status_exactly_in_one_query(shopper, django_assert_num_queries):
    with django_assert_num_queries(1):
        summary = selectors.client_summary(shopper)
    assert summary.by_status == [
        ("Pending", "В ожидании", 1, Decimal("3000.15")),
        ("Completed", "Завершён", 2, Decimal("0.50")),
        ("Cancelled", "Отменён", 1, Decimal("500.00")),
    ]
    assert summary.orders_count == 4
    # Spent: the orders that were not cancelled; 3000.65 / 3 = 1000.2166… rounds to 1000.22.
    assert (summary.spent_orders_count, summary.total_spent, summary.average_order) == (
        3, Decimal("3000.65"), Decimal("1000.22")
    )
    assert summary.first_order_at == datetime(2024, 3, 1, 10, 0, tzinfo=MOSCOW)
    # The cancelled order is still the client's last order.
    assert summary.last_order_at == datetime(2024, 6, 1, 12, 0, tzinfo=MOSCOW)


def test_summary_of_the_largest_orders_keeps_every_kopeck(db):
    client = ClientFactory()
    for _ in range(3):
        OrderFactory(client=client, price="99999999.99", quantity=10000)  # 999 999 999 900,00 ₽ each
    OrderFactory(client=client, price="0.01")
    summary = selectors.client_summary(client)
    assert summary.total_spent == Decimal("2999999999700.01")
    assert summary.average_order == Decimal("749999999925.00")


def test_summary_of_a_client_without_orders_is_zero_and_has_no_dates(db):
    summary = selectors.client_summary(ClientFactory())
    assert (summary.orders_count, summary.total_spent, summary.average_order) == (0, Decimal("0.00"), Decimal("0.00"))
    assert summary.first_order_at is None and summary.last_order_at is None
    assert [count for _value, _label, count, _sum in summary.by_status] == [0, 0, 0]


def summary_html(page: str) -> str:
    start = page.index('id="client-summary"')
    return page[start:page.index("<form", start)]


def test_client_page_opens_with_the_summary_cards(manager_client, shopper):
    page = manager_client.get(reverse("admin:crm_client_change", args=[shopper.pk])).content.decode()
    summary = summary_html(page)
    for text in ("Потрачено всего", "3\xa0000,65\xa0₽", "Средний заказ", "1\xa0000,22\xa0₽",
                 "3 заказа, без учёта отменённых", "Первый заказ", "01.03.2024", "Последний заказ", "01.06.2024",
                 "всего 4 заказа", "1 заказ", "2 заказа", "3\xa0000,15\xa0₽", "0,50\xa0₽", "500,00\xa0₽"):
        assert text in summary, text
    # Status badges (unfold's labels), one per status.
    for label in ("В ожидании", "Завершён", "Отменён"):
        assert re.search(rf"<span[^>]*>\s*{label}\s*</span>", summary), label
    # The amounts stay on one line.
    assert summary.count("whitespace-nowrap") >= 7
    # The summary comes before the form; the form still carries the version field and the orders inline.
    assert page.index('id="client-summary"') < page.index('id="client_form"')
    assert 'name="seen_version"' in page
    assert "Заказы клиента" in page


def test_every_summary_card_opens_the_orders_it_counts(manager_client, shopper):
    page = manager_client.get(reverse("admin:crm_client_change", args=[shopper.pk])).content.decode()
    hrefs = [href.replace("&amp;", "&") for href in re.findall(r'<a href="([^"]+)"', summary_html(page))]
    orders = reverse("admin:crm_order_changelist")
    mine = f"{orders}?client__id__exact={shopper.pk}"
    assert hrefs == [
        f"{mine}&status__in=Pending,Completed",
        f"{mine}&status__in=Pending,Completed",
        mine,
        mine,
        f"{mine}&status__exact=Pending",
        f"{mine}&status__exact=Completed",
        f"{mine}&status__exact=Cancelled",
    ]
    # The "spent" list holds exactly the three orders that were not cancelled.
    listed = manager_client.get(hrefs[0]).content.decode()
    shown = {int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', listed)}
    assert shown == set(shopper.orders.exclude(status=Order.Status.CANCELLED).values_list("pk", flat=True))


def test_client_without_orders_shows_zeros_and_no_dates(manager_client):
    client = ClientFactory()
    summary = summary_html(manager_client.get(reverse("admin:crm_client_change", args=[client.pk])).content.decode())
    assert "0,00\xa0₽" in summary and "заказов пока нет" in summary and "—" in summary


def test_add_page_has_no_summary(manager_client):
    page = manager_client.get(reverse("admin:crm_client_add")).content.decode()
    assert 'id="client-summary"' not in page


def test_viewer_sees_the_summary_too(viewer_client, shopper):
    page = viewer_client.get(reverse("admin:crm_client_change", args=[shopper.pk])).content.decode()
    assert "3\xa0000,65\xa0₽" in summary_html(page)


def test_form_with_errors_is_shown_again_with_its_summary(manager_client, shopper):
    url = reverse("admin:crm_client_change", args=[shopper.pk])
    response = manager_client.post(url, {"last_name": "", "first_name": "Анна", "email": "elkina@example.com",
                                         "status": "active", "seen_version": shopper.version,
                                         "orders-TOTAL_FORMS": "0", "orders-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert "3\xa0000,65\xa0₽" in summary_html(response.content.decode())


def test_inline_lists_orders_newest_first_by_creation_time(manager_client, db):
    client = ClientFactory()
    newer = order_at(datetime(2024, 6, 1, 12, 0, tzinfo=MOSCOW), client=client, product="Новый")
    # Added later (a larger id) but created earlier, as an import of old orders does.
    older = order_at(datetime(2024, 1, 1, 12, 0, tzinfo=MOSCOW), client=client, product="Старый")
    assert older.pk > newer.pk
    page = manager_client.get(reverse("admin:crm_client_change", args=[client.pk])).content.decode()
    inline = page[page.index("Заказы клиента"):]
    assert inline.index("Новый") < inline.index("Старый")
    assert "1\xa0500,00\xa0₽" in inline


def test_client_page_queries_do_not_grow_with_the_orders(manager_client, django_assert_max_num_queries):
    client = ClientFactory()
    for _ in range(30):
        OrderFactory(client=client, status=Order.Status.COMPLETED)
    with django_assert_max_num_queries(25) as few:
        assert manager_client.get(reverse("admin:crm_client_change", args=[client.pk])).status_code == 200
    for _ in range(30):
        OrderFactory(client=client, status=Order.Status.PENDING, created_at=datetime.now(MOSCOW) - timedelta(days=1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert manager_client.get(reverse("admin:crm_client_change", args=[client.pk])).status_code == 200
