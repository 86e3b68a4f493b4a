"""Every query of the API's operations and of the admin lists reads an index, on a data set big enough for the
planner to care: a page never sorts a whole table, a lookup never scans one.

The queries are the ones the views really run (captured), explained with SQLite's EXPLAIN QUERY PLAN or
PostgreSQL's EXPLAIN. The data set (20,000 clients, 40,000 orders, statistics refreshed) is built once for
the module, outside the tests' transactions, and removed at the end.
"""

import json
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from crm.devtools.datagen import generate_data
from crm.models import Client, Order

CLIENTS = 20_000
ORDERS = 40_000
# A sort the planner expects to feed with more rows than this is a sort of (part of) a table, not of a page.
MAX_SORTED_ROWS = 1_000
SQLITE = connection.vendor == "sqlite"
CRM_TABLES = re.compile(r'"crm_(client|order)"')


@pytest.fixture(scope="module")
def big_data(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        generate_data(clients=CLIENTS, orders=ORDERS, days=730, seed=16, progress=False)
        yield
        with connection.cursor() as cursor:
            # Row by row, so that the search index (SQLite) and the per-block counts (PostgreSQL) follow.
            cursor.execute("DELETE FROM crm_order")
            cursor.execute("DELETE FROM crm_client")


@pytest.fixture
def user(big_data, db):
    return User.objects.create_superuser(username="planner", password="secret-pass-1", email="planner@example.com")


@pytest.fixture
def api(user, settings):
    settings.AXES_ENABLED = False
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def admin_client(user):
    client = HttpClient()
    client.force_login(user)
    return client


def _plan(sql: str) -> list[str]:
    """The plan's steps; on PostgreSQL, the problems found in it (a sequential scan, a big sort)."""
    with connection.cursor() as cursor:
        if SQLITE:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return [f"{row[0]}:{row[1]}:{row[3]}" for row in cursor.fetchall()]
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    steps = []

    def walk(node):
        kind = node["Node Type"]
        if kind == "Seq Scan":
            steps.append(f"Seq Scan on {node['Relation Name']}")
        elif kind == "Sort" and node["Plans"][0]["Plan Rows"] > MAX_SORTED_ROWS:
            steps.append(f"Sort of {node['Plans'][0]['Plan Rows']} rows")
        else:
            steps.append(kind)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return steps


def _problems(sql: str, *, single_rows: bool = False) -> list[str]:
    """What in the query's plan reads or sorts more than the rows it needs (`single_rows`: any walk of a
    whole index too, for the queries that look rows up by a key)."""
    steps = _plan(sql)
    if not SQLITE:
        return [step for step in steps if step in ("Seq Scan on crm_client", "Seq Scan on crm_order")
                or step.startswith("Sort of")]
    problems = []
    # A deep page (`id IN (the page's ids)`) sorts its 50 rows at the top level: that is fine.
    top_level_ids = {step.split(":")[0] for step in steps if step.split(":")[1] == "0"}
    page_of_ids = any("LIST SUBQUERY" in step and step.split(":")[1] == "0" for step in steps)
    for step in steps:
        node, parent, detail = step.split(":", 2)
        if "USE TEMP B-TREE" in detail and not (page_of_ids and parent == "0" and node in top_level_ids):
            problems.append(detail)
        # A bare SCAN reads the table in id order: fine for a page (it stops after it, and no sort means the
        # order is the one asked for), not for a lookup. "SCAN ... USING INDEX" walks an index in order.
        elif re.fullmatch(r"SCAN (crm_client|crm_order|U\d+)", detail) and " LIMIT " not in sql:
            problems.append(detail)
        elif single_rows and re.match(r"SCAN (crm_client|crm_order|U\d+)\b", detail):
            problems.append(detail)
    return problems


def _queries_of(request) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code == 200, response.content[:500]
    return [
        query["sql"] for query in queries.captured_queries
        if CRM_TABLES.search(query["sql"]) and query["sql"].lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE"))
    ]


def _assert_indexed(request, *, single_rows=False):
    queries = _queries_of(request)
    assert queries
    for sql in queries:
        problems = _problems(sql, single_rows=single_rows)
        assert not problems, f"{problems}\n{sql}\n" + "\n".join(_plan(sql))


def _some_client_id() -> int:
    return Client.objects.filter(status="active").order_by("-id").values_list("id", flat=True)[10]


def _busy_client_id() -> int:
    return Order.objects.order_by("-id").values_list("client_id", flat=True)[100]


CLIENT_LISTS = [
    {}, {"search": "анатолий"}, {"search": "ив"}, {"search": "900"}, {"start_id": 1500},
    # Either direction walks the same index: ascending on the first page, descending on a deep one.
    *({"status": status, "order_by": f"{sign}{field}", "start_id": start}
      for status in ("active", "all") for field in ("id", "first_name", "last_name", "middle_name", "email",
                                                   "mobile_phone", "added_at")
      for sign, start in (("", 0), ("-", 1500))),
]
ORDER_LISTS = [
    {}, {"search": "ноутбук"}, {"search": "ноутбук", "status": "Completed"}, {"start_id": 5000},
    *({"status": status, "order_by": f"{sign}{field}", "start_id": start}
      for status in ("", "Completed") for field in ("id", "product", "quantity", "price", "total_price", "status",
                                                    "created_at")
      for sign, start in (("", 0), ("-", 5000))),
]


@pytest.mark.parametrize("params", CLIENT_LISTS, ids=lambda params: json.dumps(params, ensure_ascii=False))
def test_a_client_list_page_reads_an_index(api, params):
    _assert_indexed(lambda: api.post("/api/clients/get/", params, format="json"))


@pytest.mark.parametrize("params", ORDER_LISTS, ids=lambda params: json.dumps(params, ensure_ascii=False))
def test_an_order_list_page_reads_an_index(api, params):
    _assert_indexed(lambda: api.post("/api/orders/get/", params, format="json"))


@pytest.mark.parametrize("order_by", ["-id", "-total_price", "created_at"])
def test_the_orders_of_one_client_read_its_index(api, order_by):
    # Sorting one client's few orders is fine; reading every order is not.
    params = {"client_id": _busy_client_id(), "order_by": order_by}
    queries = _queries_of(lambda: api.post("/api/orders/get/", params, format="json"))
    for sql in queries:
        problems = [p for p in _problems(sql) if "TEMP B-TREE" not in p and not p.startswith("Sort")]
        assert not problems, f"{problems}\n{sql}\n" + "\n".join(_plan(sql))
        assert "order_client" in " ".join(_plan(sql)) or not SQLITE, _plan(sql)


def test_adding_getting_editing_and_deleting_a_client_read_single_rows(api):
    response = api.post("/api/clients/add/", {"first_name": "Анна", "last_name": "Планова",
                                              "email": "Anna.Plan@Example.com"}, format="json")
    assert response.status_code == 200, response.content
    client_id = response.json()["id"]
    add = {"first_name": "Борис", "last_name": "Планов", "email": "boris.plan@example.com"}
    edit = {"email": "anna.plan2@example.com", "middle_name": "Ивановна"}
    _assert_indexed(lambda: api.post("/api/clients/add/", add, format="json"), single_rows=True)
    _assert_indexed(lambda: api.post(f"/api/clients/get/{client_id}/", format="json"), single_rows=True)
    _assert_indexed(lambda: api.post(f"/api/clients/edit/{client_id}/", edit, format="json"), single_rows=True)
    _assert_indexed(lambda: api.delete(f"/api/clients/delete/{client_id}/"), single_rows=True)


def test_the_email_check_reads_the_unique_index(db, big_data):
    from crm.services import client_check_email_free

    with CaptureQueriesContext(connection) as queries:
        client_check_email_free(Client(email="Somebody@Example.com"))
    (sql,) = [query["sql"] for query in queries.captured_queries]
    plan = " ".join(_plan(sql))
    if SQLITE:
        assert "USING INDEX client_email_unique_ci" in plan, plan
    else:
        assert "Seq Scan" not in plan, plan


def test_adding_getting_editing_and_deleting_an_order_read_single_rows(api):
    client_id = _some_client_id()
    add = {"client": client_id, "product": "Ноутбук", "quantity": "2", "price": "1500.00"}
    response = api.post("/api/orders/add/", add, format="json")
    assert response.status_code == 200, response.content
    order_id = response.json()["id"]
    _assert_indexed(lambda: api.post("/api/orders/add/", add, format="json"), single_rows=True)
    _assert_indexed(lambda: api.post(f"/api/orders/get/{order_id}/", format="json"), single_rows=True)
    edit = {"quantity": "3"}
    _assert_indexed(lambda: api.post(f"/api/orders/edit/{order_id}/", edit, format="json"), single_rows=True)
    _assert_indexed(lambda: api.delete(f"/api/orders/delete/{order_id}/"), single_rows=True)


@pytest.mark.parametrize("path", [
    "/admin/crm/client/", "/admin/crm/client/?q=анатолий", "/admin/crm/client/?o=2", "/admin/crm/client/?p=20",
    "/admin/crm/order/?p=200", "/admin/crm/order/?o=-5",
])
def test_an_admin_list_page_reads_an_index(admin_client, path):
    queries = _queries_of(lambda: admin_client.get(path))
    # The page's rows: no table sorted, no table read.
    page_queries = [sql for sql in queries if "LIMIT" in sql]
    assert page_queries
    for sql in page_queries:
        problems = _problems(sql)
        assert not problems, f"{problems}\n{sql}\n" + "\n".join(_plan(sql))


# (A search's summary reads its matches' rows: on PostgreSQL a common word is read from the table.)
@pytest.mark.parametrize("path", ["/admin/crm/order/", "/admin/crm/order/?status__exact=Completed"])
def test_the_admin_order_summary_reads_an_index_not_the_table(admin_client, path):
    # The count and exact sum of what matches read every match, but from an index holding the totals.
    for sql in _queries_of(lambda: admin_client.get(path)):
        problems = _problems(sql)
        assert not problems, f"{problems}\n{sql}\n" + "\n".join(_plan(sql))
