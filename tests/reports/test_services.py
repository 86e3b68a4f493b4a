"""report_generate() and report_figures() against a hand-made data set with known answers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Order
from reports.models import Report
from reports.selectors import report_figures, report_list
from reports.services import report_generate, report_window
from tests.reports.conftest import NOW, make_client, make_order

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
def dataset():
    """Orders and clients just inside and just outside each window, every status, many 0.10 prices."""
    regular = make_client(last_name="Старый", first_name="Клиент", middle_name="")
    # Clients: 2 added in the week, 1 more in the month, 1 more in the year; one at `now` (end is exclusive).
    newcomer = make_client(added_at=NOW - timedelta(days=1), last_name="Новый", first_name="Пётр", middle_name="")
    make_client(added_at=NOW - timedelta(days=7))
    make_client(added_at=NOW - timedelta(days=7) - MICROSECOND)
    make_client(added_at=NOW - timedelta(days=200))
    make_client(added_at=NOW)

    # The week: 12 orders, 4002.99 in all.
    make_order(created_at=NOW - timedelta(hours=1), client=regular, product="Ноутбук", quantity=2,
               price="1500.00", status=Order.Status.COMPLETED)
    for _ in range(10):  # 3 × 0.10 is 0.30000000000000004 in floating point
        make_order(created_at=NOW - timedelta(days=2), client=newcomer, product="Карандаш", quantity=3, price="0.10")
    make_order(created_at=NOW - timedelta(days=7), client=newcomer, product="Телефон", price="999.99",
               status=Order.Status.CANCELLED)
    # Just outside the week, inside the month.
    make_order(created_at=NOW - timedelta(days=7) - SECOND, client=regular, product="Телефон", price="500.00",
               status=Order.Status.COMPLETED)
    make_order(created_at=NOW - timedelta(days=30), client=regular, product="Монитор", price="20000.00",
               status=Order.Status.COMPLETED)
    # Just outside the month, inside the year.
    make_order(created_at=NOW - timedelta(days=30) - SECOND, client=regular, product="Монитор", price="7000.00")
    make_order(created_at=NOW - timedelta(days=365), client=newcomer, product="Стол", quantity=2, price="0.05",
               status=Order.Status.COMPLETED)
    # Outside every window: before the year, and at `now` itself (the end is exclusive).
    make_order(created_at=NOW - timedelta(days=365) - SECOND, client=regular, product="Стол", price="1000.00",
               status=Order.Status.COMPLETED)
    make_order(created_at=NOW, client=regular, product="Ноутбук", price="100.00")
    return {"regular": regular, "newcomer": newcomer}


def test_week_report_counts_only_the_last_seven_days(dataset):
    report = report_generate(period="week", now=NOW)
    assert report.new_orders_count == 12
    assert report.new_clients_count == 2
    assert report.total_orders_sum == Decimal("4002.99")
    assert report.avg_order_sum == Decimal("333.58")  # 4002.99 / 12 = 333.5825
    assert report.completed_orders_count == 1
    assert report.status_breakdown == [
        {"status": "Pending", "count": 10, "sum": "3.00"},
        {"status": "Completed", "count": 1, "sum": "3000.00"},
        {"status": "Cancelled", "count": 1, "sum": "999.99"},
    ]
    assert report.top_products == [
        {"product": "Ноутбук", "count": 1, "sum": "3000.00"},
        {"product": "Телефон", "count": 1, "sum": "999.99"},
        {"product": "Карандаш", "count": 10, "sum": "3.00"},
    ]
    assert report.top_clients == [
        {"client_id": dataset["regular"].pk, "name": "Старый Клиент", "count": 1, "sum": "3000.00"},
        {"client_id": dataset["newcomer"].pk, "name": "Новый Пётр", "count": 11, "sum": "1002.99"},
    ]


def test_month_report_adds_the_orders_just_outside_the_week(dataset):
    report = report_generate(period="month", now=NOW)
    assert report.new_orders_count == 14
    assert report.new_clients_count == 3
    assert report.total_orders_sum == Decimal("24502.99")
    assert report.avg_order_sum == Decimal("1750.21")  # 24502.99 / 14 = 1750.2135…
    assert report.completed_orders_count == 3
    assert report.top_products[0] == {"product": "Монитор", "count": 1, "sum": "20000.00"}
    assert report.top_products[1] == {"product": "Ноутбук", "count": 1, "sum": "3000.00"}
    assert report.top_products[2] == {"product": "Телефон", "count": 2, "sum": "1499.99"}


def test_year_report_adds_the_orders_just_outside_the_month(dataset):
    report = report_generate(period="year", now=NOW)
    assert report.new_orders_count == 16
    assert report.new_clients_count == 4
    assert report.total_orders_sum == Decimal("31503.09")
    assert report.avg_order_sum == Decimal("1968.94")  # 31503.09 / 16 = 1968.943125
    assert report.completed_orders_count == 4
    assert {row["status"]: (row["count"], row["sum"]) for row in report.status_breakdown} == {
        "Pending": (11, "7003.00"),
        "Completed": (4, "23500.10"),
        "Cancelled": (1, "999.99"),
    }


def test_completed_count_follows_the_current_status_of_the_window_orders(dataset):
    Order.objects.filter(product="Карандаш").update(status=Order.Status.COMPLETED)
    assert report_generate(period="week", now=NOW).completed_orders_count == 11


def test_report_is_a_frozen_snapshot_saved_with_its_window_and_author(dataset, manager):
    report = report_generate(period="week", user=manager, now=NOW)
    report.refresh_from_db()
    assert report.created_by == manager
    assert report.created_at == NOW
    assert (report.period_start, report.period_end) == (NOW - timedelta(days=7), NOW)
    assert report.total_orders_sum == Decimal("4002.99") and report.avg_order_sum == Decimal("333.58")
    # Later orders do not change a report already made.
    make_order(created_at=NOW - timedelta(hours=2), price="1.00")
    report.refresh_from_db()
    assert report.new_orders_count == 12


def test_anonymous_or_missing_user_leaves_the_author_empty():
    assert report_generate(period="week", user=AnonymousUser(), now=NOW).created_by is None
    assert report_generate(period="week", now=NOW).created_by is None


def test_report_without_orders_has_zero_figures_and_every_status():
    report = report_generate(period="month", now=NOW)
    assert (report.new_orders_count, report.new_clients_count, report.completed_orders_count) == (0, 0, 0)
    assert report.total_orders_sum == Decimal("0.00")
    assert report.avg_order_sum == Decimal("0.00")
    assert [row["status"] for row in report.status_breakdown] == ["Pending", "Completed", "Cancelled"]
    assert all(row["count"] == 0 and row["sum"] == "0.00" for row in report.status_breakdown)
    assert report.top_products == [] and report.top_clients == []


def test_many_ten_kopeck_orders_add_up_exactly():
    client = make_client()
    Order.objects.bulk_create(
        [_unsaved_order(client, NOW - timedelta(hours=1), price="0.10") for _ in range(1000)]
    )
    figures = report_figures(start=NOW - timedelta(days=7), end=NOW)
    assert figures["total_orders_sum"] == Decimal("100.00")
    assert figures["avg_order_sum"] == Decimal("0.10")
    assert figures["status_breakdown"][0] == {"status": "Pending", "count": 1000, "sum": "100.00"}


def test_largest_orders_add_up_exactly_to_the_kopeck():
    make_order(created_at=NOW - timedelta(hours=1), quantity=1_000_000, price="99999999.99")
    make_order(created_at=NOW - timedelta(hours=1), quantity=1_000_000, price="99999999.99")
    make_order(created_at=NOW - timedelta(hours=1), price="0.01")
    figures = report_figures(start=NOW - timedelta(days=7), end=NOW)
    assert figures["total_orders_sum"] == Decimal("199999999980000.01")
    assert figures["avg_order_sum"] == Decimal("66666666660000.00")


def test_average_rounds_half_up():
    make_order(created_at=NOW - timedelta(hours=1), price="0.01")
    make_order(created_at=NOW - timedelta(hours=1), price="0.00")
    assert report_generate(period="week", now=NOW).avg_order_sum == Decimal("0.01")  # 0.005 → 0.01


def test_tops_keep_the_five_largest_sums():
    client = make_client()
    for number in range(1, 8):
        make_order(created_at=NOW - timedelta(hours=1), client=client, product=f"Товар {number}", price=f"{number}.00")
    report = report_generate(period="week", now=NOW)
    assert [row["product"] for row in report.top_products] == ["Товар 7", "Товар 6", "Товар 5", "Товар 4", "Товар 3"]
    assert len(report.top_clients) == 1 and report.top_clients[0]["sum"] == "28.00"


def test_top_products_break_ties_by_count_then_name_and_add_up_every_status():
    client = make_client()
    for product, price, status in [("Яблоко", "20.00", "Pending"), ("Яблоко", "20.00", "Cancelled"),
                                   ("Арбуз", "40.00", "Completed"), ("apple", "40.00", "Pending"),
                                   ("Груша", "10.00", "Pending"), ("Груша", "10.00", "Completed"),
                                   ("Груша", "20.00", "Cancelled")]:
        make_order(created_at=NOW - timedelta(hours=1), client=client, product=product, price=price, status=status)
    report = report_generate(period="week", now=NOW)
    # 40.00 each: Груша and Яблоко in more orders first, then by name in code point order (Latin before Cyrillic).
    assert report.top_products == [
        {"product": "Груша", "count": 3, "sum": "40.00"},
        {"product": "Яблоко", "count": 2, "sum": "40.00"},
        {"product": "apple", "count": 1, "sum": "40.00"},
        {"product": "Арбуз", "count": 1, "sum": "40.00"},
    ]
    assert report.status_breakdown == [
        {"status": "Pending", "count": 3, "sum": "70.00"},
        {"status": "Completed", "count": 2, "sum": "50.00"},
        {"status": "Cancelled", "count": 2, "sum": "40.00"},
    ]


def test_year_top_clients_keep_the_window_edges_and_full_names(dataset):
    # The newcomer's order at exactly the start is in; the regular's order a second before it and at `now` are out.
    report = report_generate(period="year", now=NOW)
    assert report.top_clients == [
        {"client_id": dataset["regular"].pk, "name": "Старый Клиент", "count": 4, "sum": "30500.00"},
        {"client_id": dataset["newcomer"].pk, "name": "Новый Пётр", "count": 12, "sum": "1003.09"},
    ]


def test_top_clients_break_ties_by_count_then_id_and_show_the_middle_name():
    first = make_client(last_name="Иванов", first_name="Иван", middle_name="Иванович")
    second = make_client(last_name="Петрова", first_name="Анна", middle_name="")
    third = make_client(last_name="Сидоров", first_name="Олег", middle_name="Петрович")
    for client in (third, second, first):
        make_order(created_at=NOW - timedelta(hours=1), client=client, price="30.00")
    make_order(created_at=NOW - timedelta(hours=2), client=third, price="10.00")  # 40.00 in two orders
    make_order(created_at=NOW - timedelta(hours=2), client=second, quantity=4, price="2.50")  # 40.00 in two
    make_order(created_at=NOW - timedelta(hours=2), client=first, price="10.00")
    make_order(created_at=NOW - timedelta(hours=3), client=first, price="0.00")  # 40.00 in three orders
    report = report_generate(period="week", now=NOW)
    assert report.top_clients == [
        {"client_id": first.pk, "name": "Иванов Иван Иванович", "count": 3, "sum": "40.00"},
        {"client_id": second.pk, "name": "Петрова Анна", "count": 2, "sum": "40.00"},
        {"client_id": third.pk, "name": "Сидоров Олег Петрович", "count": 2, "sum": "40.00"},
    ]


def test_archived_clients_still_count():
    client = make_client(added_at=NOW - timedelta(days=1), status="archived")
    make_order(created_at=NOW - timedelta(hours=1), client=client, price="10.00")
    report = report_generate(period="week", now=NOW)
    assert (report.new_clients_count, report.new_orders_count) == (1, 1)


def test_window_is_computed_in_the_server_time_zone():
    start, end = report_window(period="week", now=NOW)
    assert str(end.tzinfo) == "Europe/Moscow"
    assert end == NOW and start == NOW - timedelta(days=7)


def test_an_order_at_2330_moscow_on_the_first_day_of_the_window_is_counted():
    # The report is made at 23:45 Moscow time (20:45 UTC); the week starts at 23:45 seven days before.
    made_at = NOW.replace(hour=23, minute=45)
    make_order(created_at=(made_at - timedelta(days=7)).replace(minute=30), price="1.00")  # 15 minutes too early
    make_order(created_at=made_at - timedelta(days=6, minutes=15), price="2.00")  # 23:30 six days before
    report = report_generate(period="week", now=made_at)
    assert (report.new_orders_count, report.total_orders_sum) == (1, Decimal("2.00"))


@pytest.mark.parametrize("period", ["", "day", "WEEK", " week", None, 7, ["week"]])
def test_unknown_period_is_refused_with_a_field_error(period):
    with pytest.raises(ValidationError) as excinfo:
        report_generate(period=period, now=NOW)
    assert list(excinfo.value.message_dict) == ["period"]
    assert Report.objects.count() == 0


def test_generation_query_count_does_not_grow_with_the_orders():
    def queries_for_generation() -> int:
        with CaptureQueriesContext(connection) as captured:
            report_generate(period="month", now=NOW)
        return len(captured)

    clients = [make_client(added_at=NOW - timedelta(days=1)) for _ in range(5)]
    Order.objects.bulk_create(
        [_unsaved_order(clients[n % 5], NOW - timedelta(hours=n + 1), price="1.10", product=f"Товар {n % 9}")
         for n in range(10)]
    )
    small = queries_for_generation()
    Order.objects.bulk_create(
        [_unsaved_order(clients[n % 5], NOW - timedelta(minutes=n + 1), price="2.20", product=f"Товар {n % 17}")
         for n in range(990)]
    )
    large = queries_for_generation()
    assert small == large <= 5  # four reads (the last one names the top clients) and the insert
    assert Report.objects.order_by("-id").first().new_orders_count == 1000


def test_report_list_is_newest_first_with_its_author_in_one_query(manager, django_assert_num_queries):
    older = report_generate(period="week", user=manager, now=NOW - timedelta(days=1))
    newer = report_generate(period="year", user=manager, now=NOW)
    with django_assert_num_queries(1):
        reports = list(report_list())
        assert [report.pk for report in reports] == [newer.pk, older.pk]
        assert reports[0].created_by.username == manager.username


def _unsaved_order(client, created_at, *, price, product="Карандаш") -> Order:
    order = Order(client=client, product=product, quantity=1, price=Decimal(price), created_at=created_at)
    order.normalize_fields()
    return order
