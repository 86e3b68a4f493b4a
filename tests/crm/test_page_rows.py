"""crm.paging.page_rows: a list page's compiled SQL kept per connection, with the rows it would give anyway."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext

from api.serializers import client_rows, order_rows
from crm import paging, selectors
from crm.models import Order
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _counting(build):
    """build, and how many times page_rows called it."""
    calls = []

    def counted():
        calls.append(1)
        return build()

    return counted, calls


@pytest.fixture
def orders():
    client = ClientFactory(first_name="Ёлка", last_name="Пагинова")
    return [OrderFactory(client=client, product=f"Товар {n}", price=Decimal("1234.56") * n, quantity=n)
            for n in range(1, 6)]


def test_rows_are_those_of_the_queryset_itself_tuples_and_dicts(orders):
    order_page = lambda: order_rows(selectors.order_list())[1:4]  # noqa: E731
    client_page = lambda: client_rows(selectors.client_list(status="all"))[0:50]  # noqa: E731
    for _ in range(2):  # compiled, then from the kept SQL
        assert paging.page_rows("orders", order_page) == list(order_page())
        assert paging.page_rows("clients", client_page) == list(client_page())
    row = paging.page_rows("orders", order_page)[0]
    # The database's values went through Django's converters: an aware datetime and exact money.
    assert row[-1].tzinfo is not None
    assert row[ORDER_PRICE_INDEX] == Decimal("4938.24")


ORDER_PRICE_INDEX = list(order_rows(Order.objects.none()).query.values_select).index("price")


def test_the_second_page_skips_building_and_runs_one_query(orders):
    build, calls = _counting(lambda: order_rows(selectors.order_list())[0:2])
    paging.page_rows("first two", build)
    with CaptureQueriesContext(connection) as queries:
        rows = paging.page_rows("first two", build)
    assert len(calls) == 1
    assert len(queries) == 1
    assert [row[0] for row in rows] == [orders[-1].pk, orders[-2].pk]


def test_the_sql_is_kept_not_the_rows(orders):
    build = lambda: order_rows(selectors.order_list())[0:1]  # noqa: E731
    assert paging.page_rows("newest", build)[0][0] == orders[-1].pk
    newer = OrderFactory(client=orders[0].client)
    assert paging.page_rows("newest", build)[0][0] == newer.pk


def test_keys_keep_pages_apart(orders):
    first = paging.page_rows(("page", 0), lambda: order_rows(selectors.order_list())[0:1])
    second = paging.page_rows(("page", 1), lambda: order_rows(selectors.order_list())[1:2])
    assert first != second


def test_an_empty_page_is_kept_and_costs_no_query(orders):
    build, calls = _counting(lambda: order_rows(selectors.order_list().filter(pk__in=[]))[0:50])
    assert paging.page_rows("none", build) == []
    with CaptureQueriesContext(connection) as queries:
        assert paging.page_rows("none", build) == []
    assert len(calls) == 1 and len(queries) == 0


class ReadsWhileCompiling(RawSQL):
    """A condition whose SQL depends on the data: compiling it runs a query."""

    def as_sql(self, compiler, connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return super().as_sql(compiler, connection)


def test_a_page_whose_compiling_reads_the_database_is_never_kept(orders):
    condition = ReadsWhileCompiling("1 = 1", [], output_field=Order._meta.get_field("id"))
    build, calls = _counting(lambda: order_rows(selectors.order_list().alias(always=condition).filter(
        always__isnull=False))[0:2])
    for _ in range(2):
        assert len(paging.page_rows("data dependent", build)) == 2
    assert len(calls) == 2


def test_a_page_whose_building_reads_the_database_is_never_kept(orders):
    def build():
        newest = Order.objects.order_by("-id").values_list("id", flat=True).first()
        return order_rows(selectors.order_list().filter(id__lte=newest))[0:2]

    counted, calls = _counting(build)
    for _ in range(2):
        assert len(paging.page_rows("reads while building", counted)) == 2
    assert len(calls) == 2


def test_model_instances_and_flat_values_are_evaluated_as_usual(orders):
    build, calls = _counting(lambda: selectors.order_list()[0:2])
    assert paging.page_rows("instances", build) == list(selectors.order_list()[0:2])
    flat, flat_calls = _counting(lambda: selectors.order_list().values_list("id", flat=True)[0:2])
    assert paging.page_rows("flat", flat) == [orders[-1].pk, orders[-2].pk]
    paging.page_rows("instances", build)
    paging.page_rows("flat", flat)
    assert len(calls) == 2 and len(flat_calls) == 2


def test_the_cache_is_bounded(orders, monkeypatch):
    monkeypatch.setattr(paging, "_COMPILED_PAGES_MAX", 3)
    for start in range(10):
        paging.page_rows(("bounded", start), lambda start=start: order_rows(selectors.order_list())[start:start + 1])
        assert len(paging._compiled_pages(connection)) <= 3


def _prepared_statements():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_postgresql_plans_each_page_once_with_its_values_written_in(orders):
    before = _prepared_statements()
    for term in ("товар", "пагинова"):
        for _ in range(3):
            paging.page_rows(("search", term), lambda term=term: order_rows(
                selectors.order_list(search=term, search_clients=True))[0:50])
    new = {statement: runs for statement, runs in _prepared_statements().items() if statement not in before}
    # One statement per page, each with its search term in its text (a generic plan for any term could not
    # tell a rare name from a common one), prepared from the page's second use.
    assert sorted(runs for runs in new.values()) == [2, 2]
    assert sum("товар" in statement for statement in new) == 1 and sum("пагинова" in statement for statement in new) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_other_queries_are_not_prepared(orders):
    before = _prepared_statements()
    for _ in range(10):
        list(order_rows(selectors.order_list())[0:50])
        Order.objects.filter(pk=orders[0].pk).exists()
    assert _prepared_statements() == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_a_prepared_page_is_logged_with_its_sql(orders):
    build = lambda: order_rows(selectors.order_list(search="товар"))[0:50]  # noqa: E731
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            paging.page_rows("logged", build)
        (query,) = queries.captured_queries
        assert query["sql"].startswith("SELECT") and "'%товар%'" in query["sql"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_a_page_asked_for_once_is_not_prepared(orders):
    before = _prepared_statements()
    paging.page_rows("once", lambda: order_rows(selectors.order_list(search="товар"))[0:50])
    assert _prepared_statements() == before
