"""PostgreSQL's plans for searches on a table of realistic size (migration 0008, crm.selectors.search_filter).

The planner prices a LIKE test like an integer comparison. Left to that, it walks the id index
through thousands of clients to fill a page for a rare name instead of reading the trigram index.
These tests build 20,000 clients, as in the benchmark, and check which index each search reads, and that the
planner sees how common a name is (migration 0016).
"""

import pytest
from django.db import connection

from crm import selectors
from crm.models import Client, Order

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")

CLIENTS = 20_000
RARE_EVERY = 80  # 250 clients, about 1% (as 'анатолий' in the benchmark)
FIRST_ID = 60_000_000  # far above the ids the sequence hands out in a test run


@pytest.fixture
def many_clients(db):
    def search_text(number):
        name = "анатолий" if number % RARE_EVERY == 0 else ("иван" if number % 2 else "петр")
        return f"клиентов {name} сергеевич client{number}@example.com 7900{number:07d}"

    Client.objects.bulk_create(
        Client(id=FIRST_ID + number, first_name="Имя", last_name=f"Клиентов {number}", email=f"client{number}@example.com",
               search_text=search_text(number))
        for number in range(CLIENTS)
    )
    clients = list(Client.objects.filter(id__gte=FIRST_ID).values_list("id", flat=True)[:: CLIENTS // 200])
    Order.objects.bulk_create(
        Order(client_id=client_id, product="Ноутбук", quantity=1, price=1, search_text="ноутбук")
        for client_id in clients
        for _ in range(10)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_client")
        cursor.execute("ANALYZE crm_order")


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_rare_name_is_read_from_the_trigram_index(many_clients):
    plan = _plan(selectors.client_list(search="анатолий")[:50])
    assert "Bitmap Index Scan on crm_client_search_trgm" in plan, plan
    assert "crm_client_pkey" not in plan, plan


def test_a_common_name_walks_the_id_index_and_stops_at_a_page(many_clients):
    plan = _plan(selectors.client_list(search="иван")[:50])
    assert "Index Scan Backward using crm_client_pkey" in plan, plan
    assert "crm_client_search_trgm" not in plan, plan


def test_the_priced_recheck_does_not_start_parallel_workers(many_clients):
    # Priced this high, a long walk would start workers (about 20 ms) on a 200,000-order table; here
    # workers are made free, so only the function's PARALLEL UNSAFE keeps the plans serial.
    with connection.cursor() as cursor:
        for setting in ("parallel_setup_cost", "parallel_tuple_cost", "min_parallel_table_scan_size",
                        "min_parallel_index_scan_size"):
            cursor.execute(f"SET LOCAL {setting} = 0")
    for search in ("анатолий", "иван", "client1"):
        assert "Gather" not in _plan(selectors.client_list(search=search, status="all")[:50])
        assert "Gather" not in _plan(selectors.order_list(search=search, search_clients=True)[:100])


def test_an_order_search_by_client_reads_the_matching_clients_once(many_clients):
    # Not a join testing every order's client in turn: the matching clients come from their index.
    plan = _plan(selectors.order_list(search="анатолий", search_clients=True)[:100])
    assert "crm_client_search_trgm" in plan, plan



def test_the_planner_sees_how_common_a_name_is(db):
    # Migration 0016. 30,000 clients, so that ANALYZE reads every one of them whatever the statistics target and
    # the test does not depend on its sample; a name in the middle of varied text, as real ones are, held by 100
    # of them. With the default 100 histogram entries none contains it and the planner assumes 0.01% (3 rows);
    # with 1,000 it sees the name in a few of them.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_client (id, first_name, last_name, middle_name, email, mobile_phone, status, added_at,"
            " updated_at, version, search_text) "
            "SELECT %s + n, 'Имя', 'Клиентов', '', 'c' || n || '@example.com', '', 'active', now(), now(), 1,"
            " md5(n::text) || ' ' || CASE WHEN n %% 300 = 0 THEN 'анатолий' ELSE 'иван' || (n %% 997) END"
            " || ' c' || n || '@example.com' "
            "FROM generate_series(1, 30000) AS n",
            [FIRST_ID],
        )
        cursor.execute("DELETE FROM crm_client WHERE id < %s", [FIRST_ID])
        cursor.execute("ANALYZE crm_client")
        cursor.execute("EXPLAIN (FORMAT JSON) SELECT id FROM crm_client WHERE search_text LIKE '%%анатолий%%'")
        estimate = cursor.fetchone()[0][0]["Plan"]["Plan Rows"]
    assert estimate >= 100 / 4, estimate
