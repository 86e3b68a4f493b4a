"""The dashboard: latest orders by creation time, KPI cards that open the lists they count, a chart that keeps its
height on a phone, amounts on one line."""

import json
import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Client, Order
from crm.selectors import dashboard_figures
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db
MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 3, 15, 12, 0, tzinfo=MOSCOW)


def order_at(when, **fields):
    order = OrderFactory(**fields)
    Order.objects.filter(pk=order.pk).update(created_at=when)
    return order


def client_added_at(when, **fields):
    client = ClientFactory(**fields)
    Client.objects.filter(pk=client.pk).update(added_at=when)
    return client


def test_latest_orders_are_the_newest_by_creation_time_not_by_id():
    newest = order_at(NOW - timedelta(hours=1), product="Новый")
    # Imported after it (a larger id) but created long before.
    imported = order_at(NOW - timedelta(days=300), product="Импортированный")
    same_moment = [order_at(NOW - timedelta(hours=2)) for _ in range(2)]
    figures = dashboard_figures(now=NOW)
    assert imported.pk > newest.pk
    assert [order.pk for order in figures.latest_orders] == [
        newest.pk, same_moment[1].pk, same_moment[0].pk, imported.pk
    ]


def test_new_clients_count_from_a_local_midnight_thirty_days_back():
    # 30 days with today: from 14 February 2025, 00:00 in Moscow.
    client_added_at(datetime(2025, 2, 14, 0, 0, tzinfo=MOSCOW))
    client_added_at(datetime(2025, 2, 13, 23, 59, tzinfo=MOSCOW))
    figures = dashboard_figures(now=NOW)
    assert figures.new_clients_since == datetime(2025, 2, 14).date()
    assert figures.new_clients == 1
    assert figures.month_start == datetime(2025, 3, 1).date()


def kpi_links(page: str) -> dict[str, str]:
    kpi = page[page.index('id="crm-kpi"'):page.index('class="chart"')]
    return {
        re.sub(r"<[^>]+>|\s+", " ", body).split()[0]: unescape(href)
        for href, body in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', kpi, flags=re.S)
    }


def listed_ids(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', response.content.decode())}


@pytest.fixture
def this_month(db):
    """Orders and clients on both sides of each card's window, around the real "now" of the page."""
    now = timezone.localtime()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    orders = {
        "pending": order_at(now, status=Order.Status.PENDING),
        "completed": order_at(month_start, status=Order.Status.COMPLETED),
        "cancelled": order_at(now, status=Order.Status.CANCELLED),
        "last_month": order_at(month_start - timedelta(minutes=1), status=Order.Status.COMPLETED),
    }
    new_client = client_added_at(now - timedelta(days=29))
    Client.objects.exclude(pk=new_client.pk).update(added_at=now - timedelta(days=40))
    archived = ClientFactory(status=Client.Status.ARCHIVED)
    Client.objects.filter(pk=archived.pk).update(added_at=now - timedelta(days=40))
    return orders, new_client, archived


def test_kpi_cards_open_the_lists_they_count(manager_client, this_month):
    orders, new_client, archived = this_month
    page = manager_client.get(reverse("admin:index")).content.decode()
    links = kpi_links(page)
    orders_url = reverse("admin:crm_order_changelist")
    clients_url = reverse("admin:crm_client_changelist")
    month_start = timezone.localdate().replace(day=1)
    since = timezone.localdate() - timedelta(days=29)
    assert links == {
        "Активные": f"{clients_url}?status__exact=active",
        "Новые": f"{clients_url}?added_at_from={since.isoformat()}",
        "Заказы": f"{orders_url}?status__exact=Pending",
        "Выручка": f"{orders_url}?created_at_from={month_start.isoformat()}&status__in=Pending,Completed",
        "Средний": f"{orders_url}?created_at_from={month_start.isoformat()}&status__in=Pending,Completed",
    }
    # Each list holds exactly what its card counts.
    figures = dashboard_figures()
    revenue_list = listed_ids(manager_client.get(links["Выручка"]))
    assert revenue_list == {orders["pending"].pk, orders["completed"].pk}
    assert len(revenue_list) == figures.orders_this_month
    new_list = listed_ids(manager_client.get(links["Новые"]))
    assert new_list == {new_client.pk} and len(new_list) == figures.new_clients
    active_list = listed_ids(manager_client.get(links["Активные"]))
    assert archived.pk not in active_list and len(active_list) == figures.active_clients
    assert listed_ids(manager_client.get(links["Заказы"])) == {orders["pending"].pk}


def test_latest_orders_table_shows_status_badges_newest_first(manager_client, db):
    old = order_at(timezone.now() - timedelta(days=3), product="Раньше", status=Order.Status.COMPLETED)
    new = order_at(timezone.now(), product="Позже", status=Order.Status.PENDING)
    page = manager_client.get(reverse("admin:index")).content.decode()
    table = page[page.index("Последние заказы"):]
    assert table.index(reverse("admin:crm_order_change", args=[new.pk])) < table.index(
        reverse("admin:crm_order_change", args=[old.pk])
    )
    assert re.search(r"<span[^>]*>\s*Завершён\s*</span>", table)


def test_chart_has_a_fixed_height_and_compact_ticks_for_a_phone(manager_client, db):
    page = manager_client.get(reverse("admin:index")).content.decode()
    assert re.search(r'<div style="height: 18rem">\s*<div class="relative w-full h-full">\s*<canvas class="chart"', page)
    options = json.loads(unescape(re.search(r'data-options="([^"]+)"', page).group(1)))
    assert options["maintainAspectRatio"] is False
    assert options["scales"]["x"]["ticks"]["maxRotation"] == 0
    assert options["scales"]["money"]["ticks"]["format"]["notation"] == "compact"
    assert options["locale"] == "ru"


def test_amounts_stay_on_one_line(manager_client, db):
    OrderFactory(price="1234567.89")
    page = manager_client.get(reverse("admin:index")).content.decode()
    kpi = page[page.index('id="crm-kpi"'):page.index('class="chart"')]
    assert "1\xa0234\xa0567,89\xa0₽" in kpi
    assert kpi.count("whitespace-nowrap") == 5
    # The month's change in the Russian way: "+12,5%", not "+12.5%".
    assert not re.search(r"[+-]\d+\.\d%", page)
