"""Guards on the hot paths: one query per page, search through the trigram index, cheap deep pages."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from crm import paging, selectors
from crm.models import Client, Order
from crm.search import search_terms
from crm.services import client_update, order_delete, order_update
from tests.factories import ClientFactory, OrderFactory

SQLITE = connection.vendor == "sqlite"


def _plain_contains(queryset, query, *fields):
    """What search_filter meant before the index: every term `contains`-matched in one of the fields."""
    condition = Q()
    for term in search_terms(query):
        term_condition = Q()
        for field in fields:
            term_condition |= Q(**{f"{field}__contains": term})
        condition &= term_condition
    return queryset.filter(condition)


def _ids(queryset):
    return list(queryset.values_list("id", flat=True))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"status": "Completed"}, {"order_by": "-total_price"}, {"order_by": "product"}, {"search": "ноутбук"},
     {"search": "ip"}, {"client_id": 1}],
)
def test_an_order_page_is_one_query_whatever_the_filters(dataset, kwargs, django_assert_num_queries):
    with django_assert_num_queries(1):
        orders = list(selectors.order_list(**kwargs)[:50])
        for order in orders:
            assert order.client.email  # select_related: no query per row
    with django_assert_num_queries(1):
        orders = list(selectors.order_list(**kwargs)[300:350])
        for order in orders:
            assert order.client.email


@pytest.mark.parametrize("kwargs", [{}, {"status": "all"}, {"search": "анатолий"}, {"order_by": "last_name"}])
def test_a_client_page_is_one_query(dataset, kwargs, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(selectors.client_list(**kwargs)[:50])
    with django_assert_num_queries(1):
        list(selectors.client_list(**kwargs)[60:110])


@pytest.mark.parametrize("order_by", ["-id", "id", "-total_price", "product", "status", "-created_at"])
def test_a_deep_page_returns_the_same_rows_as_a_plain_offset(dataset, monkeypatch, order_by):
    monkeypatch.setattr(paging, "DEEP_PAGE_OFFSET", 10)
    plain = Order.objects.order_by(*selectors._ordering(order_by, selectors.ORDER_ORDER_BY_FIELDS))
    for status in (None, "Completed"):
        expected = plain.filter(status=status) if status else plain
        with CaptureQueriesContext(connection) as queries:
            page = list(selectors.order_list(order_by=order_by, status=status)[200:250])
        assert [order.id for order in page] == _ids(expected[200:250])
        assert len(queries) == 1
        # The page's ids come from a sub-select, so the join runs for these rows only
        # (on PostgreSQL, pages ordered by id start from the block counts, tests/crm/test_paging.py).
        counted = not SQLITE and order_by in ("-id", "id")
        assert queries[0]["sql"].count("LIMIT 50") == 1
        assert ("crm_id_block" in queries[0]["sql"]) == counted
        assert "IN (SELECT" in queries[0]["sql"] or counted


def test_deep_client_pages_match_a_plain_offset(dataset, monkeypatch):
    monkeypatch.setattr(paging, "DEEP_PAGE_OFFSET", 10)
    expected = _ids(Client.objects.filter(status="active").order_by("-id")[30:60])
    assert [client.id for client in selectors.client_list()[30:60]] == expected
    # Past the end: an empty page, not an error.
    assert list(selectors.client_list()[5000:5050]) == []


@pytest.mark.parametrize(
    "query",
    ["ноутбук", "НОУТБУК", "ip", "а", "lenovo ideapad", "доставка курьером", "ёлка", 'a"b', "50%", "_", "2 тб",
     "смартфон xiaomi", "zzzzzz", "ноу\x00тбук", '"""', "NEAR(a b)", "abc*", "^ноу", "🙂🙂🙂"],
)
def test_order_search_gives_exactly_the_plain_contains_results(dataset, query):
    if "\x00" in query and not SQLITE:
        pytest.skip("PostgreSQL text cannot hold NUL")
    assert _ids(selectors.order_list(search=query)) == _ids(_plain_contains(
        Order.objects.order_by("-id"), query, "search_text"))
    assert _ids(selectors.order_list(search=query, search_clients=True)) == _ids(_plain_contains(
        Order.objects.order_by("-id"), query, "search_text", "client__search_text"))


@pytest.mark.parametrize("query", ["анатолий", "Анатолий", "ан", "ов", "ивано", "example.ru", ".ru", "926", "92"])
def test_client_search_gives_exactly_the_plain_contains_results(dataset, query):
    assert _ids(selectors.client_list(search=query, status="all")) == _ids(_plain_contains(
        Client.objects.order_by("-id"), query, "search_text"))


