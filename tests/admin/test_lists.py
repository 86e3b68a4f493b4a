"""The order and client lists answer business questions: how many and for how much, which period, who bought last;
archived clients stay out of the lists and out of new orders unless asked for."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.admin.filters import period_bounds
from crm.models import Client, Order
from tests.factories import ClientFactory, OrderFactory, make_user

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:crm_order_changelist")
CLIENTS = reverse("admin:crm_client_changelist")
ORDER_ADD = reverse("admin:crm_order_add")
NBSP = "\xa0"


def shown(response) -> list:
    return list(response.context["cl"].result_list)


def summary_of(response) -> str:
    html = response.content.decode()
    start = html.index('id="change-list-summary">') + len('id="change-list-summary">')
    return html[start:html.index("</p>", start)].strip()


# --- the order list: count and sum -------------------------------------------
@pytest.fixture
def priced_orders(db):
    """Orders whose totals would lose kopecks in floating point, and two near the largest allowed total."""
    anna = ClientFactory(first_name="Анна", last_name="Лебедева")
    boris = ClientFactory(first_name="Борис", last_name="Смирнов")
    orders = [
        OrderFactory(client=anna, product="Кабель", quantity=3, price=Decimal("0.10")),
        OrderFactory(client=anna, product="Мышь", quantity=1, price=Decimal("0.20"), status=Order.Status.COMPLETED),
        OrderFactory(client=boris, product="Ноутбук", quantity=7, price=Decimal("1234.57")),
        OrderFactory(client=boris, product="Сервер", quantity=1_000_000, price=Decimal("999999.99")),
        OrderFactory(client=boris, product="Сервер", quantity=1, price=Decimal("0.01"), status=Order.Status.CANCELLED),
    ]
    return orders


def expected_total(orders) -> Decimal:
    return sum((order.quantity * order.price for order in orders), Decimal("0.00"))


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({}, lambda order: True),
        ({"q": "сервер"}, lambda order: order.product == "Сервер"),
        ({"q": "лебедева"}, lambda order: order.client.last_name == "Лебедева"),
        ({"status__exact": "Pending"}, lambda order: order.status == "Pending"),
        ({"status__exact": "Pending", "q": "смирнов"}, lambda order: order.status == "Pending"
         and order.client.last_name == "Смирнов"),
        ({"total_price_from": "0.30", "total_price_to": "10000"}, lambda order: Decimal("0.30") <= order.total_price
         <= 10000),
        ({"period": "today"}, lambda order: True),
        ({"q": "ничего-такого-нет"}, lambda order: False),
    ],
)
def test_order_summary_counts_and_sums_exactly_what_search_and_filters_keep(manager_client, priced_orders, params,
                                                                         keep):
    kept = [order for order in priced_orders if keep(order)]
    response = manager_client.get(ORDERS, params)
    assert response.status_code == 200
    summary = response.context["cl"].paginator.summary
    assert summary.count == len(kept) == response.context["cl"].result_count
    assert summary.total == expected_total(kept)
    assert sorted(order.pk for order in shown(response)) == sorted(order.pk for order in kept)


def test_order_summary_line_in_russian_with_grouped_count_and_exact_money(manager_client, priced_orders):
    # 0.30 + 0.20 + 8641.99 + 999 999 990 000.00 + 0.01
    line = summary_of(manager_client.get(ORDERS))
    assert line == f"Найдено 5 заказов на сумму 999{NBSP}999{NBSP}998{NBSP}642,50{NBSP}₽"
    line = summary_of(manager_client.get(ORDERS, {"q": "ноутбук"}))
    assert line == f"Найден 1 заказ на сумму 8{NBSP}641,99{NBSP}₽"
    line = summary_of(manager_client.get(ORDERS, {"q": "лебедева"}))
    assert line == f"Найдено 2 заказа на сумму 0,50{NBSP}₽"


@pytest.mark.parametrize("params", [{}, {"status__exact": "Pending"}, {"q": "смирнов сервер"}])
def test_order_summary_and_page_numbers_come_from_one_aggregate_query(manager_client, priced_orders, params):
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.get(ORDERS, params)
    assert response.status_code == 200
    counting = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    rollups = [query["sql"] for query in queries.captured_queries if '"reports_rollup_day"' in query["sql"]]
    if "q" not in params:
        # All orders or one status: added up from the report rollups, never counted over the orders.
        assert counting == [] and len(rollups) == 1
    else:
        assert len(counting) == 1 and '"crm_order"' in counting[0] and rollups == []
        # Every match is counted with the matching clients as a subquery, not through a join over every order.
        assert "JOIN" not in counting[0].upper()
        assert response.context["cl"].paginator.summary.count == 2


@pytest.fixture
def sixty_orders(db):
    client = ClientFactory()
    orders = []
    for number in range(60):
        order = Order(client=client, product=f"Товар {number}", quantity=1, price=Decimal("10.00"))
        order.normalize_fields()
        orders.append(order)
    Order.objects.bulk_create(orders)
    return list(Order.objects.order_by("-id"))


def test_order_list_has_page_numbers_and_page_two_shows_the_rest(manager_client, sixty_orders):
    response = manager_client.get(ORDERS)
    html = response.content.decode()
    # Django's numbered pagination, not unfold's Previous/Next only.
    assert 'href="?p=2"' in html
    assert "Вперёд" not in html and "Назад" not in html
    assert len(shown(response)) == 50
    page_two = manager_client.get(ORDERS, {"p": 2})
    assert page_two.status_code == 200
    assert [order.pk for order in shown(page_two)] == [order.pk for order in sixty_orders[50:]]
    assert "60 заказов" in page_two.content.decode()
    assert summary_of(page_two) == f"Найдено 60 заказов на сумму 600,00{NBSP}₽"


def test_page_numbers_keep_the_filters(manager_client, sixty_orders):
    Order.objects.filter(pk__in=[order.pk for order in sixty_orders[:55]]).update(status=Order.Status.COMPLETED)
    response = manager_client.get(ORDERS, {"status__exact": "Completed", "p": 2})
    assert len(shown(response)) == 5
    assert response.context["cl"].paginator.num_pages == 2
    html = response.content.decode()
    assert 'href="?p=1&amp;status__exact=Completed"' in html and "55 заказов" in html


# --- quick periods --------------------------------------------------------------
def local(day, hour=0, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def test_quick_periods_use_local_days(manager_client):
    assert str(timezone.get_current_timezone()) == "Europe/Moscow"
    today = timezone.localdate()
    month_start = today.replace(day=1)
    last_month_start = (month_start - timedelta(days=1)).replace(day=1)
    moments = [
        local(today, 0, 30),
        # 01:00 in Moscow is 22:00 UTC the day before: still today here.
        local(today, 1, 0),
        local(today - timedelta(days=1), 23, 59),
        local(today - timedelta(days=6), 0, 1),
        local(today - timedelta(days=7), 23, 59),
        local(month_start, 0, 1),
        local(month_start) - timedelta(minutes=1),
        local(last_month_start),
        local(last_month_start) - timedelta(seconds=1),
    ]
    client = ClientFactory()
    orders = {OrderFactory(client=client, created_at=moment).pk: timezone.localdate(moment) for moment in moments}
    in_period = {
        "today": lambda day: day == today,
        "7days": lambda day: today - timedelta(days=6) <= day <= today,
        "month": lambda day: (day.year, day.month) == (today.year, today.month),
        "last_month": lambda day: (day.year, day.month) == (last_month_start.year, last_month_start.month),
    }
    for period, keep in in_period.items():
        response = manager_client.get(ORDERS, {"period": period})
        expected = sorted(pk for pk, day in orders.items() if keep(day))
        assert sorted(order.pk for order in shown(response)) == expected, period
        assert response.context["cl"].paginator.summary.count == len(expected)
    assert len(shown(manager_client.get(ORDERS))) == len(moments)


def test_period_bounds_are_local_midnights():
    start, end = period_bounds("today", today=datetime(2025, 3, 1).date())
    assert start.isoformat() == "2025-03-01T00:00:00+03:00" and end.isoformat() == "2025-03-02T00:00:00+03:00"
    start, end = period_bounds("month", today=datetime(2024, 12, 31).date())
    assert (start.date().isoformat(), end.date().isoformat()) == ("2024-12-01", "2025-01-01")
    start, end = period_bounds("last_month", today=datetime(2025, 3, 31).date())
    assert (start.date().isoformat(), end.date().isoformat()) == ("2025-02-01", "2025-03-01")
    start, end = period_bounds("7days", today=datetime(2025, 3, 3).date())
    assert (start.date().isoformat(), end.date().isoformat()) == ("2025-02-25", "2025-03-04")
    assert period_bounds("bogus") is None and period_bounds(None) is None


def test_quick_period_links_above_the_order_list(manager_client, client_with_orders):
    html = manager_client.get(ORDERS, {"status__exact": "Pending"}).content.decode()
    for label in ("За всё время", "Сегодня", "7 дней", "Этот месяц", "Прошлый месяц"):
        assert f">{label}</a>" in html
    # A period link keeps the other filters; "all time" drops only the period.
    assert 'href="?period=7days&amp;status__exact=Pending"' in html
    html = manager_client.get(ORDERS, {"status__exact": "Pending", "period": "month"}).content.decode()
    assert 'href="?status__exact=Pending" class="active"' not in html
    assert 'href="?period=month&amp;status__exact=Pending" class="active"' in html
    assert 'href="?status__exact=Pending">За всё время</a>' in html


def test_an_unknown_period_filters_nothing(manager_client, client_with_orders):
    response = manager_client.get(ORDERS, {"period": "forever"})
    assert response.status_code == 200
    assert len(shown(response)) == 2


# --- the client list ------------------------------------------------------------
@pytest.fixture
def three_buyers(db):
    """Three clients: many small old orders, one big recent order, no orders."""
    now = timezone.now()
    frequent = ClientFactory(last_name="Частый")
    for days in (30, 20, 10):
        OrderFactory(client=frequent, price=Decimal("100.00"), created_at=now - timedelta(days=days))
    recent = ClientFactory(last_name="Недавний")
    OrderFactory(client=recent, price=Decimal("5000.00"), created_at=now - timedelta(days=1))
    idle = ClientFactory(last_name="Безпокупкин")
    return frequent, recent, idle


# Sort indexes count list_display columns after the action checkbox.
ORDERS_COUNT, ORDERS_TOTAL, LAST_ORDER = 5, 6, 7


@pytest.mark.parametrize(
    ("column", "descending"),
    [
        (ORDERS_COUNT, ["Частый", "Недавний", "Безпокупкин"]),
        (ORDERS_TOTAL, ["Недавний", "Частый", "Безпокупкин"]),
        (LAST_ORDER, ["Недавний", "Частый", "Безпокупкин"]),
    ],
)
def test_client_list_sorts_by_orders_count_total_and_last_order(manager_client, three_buyers, column, descending):
    response = manager_client.get(CLIENTS, {"o": f"-{column}"})
    assert [client.last_name for client in shown(response)] == descending
    response = manager_client.get(CLIENTS, {"o": f"{column}"})
    assert [client.last_name for client in shown(response)] == descending[::-1]


def test_client_list_shows_count_total_and_last_order_date(manager_client, three_buyers):
    frequent, recent, idle = three_buyers
    response = manager_client.get(CLIENTS)
    html = response.content.decode()
    assert "Последний заказ" in html
    rows = {client.last_name: client for client in shown(response)}
    assert rows["Частый"].orders_count == 3 and rows["Частый"].orders_total == Decimal("300.00")
    last = recent.orders.get().created_at
    assert rows["Недавний"].last_order_at == last
    assert rows["Безпокупкин"].last_order_at is None
    assert timezone.localtime(last).strftime("%d.%m.%Y") in html


def test_client_list_shows_active_clients_unless_asked_for_archived_ones(manager_client, three_buyers):
    frequent, recent, idle = three_buyers
    archived = ClientFactory(last_name="Архивный", status=Client.Status.ARCHIVED)
    names = lambda response: {client.last_name for client in shown(response)}  # noqa: E731
    default = manager_client.get(CLIENTS)
    assert names(default) == {"Частый", "Недавний", "Безпокупкин"}
    assert "3 клиента" in default.content.decode()
    assert names(manager_client.get(CLIENTS, {"status__exact": "active"})) == names(default)
    assert names(manager_client.get(CLIENTS, {"status__exact": "archived"})) == {"Архивный"}
    assert names(manager_client.get(CLIENTS, {"status__exact": "all"})) == {"Частый", "Недавний", "Безпокупкин",
                                                                         "Архивный"}
    # Searching the default list does not find an archived client; searching all of them does.
    assert names(manager_client.get(CLIENTS, {"q": "архивный"})) == set()
    assert names(manager_client.get(CLIENTS, {"q": "архивный", "status__exact": "all"})) == {"Архивный"}
    assert archived.pk


def test_client_status_links_above_the_list(manager_client, three_buyers):
    html = manager_client.get(CLIENTS).content.decode()
    assert 'href="?status__exact=active" class="active" aria-current="true">Активные</a>' in html
    assert 'href="?status__exact=archived">В архиве</a>' in html
    assert 'href="?status__exact=all">Все</a>' in html
    html = manager_client.get(CLIENTS, {"status__exact": "archived", "has_orders": "yes"}).content.decode()
    assert 'href="?has_orders=yes&amp;status__exact=archived" class="active"' in html


# --- the client autocomplete ---------------------------------------------------------
def autocomplete(http, term, **extra):
    params = {"app_label": "crm", "model_name": "order", "field_name": "client", "term": term, **extra}
    response = http.get(reverse("admin:autocomplete"), params)
    assert response.status_code == 200
    return {row["text"] for row in response.json()["results"]}


def test_order_form_autocomplete_offers_active_clients_only(manager_client):
    ClientFactory(first_name="Анна", last_name="Смирнова")
    ClientFactory(first_name="Борис", last_name="Смирнов", status=Client.Status.ARCHIVED)
    assert autocomplete(manager_client, "смирнов") == {"Смирнова Анна Иванович"}
    # The order list's client filter finds archived clients too (their old orders are still there).
    assert autocomplete(manager_client, "смирнов", any_status="1") == {"Смирнова Анна Иванович",
                                                                       "Смирнов Борис Иванович"}


def test_order_list_client_filter_asks_for_any_status(manager_client, client_with_orders):
    html = manager_client.get(ORDERS).content.decode()
    assert 'data-ajax--url="/admin/autocomplete/?any_status=1"' in html
    # The order form's own autocomplete asks for active clients.
    html = manager_client.get(ORDER_ADD).content.decode()
    assert 'data-ajax--url="/admin/autocomplete/"' in html


# --- adding an order for an archived client ----------------------------------------------
def order_form(client, **extra):
    return {"client": client.pk, "product": "Ноутбук", "quantity": 1, "price": "1500.00", "description": "",
            "status": "Pending", **extra}


@pytest.fixture
def archived_client(db):
    return ClientFactory(first_name="Олег", last_name="Пустов", status=Client.Status.ARCHIVED)


def test_order_add_form_for_an_archived_client_asks_what_to_do(manager_client, archived_client):
    html = manager_client.get(ORDER_ADD, {"client": archived_client.pk}).content.decode()
    assert 'name="archived_client"' in html
    assert "Восстановить клиента и оформить заказ" in html
    assert "Всё равно оформить заказ; клиент останется в архиве" in html
    # Not for an active client.
    active = ClientFactory()
    assert 'name="archived_client"' not in manager_client.get(ORDER_ADD, {"client": active.pk}).content.decode()
    assert 'name="archived_client"' not in manager_client.get(ORDER_ADD).content.decode()


def test_order_for_an_archived_client_is_refused_without_a_choice(manager_client, archived_client):
    response = manager_client.post(ORDER_ADD, order_form(archived_client))
    assert response.status_code == 200
    assert not Order.objects.exists()
    html = response.content.decode()
    assert "Клиент Пустов Олег Иванович в архиве: восстановите клиента или подтвердите заказ" in html
    assert 'name="archived_client"' in html
    response = manager_client.post(ORDER_ADD, order_form(archived_client, archived_client="bogus"))
    assert response.status_code == 200 and not Order.objects.exists()


def test_order_for_an_archived_client_anyway_keeps_the_client_archived(manager_client, archived_client):
    response = manager_client.post(ORDER_ADD, order_form(archived_client, archived_client="keep"), follow=True)
    assert response.status_code == 200
    order = Order.objects.get()
    assert order.client == archived_client and order.total_price == Decimal("1500.00")
    archived_client.refresh_from_db()
    assert archived_client.status == Client.Status.ARCHIVED
    assert f"Заказ №{order.pk} добавлен." in response.content.decode()


def test_order_for_an_archived_client_can_restore_the_client(manager_client, archived_client):
    response = manager_client.post(ORDER_ADD, order_form(archived_client, archived_client="restore"), follow=True)
    assert response.status_code == 200
    assert Order.objects.get().client == archived_client
    archived_client.refresh_from_db()
    assert archived_client.status == Client.Status.ACTIVE
    html = response.content.decode()
    assert "Пустов Олег Иванович снова активен" in html or "снова" in html


def test_client_page_add_order_button_leads_to_the_question(manager_client, archived_client):
    response = manager_client.get(reverse("admin:crm_client_add_order", args=[archived_client.pk]))
    assert response.status_code == 302
    assert 'name="archived_client"' in manager_client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "99999999999999999999999", "\x00", "424242"])
def test_order_add_form_with_a_client_that_cannot_be_is_a_form_not_a_server_error(manager_client, value):
    response = manager_client.get(ORDER_ADD, {"client": value})
    assert response.status_code == 200
    response = manager_client.post(ORDER_ADD, {**order_form(ClientFactory.build(pk=1)), "client": value})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["client"]
    assert not Order.objects.exists()


def test_order_for_an_active_client_needs_no_confirmation(manager_client, client_with_orders):
    response = manager_client.post(ORDER_ADD, order_form(client_with_orders))
    assert response.status_code == 302
    assert client_with_orders.orders.count() == 3


def test_who_may_not_change_clients_is_offered_only_to_go_ahead(client, archived_client):
    clerk = make_user("clerk")
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["add_order", "view_order", "view_client"]))
    client.force_login(clerk)
    html = client.get(ORDER_ADD, {"client": archived_client.pk}).content.decode()
    assert "Всё равно оформить заказ" in html and "Восстановить клиента" not in html
    response = client.post(ORDER_ADD, order_form(archived_client, archived_client="restore"))
    assert response.status_code == 200 and not Order.objects.exists()
    archived_client.refresh_from_db()
    assert archived_client.status == Client.Status.ARCHIVED


# --- bounded queries ------------------------------------------------------------------
@pytest.fixture
def thousand_orders(db):
    clients = [ClientFactory(status=Client.Status.ARCHIVED if number % 5 == 0 else Client.Status.ACTIVE)
               for number in range(20)]
    orders = []
    for number in range(1000):
        order = Order(client=clients[number % 20], product=f"Товар {number}", quantity=1 + number % 3,
                      price=Decimal("10.00"))
        order.normalize_fields()
        orders.append(order)
    Order.objects.bulk_create(orders)


@pytest.mark.parametrize("params", [{}, {"p": 3}, {"period": "month"}, {"q": "товар"}, {"status__exact": "Pending"},
                                    {"client__id__exact": "1"}])
def test_order_list_takes_few_queries(manager_client, thousand_orders, django_assert_max_num_queries, params):
    with django_assert_max_num_queries(8):
        assert manager_client.get(ORDERS, params).status_code == 200


@pytest.mark.parametrize("params", [{}, {"o": "-5"}, {"o": "6"}, {"o": "-7"}, {"status__exact": "all", "p": 1},
                                    {"status__exact": "archived"}])
def test_client_list_takes_few_queries(manager_client, thousand_orders, django_assert_max_num_queries, params):
    with django_assert_max_num_queries(8):
        assert manager_client.get(CLIENTS, params).status_code == 200


def test_header_count_and_show_all_only_for_a_narrowed_list(manager_client, client_with_orders):
    # Nothing narrows the default lists: no "2 results (Show all)" leading back to the same page.
    assert "Показать все" not in manager_client.get(ORDERS).content.decode()
    assert "Показать все" not in manager_client.get(CLIENTS).content.decode()
    assert "Показать все" in manager_client.get(ORDERS, {"q": "мышь"}).content.decode()
    assert "Показать все" in manager_client.get(CLIENTS, {"status__exact": "archived"}).content.decode()


@pytest.mark.parametrize(("sort", "ids_ascending"), [("5", True), ("-5", False)])
def test_rows_of_equal_value_come_in_the_sorted_columns_direction(manager_client, sort, ids_ascending):
    # The tie-breaker follows the column (crm.admin.display.CachedHeadersChangeList), so a (price, id) index
    # gives the page in order; Django's own -pk would sort every tie.
    client = ClientFactory()
    same_price = [OrderFactory(client=client, price=Decimal("10.00")).pk for _ in range(3)]
    OrderFactory(client=client, price=Decimal("20.00"))
    rows = [order.pk for order in shown(manager_client.get(ORDERS, {"o": sort})) if order.pk in same_price]
    assert rows == sorted(same_price, reverse=not ids_ascending)
