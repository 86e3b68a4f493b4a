"""The selectors the admin reads through: the dashboard's figures (exact money, the right windows, a fixed number
of queries), the deleted orders, the clients with or without orders and the clients' totals."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm import selectors, services
from crm.models import Client, Order
from crm.selectors import CHART_DAYS, dashboard_figures
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2025, 3, 15, 12, 0, tzinfo=ZoneInfo("Europe/Moscow"))


def order_at(when, **fields):
    order = OrderFactory(**fields)
    Order.objects.filter(pk=order.pk).update(created_at=when)
    return order


def test_revenue_is_exact_and_compares_months(django_assert_num_queries):
    for _ in range(3):
        order_at(NOW - timedelta(days=1), price="0.10", quantity=1)
    order_at(NOW - timedelta(days=2), price="1000.05", quantity=3)
    order_at(NOW - timedelta(days=2), price="500.00", status=Order.Status.CANCELLED)
    order_at(datetime(2025, 2, 10, 12, 0, tzinfo=ZoneInfo("Europe/Moscow")), price="10.01", quantity=7)
    with django_assert_num_queries(4):
        figures = dashboard_figures(now=NOW)
    assert figures.revenue_this_month == Decimal("3000.45")
    assert figures.orders_this_month == 4
    assert figures.average_order_value == Decimal("750.11")
    assert figures.revenue_last_month == Decimal("70.07")
    assert figures.pending_orders == 5
    by_status = {value: (count, total) for value, _label, count, total in figures.by_status}
    assert by_status["Cancelled"] == (1, Decimal("500.00"))
    assert by_status["Completed"] == (0, Decimal("0.00"))


def test_chart_has_one_point_per_day_and_counts_orders_on_their_local_day():
    # 23:30 in Moscow is still "yesterday" there although it is 20:30 UTC.
    order_at(datetime(2025, 3, 14, 23, 30, tzinfo=ZoneInfo("Europe/Moscow")), price="2.00")
    figures = dashboard_figures(now=NOW)
    assert len(figures.per_day) == CHART_DAYS
    assert figures.per_day[-1][0] == NOW.date()
    days = {day: (count, revenue) for day, count, revenue in figures.per_day}
    assert days[NOW.date() - timedelta(days=1)] == (1, Decimal("2.00"))


def test_client_cards():
    ClientFactory()
    archived = ClientFactory(status=Client.Status.ARCHIVED)
    old = ClientFactory()
    Client.objects.filter(pk=old.pk).update(added_at=NOW - timedelta(days=40))
    Client.objects.exclude(pk=old.pk).update(added_at=NOW - timedelta(days=3))
    figures = dashboard_figures(now=NOW)
    assert figures.active_clients == 2
    assert figures.new_clients == 2
    assert archived.pk not in [o.client_id for o in figures.latest_orders]


def test_no_orders_no_division_by_zero():
    figures = dashboard_figures(now=NOW)
    assert figures.average_order_value == Decimal("0.00")
    assert figures.revenue_change_percent is None


def test_months_are_cut_at_local_midnight():
    # The last minute of February in Moscow is still February, the first of March is March.
    order_at(datetime(2025, 2, 28, 23, 59, tzinfo=ZoneInfo("Europe/Moscow")), price="1.00")
    order_at(datetime(2025, 3, 1, 0, 0, tzinfo=ZoneInfo("Europe/Moscow")), price="2.00")
    order_at(datetime(2025, 1, 31, 23, 59, tzinfo=ZoneInfo("Europe/Moscow")), price="4.00")  # before last month
    order_at(datetime(2025, 2, 1, 0, 0, tzinfo=ZoneInfo("Europe/Moscow")), price="8.00")
    figures = dashboard_figures(now=NOW)
    assert (figures.revenue_this_month, figures.orders_this_month) == (Decimal("2.00"), 1)
    assert figures.revenue_last_month == Decimal("9.00")


def test_days_are_local_days_across_a_daylight_saving_change(settings):
    # Berlin moves its clocks on 30 March 2025: the per-day grouping must follow the local calendar.
    from django.utils import timezone

    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2025, 4, 10, 12, 0, tzinfo=berlin)
    order_at(datetime(2025, 3, 29, 23, 30, tzinfo=berlin), price="1.00")  # UTC+1
    order_at(datetime(2025, 3, 30, 23, 30, tzinfo=berlin), price="2.00")  # UTC+2: 21:30 UTC
    order_at(datetime(2025, 4, 1, 0, 30, tzinfo=berlin), price="4.00")
    with timezone.override(berlin):
        figures = dashboard_figures(now=now)
    days = {day: revenue for day, _count, revenue in figures.per_day if revenue}
    assert days == {
        datetime(2025, 3, 29).date(): Decimal("1.00"),
        datetime(2025, 3, 30).date(): Decimal("2.00"),
        datetime(2025, 4, 1).date(): Decimal("4.00"),
    }
    assert (figures.revenue_this_month, figures.revenue_last_month) == (Decimal("4.00"), Decimal("3.00"))


# ---------------------------------------------------------------------------
# Reads behind the client and order admins
# ---------------------------------------------------------------------------
def test_client_status_of_an_existing_and_a_missing_client():
    client = ClientFactory(status=Client.Status.ARCHIVED)
    assert selectors.client_status(client.pk) == "archived"
    assert selectors.client_status(client.pk + 1000) is None


def test_clients_with_and_without_orders():
    buyer, idle = ClientFactory(), ClientFactory()
    OrderFactory(client=buyer)
    assert list(selectors.clients_with_orders(Client.objects.all(), has_orders=True)) == [buyer]
    assert list(selectors.clients_with_orders(Client.objects.all(), has_orders=False)) == [idle]


def test_client_totals_count_and_sum_each_clients_orders():
    buyer, idle = ClientFactory(), ClientFactory()
    OrderFactory(client=buyer, quantity=3, price="0.10")
    OrderFactory(client=buyer, quantity=1, price="1000.05")
    rows = {client.pk: client for client in selectors.client_list_with_totals(status="all")}
    assert (rows[buyer.pk].orders_count, rows[buyer.pk].orders_total) == (2, Decimal("1000.35"))
    assert (rows[idle.pk].orders_count, rows[idle.pk].orders_total) == (0, Decimal("0"))


def test_deleted_orders_are_the_deleted_and_not_restored_ones_with_their_total():
    kept = OrderFactory(product="Стол")
    deleted = OrderFactory(product="Стул", quantity=3, price="1000.05")
    restored = OrderFactory(product="Шкаф")
    deleted_id, restored_id = deleted.pk, restored.pk
    services.order_delete(order=deleted)
    services.order_delete(order=restored)
    services.order_restore(history_record=Order.history.filter(id=restored_id, history_type="-").get())

    records = list(selectors.deleted_order_list())

    assert [record.id for record in records] == [deleted_id]
    assert records[0].total == Decimal("3000.15")
    assert kept.pk not in [record.id for record in records]


@pytest.mark.django_db
def test_the_order_list_summary_of_all_orders_or_one_status_is_read_from_the_rollups():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = ClientFactory()
    for status, price in [("Pending", "10.05"), ("Completed", "99.99"), ("Completed", "0.01"), ("Cancelled", "5.00")]:
        OrderFactory(client=client, status=status, quantity=2, price=Decimal(price))
    order = Order.objects.filter(status="Pending").get()
    services.order_update(order=order, status="Completed")  # a change of status moves its sum in the rollups
    expected = {
        None: Order.objects.filter(client=client),  # the same rows, summed from the orders
        "Completed": Order.objects.filter(client=client, status="Completed"),
        "Pending": Order.objects.filter(client=client, status="Pending"),
    }
    for status, from_orders in expected.items():
        listed = Order.objects.all() if status is None else Order.objects.filter(status=status)
        with CaptureQueriesContext(connection) as queries:
            summary = selectors.order_list_summary(listed)
        assert summary == selectors.order_list_summary(from_orders)
        assert all('"crm_order"' not in query["sql"] for query in queries.captured_queries)  # rollups only
    assert selectors.order_list_summary(Order.objects.all()).count == 4
    assert selectors.order_list_summary(Order.objects.filter(status="Pending")).count == 0
    # Any other condition is summed from the orders.
    with CaptureQueriesContext(connection) as queries:
        assert selectors.order_list_summary(Order.objects.filter(status="Completed", quantity=2)).count == 3
    assert any('"crm_order"' in query["sql"] for query in queries.captured_queries)
