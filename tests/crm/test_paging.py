"""PostgreSQL's per-block row counts (migration 0007) and the deep pages that start from them.

The counts must stay exact through every kind of write, or a deep page would silently show the
wrong rows; each test compares the pages with a plain OFFSET over the same rows.
"""

import importlib
from decimal import Decimal

import psycopg
import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from crm import paging, selectors
from crm.models import Client, Order

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the block counts are PostgreSQL's")

block_counts_migration = importlib.import_module("crm.migrations.0007_id_block_counts")
BLOCK = 2**paging.ID_BLOCK_BITS
# Far above the ids the sequence hands out in a test run, so the explicit ids never collide with them.
FIRST_ID = 50_000_000


def _spread_orders(monkeypatch) -> Client:
    """About 4,000 orders over six blocks of ids, with gaps, in all three statuses, and every page deep."""
    monkeypatch.setattr(paging, "DEEP_PAGE_OFFSET", 1)
    client = Client.objects.create(first_name="Анна", last_name="Блокова", email="blocks@example.com")
    statuses = list(Order.Status.values)
    Order.objects.bulk_create(
        Order(id=FIRST_ID + number * 3 + number % 2, client=client, product=f"Товар {number}", quantity=1,
              price=Decimal("10.00"), status=statuses[number % 3])
        for number in range(BLOCK * 6 // 3)
    )
    return client


@pytest.fixture
def spread_orders(db, monkeypatch):
    return _spread_orders(monkeypatch)


def _counted_rows(table: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, block, sum(row_count) FROM ("
            " SELECT status, block, row_count FROM crm_id_block WHERE table_name = %s"
            " UNION ALL SELECT status, block, row_count FROM crm_id_block_change WHERE table_name = %s"
            ") AS counts GROUP BY status, block HAVING sum(row_count) <> 0",
            [table, table],
        )
        return {(status, block): count for status, block, count in cursor.fetchall()}


def _actual_rows(table: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, id >> %s, count(*) FROM {table} GROUP BY 1, 2", [paging.ID_BLOCK_BITS])
        return {(status, block): count for status, block, count in cursor.fetchall()}


def _assert_counts_exact():
    for table in ("crm_order", "crm_client"):
        assert _counted_rows(table) == _actual_rows(table)


def _assert_pages_match_a_plain_offset(offsets=(0, 1, 49, 50, BLOCK - 1, BLOCK, BLOCK + 7, 1500, 1999, 2040, 5000)):
    for order_by in ("-id", "id"):
        for status in (None, "Completed", "Cancelled"):
            for start in offsets:
                with CaptureQueriesContext(connection) as queries:
                    page = [order.id for order in selectors.order_list(order_by=order_by, status=status)[start:start + 50]]
                plain = selectors.order_list(order_by=order_by, status=status).values_list("id", flat=True)
                assert page == list(QuerySet.__getitem__(plain, slice(start, start + 50))), (order_by, status, start)
                assert len(queries) == 1
                assert ("crm_id_block" in queries[0]["sql"]) == (start >= paging.DEEP_PAGE_OFFSET)


def test_counts_follow_inserts_updates_and_deletes(spread_orders):
    _assert_counts_exact()
    _assert_pages_match_a_plain_offset()

    Order.objects.filter(id__lt=FIRST_ID + BLOCK * 2, status="Pending").update(status="Completed")
    Order.objects.filter(id__gte=FIRST_ID + BLOCK * 3, id__lt=FIRST_ID + BLOCK * 4).delete()
    Order.objects.filter(product__endswith="7").update(description="не меняет счёт")  # no status change
    Order.objects.create(client=spread_orders, product="Новый", quantity=2, price=Decimal("5.00"))
    Client.objects.filter(pk=spread_orders.pk).update(status="archived")

    _assert_counts_exact()
    _assert_pages_match_a_plain_offset()


def test_a_rolled_back_write_leaves_the_counts_as_they_were(spread_orders):
    before = _counted_rows("crm_order")
    with pytest.raises(RuntimeError), transaction.atomic():
        Order.objects.filter(status="Cancelled").delete()
        raise RuntimeError("abandon")
    assert _counted_rows("crm_order") == before
    _assert_counts_exact()


def test_writers_that_cannot_fold_leave_their_changes_for_the_next_one(db, monkeypatch):
    """While another session holds the fold lock, changes wait in crm_id_block_change; pages stay exact."""
    settings = connection.settings_dict
    with psycopg.connect(dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"] or None,
                         host=settings["HOST"] or None, port=settings["PORT"] or None, autocommit=True) as other:
        # Taken before this test's transaction writes anything (a transaction keeps the lock once it has it).
        other.execute("SELECT pg_advisory_lock(%s)", [block_counts_migration.FOLD_LOCK_KEY])
        try:
            client = _spread_orders(monkeypatch)
            Order.objects.filter(status="Pending", id__gte=FIRST_ID + BLOCK * 4).delete()
            Order.objects.create(client=client, product="Ещё один", quantity=1, price=Decimal("1.00"))
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM crm_id_block_change")
                assert cursor.fetchone()[0] > 0
            _assert_counts_exact()
            _assert_pages_match_a_plain_offset(offsets=(0, 700, 1400))
        finally:
            other.execute("SELECT pg_advisory_unlock(%s)", [block_counts_migration.FOLD_LOCK_KEY])

    Order.objects.filter(status="Completed", id__lt=FIRST_ID + 30).update(status="Cancelled")  # this one folds
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_id_block_change")
        assert cursor.fetchone()[0] == 0
    _assert_counts_exact()


def test_truncate_forgets_the_counts(spread_orders):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending deferred checks
        cursor.execute("TRUNCATE crm_order")
    assert _counted_rows("crm_order") == {}
    assert _counted_rows("crm_client") == _actual_rows("crm_client") != {}


def test_the_migration_counts_existing_rows_and_can_be_reversed(spread_orders):
    with connection.schema_editor() as schema_editor:
        block_counts_migration.drop_block_counts(None, schema_editor)
        block_counts_migration.create_block_counts(None, schema_editor)
    _assert_counts_exact()
    _assert_pages_match_a_plain_offset(offsets=(0, 1999))


@pytest.mark.parametrize(
    "kwargs", [{"order_by": "-total_price"}, {"client_id": 1}, {"search": "товар"}, {"status": "all", "order_by": "product"}]
)
def test_other_pages_do_not_use_the_counts(spread_orders, kwargs):
    with CaptureQueriesContext(connection) as queries:
        list(selectors.order_list(**kwargs)[100:150])
    assert "crm_id_block" not in queries[0]["sql"]


def test_deep_client_pages_start_from_the_counts(db, monkeypatch):
    monkeypatch.setattr(paging, "DEEP_PAGE_OFFSET", 1)
    Client.objects.bulk_create(
        Client(id=FIRST_ID + number * 2, first_name="Блок", last_name=f"Клиентов{number}", email=f"b{number}@example.com",
               status="archived" if number % 4 == 0 else "active")
        for number in range(BLOCK + 300)
    )
    _assert_counts_exact()
    for status in ("active", "archived", "all"):
        for start in (0, 600, 1100, 2200):
            with CaptureQueriesContext(connection) as queries:
                page = [client.id for client in selectors.client_list(status=status)[start:start + 50]]
            plain = selectors.client_list(status=status).values_list("id", flat=True)
            assert page == list(QuerySet.__getitem__(plain, slice(start, start + 50)))
            assert ("crm_id_block" in queries[0]["sql"]) == (start >= paging.DEEP_PAGE_OFFSET)


def _deep_page_plan(queryset) -> str:
    sql, params = queryset.values_list("id", flat=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_deep_page_sums_only_the_blocks_near_its_end_of_the_table(db, monkeypatch):
    # 200 blocks of 40 orders each: the counts of every block would grow with the table; the page reads the
    # first blocks in its order (4 per block of rows it skips), and all of them only when those do not reach
    # its start (sparse ids) or it starts past the end.
    monkeypatch.setattr(paging, "DEEP_PAGE_OFFSET", 1)
    client = Client.objects.create(first_name="Анна", last_name="Ближняя", email="near@example.com")
    Order.objects.bulk_create(
        Order(id=FIRST_ID + block * BLOCK + number * 7, client=client, product="Товар", quantity=1,
              price=Decimal("1.00"), status=("Pending", "Completed")[number % 2])
        for block in range(200) for number in range(40)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_id_block")
    for order_by in ("-id", "id"):
        for status, start, reads_all in ((None, 100, False), ("Completed", 50, False), (None, 3000, True),
                                         (None, 9000, True)):
            orders = selectors.order_list(order_by=order_by, status=status)
            page = orders[start:start + 50]
            plain = orders.values_list("id", flat=True)
            assert [order.id for order in page] == list(QuerySet.__getitem__(plain, slice(start, start + 50)))
            plan = _deep_page_plan(page)
            all_blocks = next(line for line in plan.splitlines() if "Subquery Scan on positions" in line)
            assert ("never executed" not in all_blocks) == reads_all, (order_by, status, start, plan)
