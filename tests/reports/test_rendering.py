"""The text renderer is pure: a Report instance in, Russian text out, no database."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from reports.models import Report
from reports.rendering import format_date_created, period_name, report_filename, report_text
from tests.reports.conftest import MOSCOW, NOW

EXPECTED = Path(__file__).parent / "expected"


def contract_example_report() -> Report:
    """The report object of CONTRACT.md, with a breakdown and tops that add up to it."""
    return Report(
        pk=12,
        period="month",
        created_at=NOW,
        period_start=NOW - timedelta(days=30),
        period_end=NOW,
        new_orders_count=10,
        new_clients_count=5,
        total_orders_sum=Decimal("5000.00"),
        avg_order_sum=Decimal("500.00"),
        completed_orders_count=8,
        status_breakdown=[
            {"status": "Pending", "count": 1, "sum": "400.00"},
            {"status": "Completed", "count": 8, "sum": "4000.00"},
            {"status": "Cancelled", "count": 1, "sum": "600.00"},
        ],
        top_products=[
            {"product": "Ноутбук", "count": 2, "sum": "3000.00"},
            {"product": "Монитор", "count": 3, "sum": "1500.00"},
            {"product": "Мышь", "count": 5, "sum": "500.00"},
        ],
        top_clients=[
            {"client_id": 1, "name": "Иванов Иван Иванович", "count": 4, "sum": "3500.00"},
            {"client_id": 2, "name": "Петрова Анна", "count": 6, "sum": "1500.00"},
        ],
    )


def empty_week_report(created_at: datetime) -> Report:
    return Report(
        pk=3,
        period="week",
        created_at=created_at,
        period_start=created_at - timedelta(days=7),
        period_end=created_at,
        new_orders_count=0,
        new_clients_count=0,
        total_orders_sum=Decimal("0"),
        avg_order_sum=Decimal("0.00"),
        completed_orders_count=0,
        status_breakdown=[
            {"status": status, "count": 0, "sum": "0.00"} for status in ("Pending", "Completed", "Cancelled")
        ],
        top_products=[],
        top_clients=[],
    )


def test_report_text_matches_the_expected_file_byte_for_byte():
    text = report_text(contract_example_report())
    assert text.encode("utf-8") == (EXPECTED / "report_month.txt").read_bytes()


def test_report_text_starts_with_the_contract_lines_then_a_blank_line():
    lines = report_text(contract_example_report()).split("\n")
    assert lines[:8] == [
        "Отчет за период: Месяц",
        "Дата создания: 17 декабря 2024 года, 21:00",
        "Кол-во новых заказов: 10",
        "Кол-во новых клиентов: 5",
        "Сумма новых заказов: 5000.00",
        "Средняя сумма заказов: 500.00",
        "Кол-во выполненных заказов: 8",
        "",
    ]


def test_empty_report_made_just_after_midnight_in_moscow_shows_the_local_date():
    # 21:30 UTC on 31 December is already 00:30 on 1 January in Moscow.
    report = empty_week_report(datetime(2024, 12, 31, 21, 30, tzinfo=UTC))
    assert report_text(report).encode("utf-8") == (EXPECTED / "report_week_empty.txt").read_bytes()


def test_report_text_ends_with_a_newline_and_has_no_windows_line_endings():
    text = report_text(contract_example_report())
    assert text.endswith("\n") and not text.endswith("\n\n") and "\r" not in text


def test_report_text_is_russian_whatever_the_active_language():
    with translation.override("en"):
        english = report_text(contract_example_report())
    with translation.override("ru"):
        russian = report_text(contract_example_report())
    assert english == russian
    assert "Завершён" in english and "Отменён" in english and "В ожидании" in english


def test_product_names_with_line_breaks_stay_on_one_line():
    report = contract_example_report()
    report.top_products = [{"product": "Ноутбук\nигровой\r\n 15\"", "count": 1, "sum": "10.00"}]
    assert '1. Ноутбук игровой 15" — заказов: 1, сумма: 10.00\n' in report_text(report)


@pytest.mark.parametrize(
    "month, genitive",
    [
        (1, "января"), (2, "февраля"), (3, "марта"), (4, "апреля"), (5, "мая"), (6, "июня"),
        (7, "июля"), (8, "августа"), (9, "сентября"), (10, "октября"), (11, "ноября"), (12, "декабря"),
    ],
)
def test_format_date_created_uses_the_lower_case_genitive_of_every_month(month, genitive):
    moment = datetime(2024, month, 5, 9, 7, tzinfo=MOSCOW)
    assert format_date_created(moment) == f"5 {genitive} 2024 года, 09:07"


def test_format_date_created_converts_to_the_server_time_zone():
    # An order or report made at 23:30 in Moscow is 20:30 UTC: the text shows the Moscow time.
    assert format_date_created(datetime(2024, 12, 17, 20, 30, tzinfo=UTC)) == "17 декабря 2024 года, 23:30"
    # 22:30 UTC on 28 February is already 1 March in Moscow.
    assert format_date_created(datetime(2025, 2, 28, 22, 30, tzinfo=UTC)) == "1 марта 2025 года, 01:30"


def test_format_date_created_follows_the_time_zone_setting(settings):
    settings.TIME_ZONE = "Asia/Vladivostok"
    assert format_date_created(datetime(2024, 12, 17, 20, 30, tzinfo=UTC)) == "18 декабря 2024 года, 06:30"


def test_format_date_created_does_not_depend_on_the_active_language():
    with translation.override("en"):
        assert format_date_created(NOW) == "17 декабря 2024 года, 21:00"


@pytest.mark.parametrize("period, name", [("week", "Неделя"), ("month", "Месяц"), ("year", "Год")])
def test_period_names(period, name):
    assert period_name(period) == name


def test_report_filename():
    assert report_filename(contract_example_report()) == "report_12.txt"