def test_client_search_by_phone_digits_finds_any_formatting(db):
    client = ClientFactory(mobile_phone="+7 (926) 555-12-34")
    ClientFactory(mobile_phone="+7 (999) 000-00-00")
    for query in ("9265551234", "+7 926 555 12 34", "89265551234", "555-12"):
        assert _ids(selectors.client_list(search=query)) == [client.id]


@pytest.mark.skipif(not SQLITE, reason="the FTS5 table is SQLite's search index")
def test_sqlite_search_of_three_or_more_characters_uses_the_fts_table(db):
    sql = str(selectors.order_list(search="ноутбук").query)
    assert "crm_order_search" in sql and "MATCH" in sql and "LIKE" not in sql
    sql = str(selectors.client_list(search="анатолий").query)
    assert "crm_client_search" in sql and "MATCH" in sql
    sql = str(selectors.order_list(search="ноутбук", search_clients=True).query)
    assert "crm_order_search" in sql and "crm_client_search" in sql


@pytest.mark.skipif(not SQLITE, reason="the FTS5 table is SQLite's search index")
def test_sqlite_search_of_one_or_two_characters_falls_back_to_like(db):
    sql = str(selectors.client_list(search="ан").query)
    assert "MATCH" not in sql and "LIKE" in sql


def test_search_index_follows_inserts_updates_and_deletes(db):
    client = ClientFactory(first_name="Анатолий", last_name="Смирнов")
    assert _ids(selectors.client_list(search="анатолий")) == [client.id]
    client_update(client=client, first_name="Святослав")
    assert _ids(selectors.client_list(search="анатолий")) == []
    assert _ids(selectors.client_list(search="святослав")) == [client.id]

    order = OrderFactory(client=client, product="Ноутбук Lenovo")
    assert _ids(selectors.order_list(search="lenovo")) == [order.id]
    order_update(order=order, product="Планшет Huawei")
    assert _ids(selectors.order_list(search="lenovo")) == []
    assert _ids(selectors.order_list(search="huawei")) == [order.id]
    order_delete(order=order)
    assert _ids(selectors.order_list(search="huawei")) == []

    Order.objects.bulk_create([Order(client=client, product="Кофемашина", price=1, search_text="кофемашина")])
    assert len(_ids(selectors.order_list(search="кофемаш"))) == 1


@pytest.mark.skipif(SQLITE, reason="pg_trgm is PostgreSQL's search index")
def test_postgresql_search_can_use_the_trigram_index(dataset):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_order")
        cursor.execute("ANALYZE crm_client")
        # With plain scans off, only the trigram index can answer a LIKE '%term%': is it there and usable?
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        for queryset, index in (
            (Order.objects.filter(selectors.search_filter("кофемашина", "search_text")), "crm_order_search_trgm"),
            (Client.objects.filter(selectors.search_filter("анатолий", "search_text")), "crm_client_search_trgm"),
        ):
            sql, params = queryset.order_by().query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert index in plan, plan


@pytest.mark.parametrize(
    "path, data",
    [("/api/orders/get/", {}), ("/api/orders/get/", {"search": "ноутбук"}),
     ("/api/orders/get/", {"order_by": "-total_price", "start_id": 300}), ("/api/clients/get/", {}),
     ("/api/clients/get/", {"search": "анатолий"})],
)
def test_api_list_pages_take_a_few_queries(dataset, superuser, client, path, data, django_assert_max_num_queries):
    client.force_login(superuser)
    with django_assert_max_num_queries(4):
        response = client.post(path, data)
    assert response.status_code == 200
    assert len(next(iter(response.json().values()))) > 0


# ---------------------------------------------------------------------------
# Id-ordered search pages come straight from the FTS5 index (SQLite); every database must give
# exactly the rows of a plain `contains` page.
# ---------------------------------------------------------------------------
ORDER_PAGE_CASES = [
    {"search": "ноутбук"}, {"search": "ноутбук", "order_by": "id"}, {"search": "ноутбук", "status": "Completed"},
    {"search": "ноутбук", "status": "all"}, {"search": "lenovo ideapad"}, {"search": "ноутбук 15"},
    {"search": "ip"}, {"search": "zzzzzz"}, {"search": "ноутбук", "order_by": "-total_price"},
    {"search": "ноутбук", "search_clients": True}, {"search": "ноутбук", "client_id": "first-with-orders"},
]


