"""PostgreSQL: an order written while a period's window moves, and two reports moving it at once, leave the
client sums exact. (SQLite needs no test: its IMMEDIATE transactions serialise every writer and the move.)"""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction

from crm.models import Order
from reports import rollups
from reports.selectors import report_figures
from reports.services import report_window
from tests.reports.conftest import NOW, make_client
from tests.reports.test_rollups import assert_rollups_equal_a_rebuild, recount

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers"),
]


def in_thread(target):
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_an_order_written_while_the_window_moves_is_counted_once():
    client = make_client()
    old_first, old_end = rollups.whole_hours(*report_window(period="week", now=NOW))
    # An earlier transactional test may have flushed the period rows: a move of a missing row waits for nobody.
    rollups.period_create("week", old_first, old_end)
    rollups.period_move("week", old_first, old_end)
    # Three hours later: the order's hour enters the window.
    moment = NOW + timedelta(hours=1, minutes=30)
    written = threading.Event()
    commit_started = []

    def write():
        with transaction.atomic():
            Order.objects.create(client=client, product="Мышь", price=Decimal("5.00"), created_at=moment)
            written.set()
            time.sleep(0.5)  # the move starts meanwhile, before this commits
            commit_started.append(time.monotonic())

    writer = in_thread(write)
    try:
        assert written.wait(10)
        rollups.period_move("week", old_first + 3, old_end + 3)
        moved = time.monotonic()
    finally:
        writer.join()
    assert commit_started and moved >= commit_started[0]  # the move waited for the writer's commit
    assert_rollups_equal_a_rebuild()
    start, end = report_window(period="week", now=NOW + timedelta(hours=3))
    assert report_figures(start=start, end=end) == recount(start, end)


def test_two_reports_moving_the_window_at_once_move_it_once():
    client = make_client()
    for hours in range(1, 60, 3):
        Order.objects.create(client=client, product="Стол", price=Decimal("7.00"), created_at=NOW - timedelta(hours=hours))
    two_days_ago = rollups.whole_hours(*report_window(period="month", now=NOW - timedelta(days=2)))
    rollups.period_create("month", *two_days_ago)
    rollups.period_move("month", *two_days_ago)
    start, end = report_window(period="month", now=NOW)
    results = []
    threads = [in_thread(lambda: results.append(report_figures(start=start, end=end))) for _ in range(3)]
    for thread in threads:
        thread.join()
    assert len(results) == 3 and all(result == recount(start, end) for result in results)
    assert_rollups_equal_a_rebuild()
