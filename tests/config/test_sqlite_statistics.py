"""SQLite's planner statistics are refreshed by every migrate (crm.apps.analyze_sqlite_after_migrate)."""

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import OrderFactory

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's ANALYZE")


def _statistics_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return 0
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        return cursor.fetchone()[0]


def test_migrate_gives_the_planner_statistics_of_the_current_rows(db):
    OrderFactory.create_batch(3)
    if _statistics_rows("crm_order"):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM sqlite_stat1")
    assert _statistics_rows("crm_order") == 0

    call_command("migrate", verbosity=0)

    assert _statistics_rows("crm_order") > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'order_product_status_sum_idx'")
        assert cursor.fetchone()[0].split()[0] == "3"  # the three orders made above
