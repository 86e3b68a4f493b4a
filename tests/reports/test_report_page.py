"""A report's page is a page: figures as cards, the status breakdown and the per-day sums as charts, the tops as
tables, the text with its download; the breadcrumb names the section once; the list is narrow enough to show the
row's download button."""

import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from crm.models import Order
from reports.selectors import REPORT_CHART_DAYS, report_daily_sums
from reports.services import report_generate
from tests.factories import make_user
from tests.reports.conftest import MOSCOW, NOW, make_client, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def week_report(manager):
    """A week report (10 Dec 21:00 – 17 Dec 21:00, Moscow) over orders placed on known local days."""
    buyer = make_client(last_name="Ёлкина", first_name="Анна", middle_name="")
    make_order(created_at=NOW - timedelta(days=7), client=buyer, product="Ноутбук", quantity=2, price="1500.00",
               status=Order.Status.COMPLETED)  # the first moment of the window
    make_order(created_at=datetime(2024, 12, 14, 23, 30, tzinfo=MOSCOW), client=buyer, product="Мышь",
               price="0.10", quantity=3)  # 20:30 UTC: still the 14th in Moscow
    make_order(created_at=datetime(2024, 12, 14, 23, 30, tzinfo=MOSCOW), product="Мышь", price="0.20")
    make_order(created_at=NOW - timedelta(hours=1), product="Телефон", price="999.99",
               status=Order.Status.CANCELLED)
    make_order(created_at=NOW, product="Стол", price="100.00")  # the end is exclusive
    return report_generate(period="week", user=manager, now=NOW)


def test_daily_sums_are_exact_per_local_day_and_add_up_to_the_report(week_report, django_assert_num_queries):
    with django_assert_num_queries(1):
        days = report_daily_sums(start=week_report.period_start, end=week_report.period_end)
    assert [day for day, _count, _sum in days] == [datetime(2024, 12, day).date() for day in range(10, 18)]
    by_day = {day.day: (count, total) for day, count, total in days if count}
    assert by_day == {10: (1, Decimal("3000.00")), 14: (2, Decimal("0.50")), 17: (1, Decimal("999.99"))}
    assert sum(total for _day, _count, total in days) == week_report.total_orders_sum
    assert sum(count for _day, count, _total in days) == week_report.new_orders_count


def test_a_year_report_has_at_most_366_points(manager):
    report = report_generate(period="year", user=manager, now=NOW)
    days = report_daily_sums(start=report.period_start, end=report.period_end)
    assert len(days) <= REPORT_CHART_DAYS == 366
    assert days[-1][0] == NOW.date()
    # Even a window longer than any report is cut to its last 366 days.
    assert len(report_daily_sums(start=NOW - timedelta(days=1000), end=NOW)) == REPORT_CHART_DAYS


def charts(page: str) -> list[dict]:
    return [json.loads(unescape(value)) for value in re.findall(r'<canvas class="chart"[^>]*data-value="([^"]+)"', page)]


def test_report_page_shows_cards_charts_tables_and_the_download(client, manager, week_report):
    client.force_login(manager)
    response = client.get(reverse("admin:reports_report_change", args=[week_report.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    figures = page[page.index('id="report-figures"'):page.index('class="chart"')]
    for text in ("Новые заказы", "4", "Новые клиенты", "Завершённые заказы", "Сумма новых заказов",
                 "4\xa0000,49\xa0₽", "Средний заказ", "1\xa0000,12\xa0₽"):
        assert text in figures, text
    status_chart, daily_chart = charts(page)
    assert status_chart["labels"] == ["В ожидании", "Завершён", "Отменён"]
    assert status_chart["datasets"][0]["data"] == [0.5, 3000.0, 999.99]
    assert len(daily_chart["labels"]) == 8 and daily_chart["labels"][0] == "10.12"
    assert daily_chart["datasets"][0]["data"] == [1, 0, 0, 0, 2, 0, 0, 1]
    # The status breakdown also as badges with counts and sums.
    statuses = page[page.index('id="report-statuses"'):]
    assert re.search(r"<span[^>]*>\s*Завершён\s*</span>", statuses) and "1 · 3\xa0000,00\xa0₽" in statuses
    # The tops as tables; the client's name links to the client.
    assert "Топ товаров" in page and "Топ клиентов" in page
    assert re.search(r"<td[^>]*>\s*Ноутбук\s*</td>", page)
    buyer = week_report.top_clients[0]
    assert buyer["name"] == "Ёлкина Анна"
    assert f'href="{reverse("admin:crm_client_change", args=[buyer["client_id"]])}"' in page
    # The text, with its download beside it (and in the page's header).
    assert "Кол-во выполненных заказов: 1" in page
    download = reverse("admin:reports_report_download_text", args=[week_report.pk])
    assert page.count(f'href="{download}"') >= 2
    assert page.index('id="report-page"') < page.index('id="report_form"')


def test_without_view_client_the_top_clients_are_names_not_links(client, week_report):
    user = make_user("reports-only")
    user.user_permissions.add(Permission.objects.get(codename="view_report"))
    client.force_login(user)
    page = client.get(reverse("admin:reports_report_change", args=[week_report.pk])).content.decode()
    assert "Ёлкина Анна" in page
    assert reverse("admin:crm_client_change", args=[week_report.top_clients[0]["client_id"]]) not in page


def test_report_page_queries_do_not_grow_with_the_orders(client, manager, django_assert_max_num_queries):
    client.force_login(manager)
    for hours in range(1, 40):
        make_order(created_at=NOW - timedelta(hours=hours * 4))
    report = report_generate(period="year", user=manager, now=NOW)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("admin:reports_report_change", args=[report.pk])).status_code == 200


def breadcrumb(page: str) -> list[str]:
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page, flags=re.S).group(1)
    return [crumb.strip() for crumb in re.findall(r"<a [^>]*>(.*?)</a\s*>", heading, flags=re.S)]


@pytest.mark.parametrize("url_name", ["admin:reports_report_changelist", "admin:reports_report_change"])
def test_breadcrumb_names_the_section_once(client, manager, week_report, url_name):
    client.force_login(manager)
    args = [week_report.pk] if url_name.endswith("change") else []
    page = client.get(reverse(url_name, args=args)).content.decode()
    assert breadcrumb(page)[:2] == ["Аналитика", "Отчёты"]


def test_report_list_has_few_columns_money_in_roubles_and_a_download_per_row(client, manager, week_report):
    client.force_login(manager)
    page = client.get(reverse("admin:reports_report_changelist")).content.decode()
    headers = re.findall(r'<th[^>]*class="[^"]*column-([\w]+)', page)
    assert headers == ["title", "period_badge", "made", "orders", "clients", "orders_sum", "average", "completed"]
    row = page[page.index('id="result_list"'):]
    assert "4\xa0000,49\xa0₽" in row and "1\xa0000,12\xa0₽" in row
    assert "10.12.2024 – 17.12.2024" in row  # the period under the report's name
    assert "manager" in row  # the author under the date it was made
    assert reverse("admin:reports_report_download_text", args=[week_report.pk]) in row
