"""/api/reports/…: create, list newest first, download as a text file."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from reports.models import Report
from tests.api.conftest import assert_error
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

MOSCOW = ZoneInfo("Europe/Moscow")


def _report(**fields) -> Report:
    defaults = dict(
        period="month", period_start=timezone.now() - timedelta(days=30), period_end=timezone.now(),
        created_at=datetime(2024, 12, 17, 21, 0, tzinfo=MOSCOW), new_orders_count=10, new_clients_count=5,
        total_orders_sum=Decimal("5000.00"), avg_order_sum=Decimal("500.00"), completed_orders_count=8,
    )
    return Report.objects.create(**{**defaults, **fields})


@pytest.mark.parametrize("kind", ["json", "form", "multipart"])
@pytest.mark.parametrize("period", ["week", "month", "year"])
def test_new_report(manager, manager_api, period, kind):
    client = ClientFactory()
    OrderFactory(client=client, quantity=2, price=Decimal("1500.00"), status="Completed")
    OrderFactory(client=client, quantity=1, price=Decimal("1000.00"))

    response = manager_api.post("/api/reports/new/", {"period": period}, form=kind == "form",
                                multipart=kind == "multipart")

    assert response.status_code == 200
    report = Report.objects.get()
    assert response.json() == {"success": True, "id": report.pk}
    assert (report.period, report.created_by, report.new_orders_count, report.new_clients_count,
            report.total_orders_sum, report.avg_order_sum, report.completed_orders_count) == (
        period, manager, 2, 1, Decimal("4000.00"), Decimal("2000.00"), 1)


@pytest.mark.parametrize("body", [{}, {"period": "day"}, {"period": ""}, {"period": 7}, {"period": "WEEK"}])
def test_new_report_with_bad_period_is_400(manager_api, body):
    assert_error(manager_api.post("/api/reports/new/", body), 400, "period")
    assert not Report.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_report_list_is_the_contract_object_newest_first(manager_api, method):
    older = _report(created_at=datetime(2024, 12, 1, 9, 5, tzinfo=MOSCOW), period="week",
                    total_orders_sum=Decimal("0"), avg_order_sum=Decimal("0"), new_orders_count=0,
                    completed_orders_count=0, new_clients_count=0)
    newer = _report()

    response = manager_api.get("/api/reports/get/") if method == "get" else manager_api.post("/api/reports/get/")

    assert response.status_code == 200
    assert response.json() == {"reports": [
        {"id": newer.pk, "period": "month", "new_orders_count": 10, "new_clients_count": 5,
         "total_orders_sum": "5000.00", "avg_order_sum": "500.00", "completed_orders_count": 8,
         "date_created": "17 декабря 2024 года, 21:00"},
        {"id": older.pk, "period": "week", "new_orders_count": 0, "new_clients_count": 0,
         "total_orders_sum": "0.00", "avg_order_sum": "0.00", "completed_orders_count": 0,
         "date_created": "1 декабря 2024 года, 09:05"},
    ]}


def test_empty_report_list_is_still_a_list(manager_api):
    assert manager_api.get("/api/reports/get/").json() == {"reports": []}


def test_download_report_as_text_file(manager_api):
    report = _report()

    response = manager_api.get(f"/api/reports/get/{report.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="report_{report.pk}.txt"'
    text = response.content.decode("utf-8")
    assert text.startswith(
        "Отчет за период: Месяц\n"
        "Дата создания: 17 декабря 2024 года, 21:00\n"
        "Кол-во новых заказов: 10\n"
        "Кол-во новых клиентов: 5\n"
        "Сумма новых заказов: 5000.00\n"
        "Средняя сумма заказов: 500.00\n"
        "Кол-во выполненных заказов: 8\n"
    )


def test_download_ignores_an_accept_header_asking_for_text(manager_api):
    report = _report()

    response = manager_api.get(f"/api/reports/get/{report.pk}/", HTTP_ACCEPT="text/plain")

    assert response.status_code == 200


def test_download_unknown_report_is_404_json(manager_api):
    assert_error(manager_api.get("/api/reports/get/777/", HTTP_ACCEPT="text/plain"), 404)


def test_download_is_not_for_anonymous(anonymous_api):
    report = _report()

    assert_error(anonymous_api.get(f"/api/reports/get/{report.pk}/"), 401)


def test_new_report_then_download_it(manager_api):
    report_id = manager_api.post("/api/reports/new/", {"period": "week"}, form=True).json()["id"]

    listed = manager_api.get("/api/reports/get/").json()["reports"]
    text = manager_api.get(f"/api/reports/get/{report_id}/").content.decode()

    assert [r["id"] for r in listed] == [report_id]
    assert text.startswith("Отчет за период: Неделя\nДата создания: ")
