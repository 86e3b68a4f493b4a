"""Never a 500 page or HTML under /api/; lists and single reads cost the same few queries at any size."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone

from crm import selectors
from reports.models import Report
from tests.api.conftest import assert_error
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/", "/api/nothing/", "/api/clients/", "/api/clients/add",
                                  "/api/clients/get/1/extra/", "/api/orders/list/", "/api/ünïcode/",
                                  "/api/orders/edit/%0A%C2%A8/", "/api/%0A", "/api/clients/get/1%0A/"])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "PUT"])
def test_unknown_api_path_is_a_json_404(manager_api, path, method):
    assert_error(manager_api.request(method, path), 404)


def test_unknown_api_path_is_a_json_404_for_anonymous_too():
    response = DjangoClient().post("/api/clients/add", {"first_name": "x"})

    assert_error(response, 404)


def test_html_404_stays_outside_the_api():
    response = DjangoClient().get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_unexpected_error_in_a_view_is_a_json_envelope_not_an_html_page(manager_api, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "client_list", broken)

    body = assert_error(manager_api.get("/api/clients/get/"), 500)
    assert "boom" not in body["error"]


def test_handler500_answers_json_under_api_and_html_elsewhere(rf):
    from api.errors import server_error

    api_response = server_error(rf.get("/api/clients/get/"))
    assert api_response.status_code == 500
    assert api_response["Content-Type"] == "application/json"

    page = server_error(rf.get("/admin/"))
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")


def test_bad_host_header_is_json_under_api(settings):
    settings.DEBUG = False
    response = DjangoClient().get("/api/clients/get/", HTTP_HOST="evil.example.com")

    assert_error(response, 400)


def test_error_messages_are_one_sentence_naming_the_field(manager_api):
    body = assert_error(manager_api.post("/api/orders/add/", {"client": 1, "product": "x", "price": "1.234"}),
                        400, "price")

    assert "price" in body["error"]


def test_schema_is_openapi_3_with_every_documented_operation(anonymous_api):
    response = anonymous_api.get("/api/schema/", {"format": "json"})

    schema = response.json()
    assert schema["openapi"].startswith("3.")
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations == {
        ("/api/token/", "post"), ("/api/token/refresh/", "post"),
        ("/api/clients/add/", "post"), ("/api/clients/get/", "get"), ("/api/clients/get/", "post"),
        ("/api/clients/get/{id}/", "get"), ("/api/clients/get/{id}/", "post"),
        ("/api/clients/edit/{id}/", "post"), ("/api/clients/delete/{id}/", "delete"),
        ("/api/orders/add/", "post"), ("/api/orders/get/", "get"), ("/api/orders/get/", "post"),
        ("/api/orders/get/{id}/", "get"), ("/api/orders/get/{id}/", "post"),
        ("/api/orders/edit/{id}/", "post"), ("/api/orders/delete/{id}/", "delete"),
        ("/api/reports/new/", "post"), ("/api/reports/get/", "get"), ("/api/reports/get/", "post"),
        ("/api/reports/get/{id}/", "get"),
    }
    order_add = schema["paths"]["/api/orders/add/"]["post"]
    assert set(order_add["requestBody"]["content"]) == {
        "application/json", "application/x-www-form-urlencoded", "multipart/form-data"}
    assert {"200", "400", "401", "403", "429"} <= set(order_add["responses"])
    assert "409" in schema["paths"]["/api/clients/add/"]["post"]["responses"]
    assert "Ноутбук" in response.content.decode()


def test_docs_page_works_offline(anonymous_api):
    response = anonymous_api.get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui-bundle.js" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


# ---------------------------------------------------------------------------
# Constant queries: 3 rows or 60 rows, one bound.
# ---------------------------------------------------------------------------
def _make_orders(count: int):
    for index in range(count):
        OrderFactory(client=ClientFactory(), price=Decimal(index + 1))


def _make_reports(count: int):
    now = timezone.now()
    for index in range(count):
        Report.objects.create(period="week", period_start=now - timedelta(days=7), period_end=now,
                              created_at=now - timedelta(hours=index), new_orders_count=0, new_clients_count=0,
                              total_orders_sum=Decimal("0"), completed_orders_count=0)


# JWT user, the user's permissions (2), the rows.
MAX_QUERIES = 4


@pytest.mark.parametrize("rows", [3, 60])
@pytest.mark.parametrize("call", [
    ("get", "/api/clients/get/"), ("post", "/api/clients/get/"), ("get", "/api/orders/get/"),
    ("post", "/api/orders/get/"), ("get", "/api/reports/get/"),
])
def test_lists_cost_the_same_queries_at_any_size(manager_api, django_assert_max_num_queries, rows, call):
    _make_orders(rows)
    _make_reports(rows)
    method, path = call

    with django_assert_max_num_queries(MAX_QUERIES):
        response = getattr(manager_api, method)(path)

    assert response.status_code == 200
    # Clients and orders come fifty a page; the contract gives reports no paging.
    assert len(next(iter(response.json().values()))) == (rows if "reports" in path else min(rows, 50))


@pytest.mark.parametrize("path", ["/api/clients/get/{client}/", "/api/orders/get/{order}/",
                                  "/api/reports/get/{report}/"])
def test_single_reads_cost_a_fixed_number_of_queries(manager_api, django_assert_max_num_queries, path):
    _make_orders(3)
    _make_reports(1)
    order = OrderFactory()
    ids = {"client": order.client_id, "order": order.pk, "report": Report.objects.first().pk}

    with django_assert_max_num_queries(MAX_QUERIES):
        response = manager_api.get(path.format(**ids))

    assert response.status_code == 200


# Every write reads and writes a fixed set of rows: the JWT user and permissions, the row (locked), the e-mail
# check, the row and its history record.
MAX_WRITE_QUERIES = 12


def _write_calls(client_id: int, order_id: int, run: int):
    return [
        ("post", "/api/clients/add/", {"first_name": "Анна", "last_name": "Счётова", "email": f"anna{run}@example.com"}),
        ("post", f"/api/clients/edit/{client_id}/", {"email": f"edited{run}@example.com", "middle_name": "Ивановна"}),
        ("delete", f"/api/clients/delete/{client_id}/", None),
        ("post", "/api/orders/add/", {"client": client_id, "product": "Ноутбук", "quantity": "2", "price": "10"}),
        ("post", f"/api/orders/edit/{order_id}/", {"quantity": "3", "status": "Completed"}),
        ("delete", f"/api/orders/delete/{order_id}/", None),
    ]


def test_writes_cost_the_same_queries_at_any_size(manager_api, django_assert_max_num_queries):
    manager_api.get("/api/clients/get/")  # the user and permissions, then cached for the next requests
    counts = []
    for run, rows in enumerate((3, 60)):
        _make_orders(rows)
        order = OrderFactory()
        queries = []
        for method, path, data in _write_calls(order.client_id, order.pk, run):
            with django_assert_max_num_queries(MAX_WRITE_QUERIES) as captured:
                response = getattr(manager_api, method)(path, data) if data else getattr(manager_api, method)(path)
            assert response.status_code == 200, response.content
            queries.append(len(captured.captured_queries))
        counts.append(queries)
    assert counts[0] == counts[1]