def _plain_order_page(kwargs, start, stop):
    orders = Order.objects.order_by(*selectors._ordering(kwargs.get("order_by"), selectors.ORDER_ORDER_BY_FIELDS))
    if kwargs.get("status") not in (None, "all"):
        orders = orders.filter(status=kwargs["status"])
    if kwargs.get("client_id") is not None:
        orders = orders.filter(client_id=kwargs["client_id"])
    fields = ("search_text", "client__search_text") if kwargs.get("search_clients") else ("search_text",)
    return _ids(_plain_contains(orders, kwargs["search"], *fields)[start:stop])


@pytest.mark.parametrize("kwargs", ORDER_PAGE_CASES)
def test_order_search_pages_are_the_plain_contains_pages(dataset, kwargs, django_assert_num_queries):
    if kwargs.get("client_id") == "first-with-orders":
        kwargs = {**kwargs, "client_id": Order.objects.filter(search_text__contains="ноутбук").first().client_id}
    total = len(_plain_order_page(kwargs, 0, None))
    for start, stop in ((0, 50), (0, 1), (3, 13), (20, 70), (total - 2, total + 48), (total, total + 50)):
        start = max(start, 0)
        with django_assert_num_queries(1):
            page = [order.id for order in selectors.order_list(**kwargs)[start:stop]]
        assert page == _plain_order_page(kwargs, start, stop), (start, stop)
    # The API reads rows as tuples (values_list): the same page.
    rows = selectors.order_list(**kwargs).values_list("id", "client__email")[0:50]
    assert [row[0] for row in rows] == _plain_order_page(kwargs, 0, 50)


@pytest.mark.parametrize("kwargs", [{"search": "анатолий"}, {"search": "ова", "status": "all"},
                                    {"search": "example.ru", "order_by": "id"}, {"search": "ова ан"}])
def test_client_search_pages_are_the_plain_contains_pages(dataset, kwargs):
    status = kwargs.get("status", "active")
    plain = Client.objects.order_by(*selectors._ordering(kwargs.get("order_by"), selectors.CLIENT_ORDER_BY_FIELDS))
    plain = plain if status == "all" else plain.filter(status=status)
    plain = _plain_contains(plain, kwargs["search"], "search_text")
    for start, stop in ((0, 50), (5, 15), (40, 90)):
        assert _ids(selectors.client_list(**kwargs)[start:stop]) == _ids(plain[start:stop])


@pytest.mark.skipif(not SQLITE, reason="the FTS5 table is SQLite's search index")
def test_sqlite_id_ordered_search_page_asks_the_index_for_the_page_only(dataset):
    """A common word matches thousands of orders: the index hands over only the page's ids, in order."""
    sql = str(selectors.order_list(search="ноутбук")[100:150].query)
    assert 'ORDER BY "crm_order_search".rowid DESC LIMIT 50 OFFSET 100' in sql
    sql = str(selectors.order_list(search="ноутбук", status="Completed", order_by="id")[0:50].query)
    assert 'ORDER BY "crm_order_search".rowid ASC LIMIT 50 OFFSET 0' in sql and '"status" = ' in sql
    sql = str(selectors.client_list(search="анатолий")[0:50].query)
    assert 'ORDER BY "crm_client_search".rowid DESC LIMIT 50' in sql
    # Other orders, and conditions on the client's columns, keep the plain index filter.
    for queryset in (selectors.order_list(search="ноутбук", order_by="-total_price"),
                     selectors.order_list(search="ноутбук", search_clients=True),
                     selectors.order_list(search="ип")):
        sql = str(queryset[0:50].query)
        assert ".rowid DESC LIMIT" not in sql and "LIMIT 50" in sql


def test_a_deep_page_of_rows_read_as_tuples_finds_its_ids_without_the_join(dataset, monkeypatch):
    """values_list("client__email") joins crm_client; the sub-select that steps over the deep rows must not."""
    monkeypatch.setattr(paging, "DEEP_PAGE_OFFSET", 10)
    # Ordered by date: id-ordered deep pages on PostgreSQL start from the block counts instead.
    rows = selectors.order_list(status="Completed", order_by="-created_at").values_list("id", "client__email")[100:150]
    sql = str(rows.query)
    subquery = sql[sql.index("IN (SELECT"):]
    assert "crm_client" not in subquery.split(")")[0] and "LIMIT 50 OFFSET 100" in subquery
    expected = (Order.objects.filter(status="Completed").order_by("-created_at", "-id")
                .values_list("id", "client__email")[100:150])
    assert list(rows) == list(expected)
