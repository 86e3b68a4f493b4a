"""Every admin page renders for a manager and for a viewer, with its key content and bounded queries."""

import pytest
from django.contrib import admin
from django.urls import reverse

from crm.models import Client, Order
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["manager", "viewer"])
def staff_client(request, client):
    user = request.getfixturevalue(request.param)
    client.force_login(user)
    client.role = request.param
    return client


def test_dashboard_shows_cards_chart_statuses_and_latest_orders(staff_client, client_with_orders):
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="crm-dashboard"' in html
    assert 'class="chart"' in html and 'data-type="bar"' in html
    assert "Активные клиенты" in html or "Active clients" in html
    latest_order = client_with_orders.orders.order_by("-id").first()
    assert reverse("admin:crm_order_change", args=[latest_order.pk]) in html


def test_dashboard_is_russian_by_default_with_a_switch_to_english(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode()
    assert '<html lang="ru"' in html
    assert "/i18n/setlang/" in html


def test_sidebar_lists_the_staff_sections(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode()
    for url_name in ("admin:crm_client_changelist", "admin:crm_order_changelist"):
        assert reverse(url_name) in html


def test_client_list_shows_each_client_with_status_order_count_and_total(staff_client, client_with_orders):
    idle = ClientFactory(first_name="Олег", last_name="Пустов", status=Client.Status.ARCHIVED)
    response = staff_client.get(reverse("admin:crm_client_changelist"), {"status__exact": "all"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ёлкин Анатолий" in html and "yolkin@example.com" in html
    assert "Пустов Олег" in html
    # Two orders: 2 × 1500.00 + 99.90, in the Russian money format, and a link to the client's orders.
    assert "3\xa0099,90\xa0₽" in html
    assert reverse("admin:crm_order_changelist") + f"?client__id__exact={client_with_orders.pk}" in html
    assert "Активен" in html and "В архиве" in html
    assert reverse("admin:crm_client_change", args=[idle.pk]) in html


def test_order_list_shows_product_client_money_and_status(staff_client, client_with_orders):
    response = staff_client.get(reverse("admin:crm_order_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ноутбук" in html and "Мышь" in html
    assert reverse("admin:crm_client_change", args=[client_with_orders.pk]) in html
    assert "99,90\xa0₽" in html
    assert "В ожидании" in html


def test_deleted_order_list_shows_the_deleted_order(staff_client, client_with_orders):
    from crm.services import order_delete

    mouse = client_with_orders.orders.get(product="Мышь")
    order_delete(order=mouse)
    response = staff_client.get(reverse("admin:crm_historicalorder_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Мышь" in html and "Ёлкин Анатолий" in html and "Ноутбук" not in html


@pytest.mark.parametrize("url_name", ["admin:auth_user_changelist", "admin:auth_group_changelist"])
def test_account_lists_are_for_superusers_only(staff_client, url_name):
    # Managers and viewers do not manage accounts.
    assert staff_client.get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("search", ["анатолий", "%", "_", "\\", "9001", "x" * 300, "ёлкин ноутбук", "\x00"])
def test_every_change_list_answers_a_search(superuser, client, client_with_orders, search):
    # Every searchable list of the admin (a superuser sees them all), including searches that are
    # LIKE wildcards, a NUL character or absurdly long: a page, never a server error.
    client.force_login(superuser)
    searchable = [model_admin for model_admin in admin.site._registry.values() if model_admin.search_fields]
    assert len(searchable) >= 5
    for model_admin in searchable:
        opts = model_admin.model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), {"q": search})
        assert response.status_code == 200, (opts.label, response.status_code)


def test_client_change_form_shows_orders_and_buttons_by_role(staff_client, client_with_orders):
    response = staff_client.get(reverse("admin:crm_client_change", args=[client_with_orders.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ёлкин Анатолий" in html
    for order in client_with_orders.orders.all():
        assert reverse("admin:crm_order_change", args=[order.pk]) in html
    add_order_url = reverse("admin:crm_client_add_order", args=[client_with_orders.pk])
    archive_url = reverse("admin:crm_client_archive", args=[client_with_orders.pk])
    history_url = reverse("admin:crm_client_history", args=[client_with_orders.pk])
    assert history_url in html
    if staff_client.role == "manager":
        assert add_order_url in html and archive_url in html
        assert 'name="_save"' in html
    else:
        assert add_order_url not in html and archive_url not in html
        assert 'name="_save"' not in html


def test_order_change_form_shows_total_read_only(staff_client, client_with_orders):
    order = client_with_orders.orders.get(product="Ноутбук")
    response = staff_client.get(reverse("admin:crm_order_change", args=[order.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "3000" in html
    assert 'name="total_price"' not in html
    if staff_client.role == "manager":
        assert 'name="_save"' in html
    else:
        assert 'name="_save"' not in html


@pytest.mark.parametrize("url_name", ["admin:crm_client_add", "admin:crm_order_add"])
def test_add_forms_for_managers_only(staff_client, url_name):
    response = staff_client.get(reverse(url_name))
    assert response.status_code == (200 if staff_client.role == "manager" else 403)


def test_order_add_form_prefills_the_client(manager_client, client_with_orders):
    response = manager_client.get(reverse("admin:crm_order_add") + f"?client={client_with_orders.pk}")
    assert response.status_code == 200
    assert f'<option value="{client_with_orders.pk}" selected>' in response.content.decode()


def test_viewer_sees_no_bulk_actions_or_add_buttons(viewer_client, client_with_orders):
    html = viewer_client.get(reverse("admin:crm_order_changelist")).content.decode()
    assert "mark_completed" not in html
    assert reverse("admin:crm_order_add") not in html
    html = viewer_client.get(reverse("admin:crm_client_changelist")).content.decode()
    assert "archive_selected" not in html
    assert reverse("admin:crm_client_add") not in html


def test_manager_sees_bulk_actions(manager_client, client_with_orders):
    html = manager_client.get(reverse("admin:crm_order_changelist")).content.decode()
    assert "mark_completed" in html and "mark_cancelled" in html and "mark_pending" in html
    html = manager_client.get(reverse("admin:crm_client_changelist")).content.decode()
    assert "archive_selected" in html and "restore_selected" in html


def test_history_pages_render(staff_client, client_with_orders):
    order = client_with_orders.orders.first()
    assert staff_client.get(reverse("admin:crm_client_history", args=[client_with_orders.pk])).status_code == 200
    assert staff_client.get(reverse("admin:crm_order_history", args=[order.pk])).status_code == 200


@pytest.fixture
def thousand_orders(db):
    clients = [ClientFactory() for _ in range(20)]
    orders = []
    for number in range(1000):
        order = Order(client=clients[number % 20], product=f"Товар {number}", quantity=1 + number % 3, price="10.00")
        order.normalize_fields()
        orders.append(order)
    Order.objects.bulk_create(orders)
    extra_clients = []
    for number in range(980):
        extra = Client(first_name="Пётр", last_name=f"Петров{number}", email=f"petrov{number}@example.com")
        extra.normalize_fields()
        extra_clients.append(extra)
    Client.objects.bulk_create(extra_clients)


@pytest.mark.parametrize("url_name", ["admin:crm_client_changelist", "admin:crm_order_changelist"])
def test_change_lists_of_a_thousand_rows_take_few_queries(
    manager_client, thousand_orders, django_assert_max_num_queries, url_name
):
    with django_assert_max_num_queries(10):
        response = manager_client.get(reverse(url_name))
    assert response.status_code == 200


def test_dashboard_takes_few_queries(manager_client, thousand_orders, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert manager_client.get(reverse("admin:index")).status_code == 200


def test_order_search_finds_product_and_client_name(manager_client, client_with_orders):
    OrderFactory(product="Клавиатура")
    html = manager_client.get(reverse("admin:crm_order_changelist"), {"q": "ёлкин"}).content.decode()
    assert "Ноутбук" in html and "Клавиатура" not in html
    html = manager_client.get(reverse("admin:crm_order_changelist"), {"q": "КЛАВИАТУРА"}).content.decode()
    assert "Клавиатура" in html and "Ноутбук" not in html


def test_client_search_is_cyrillic_aware(manager_client, client_with_orders):
    ClientFactory(first_name="Борис", last_name="Смирнов")
    html = manager_client.get(reverse("admin:crm_client_changelist"), {"q": "елкин анатолий"}).content.decode()
    assert "Ёлкин Анатолий" in html and "Смирнов" not in html


def test_order_filters_by_status_total_and_client(manager_client, client_with_orders):
    other = OrderFactory(product="Кабель", price="5.00", status=Order.Status.COMPLETED)
    url = reverse("admin:crm_order_changelist")
    html = manager_client.get(url, {"status__exact": "Completed"}).content.decode()
    assert "Кабель" in html and "Ноутбук" not in html
    html = manager_client.get(url, {"total_price_from": "1000", "total_price_to": "5000"}).content.decode()
    assert "Ноутбук" in html and "Кабель" not in html
    html = manager_client.get(url, {"client__id__exact": other.client_id}).content.decode()
    assert "Кабель" in html and "Ноутбук" not in html


def test_client_filter_has_orders(manager_client, client_with_orders):
    ClientFactory(last_name="Безпокупкин")
    url = reverse("admin:crm_client_changelist")
    html = manager_client.get(url, {"has_orders": "no"}).content.decode()
    assert "Безпокупкин" in html and "Ёлкин" not in html
    html = manager_client.get(url, {"has_orders": "yes"}).content.decode()
    assert "Ёлкин" in html and "Безпокупкин" not in html


def test_client_list_shows_order_count_and_total_spent(manager_client, client_with_orders):
    html = manager_client.get(reverse("admin:crm_client_changelist")).content.decode()
    # 2 × 1500.00 + 99.90
    assert "3 099,90" in html.replace("\xa0", " ")


def test_autocomplete_finds_clients_by_cyrillic_name(manager_client, client_with_orders):
    response = manager_client.get(
        reverse("admin:autocomplete"),
        {"term": "ЁЛКИН", "app_label": "crm", "model_name": "order", "field_name": "client"},
    )
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(client_with_orders.pk)]


def test_client_list_aggregates_orders_per_shown_client_not_over_a_join(
    manager_client, client_with_orders, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ClientFactory(last_name="Безпокупкин")
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.get(reverse("admin:crm_client_changelist"))
    assert response.status_code == 200
    client_queries = [q["sql"] for q in queries.captured_queries if '"crm_client"' in q["sql"]]
    # Counts and sums are correlated subqueries of the page's rows; the paginator counts clients alone.
    assert client_queries and not any("JOIN" in sql and '"crm_order"' in sql for sql in client_queries)
    counts = [sql for sql in client_queries if "COUNT(*)" in sql]
    assert all('"crm_order"' not in sql for sql in counts)
    html = response.content.decode().replace("\xa0", " ")
    assert "3 099,90" in html and "0,00 ₽" in html


@pytest.mark.parametrize("column", ["orders_count", "orders_total"])
def test_client_list_sorts_by_orders_count_and_total(manager_client, client_with_orders, column):
    buyer = ClientFactory(last_name="Щедрый")
    for _ in range(3):
        OrderFactory(client=buyer, price="5000.00")
    ClientFactory(last_name="Безпокупкин")
    url = reverse("admin:crm_client_changelist")
    # The sort parameter counts list_display columns after the action checkbox (index 0).
    index = ("name", "email", "mobile_phone", "status_badge", "orders_count", "orders_total").index(column) + 1
    response = manager_client.get(url, {"o": f"-{index}"})
    names = [client.last_name for client in response.context["cl"].result_list]
    assert names == ["Щедрый", "Ёлкин", "Безпокупкин"]
    response = manager_client.get(url, {"o": f"{index}"})
    assert [client.last_name for client in response.context["cl"].result_list][0] == "Безпокупкин"


def test_logging_in_from_the_bare_login_page_lands_on_the_dashboard(client, manager):
    login_page = client.get(reverse("admin:login"))
    assert login_page.status_code == 200
    # What the browser posts: the page's own form fields, with no `next`.
    response = client.post(reverse("admin:login"), {"username": manager.username, "password": "secret-pass-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.get(response["Location"]).status_code == 200


def test_history_shows_status_labels_money_and_no_none(manager_client, client_with_orders):
    from crm.services import order_update

    order = client_with_orders.orders.get(product="Мышь")
    order_update(order=order, status=Order.Status.COMPLETED, price="1234.50")
    html = manager_client.get(reverse("admin:crm_order_history", args=[order.pk])).content.decode()
    assert "В ожидании" in html and "Завершён" in html
    assert "99,90\xa0₽" in html and "1\xa0234,50\xa0₽" in html
    assert ">Completed<" not in html.replace(" ", "").replace("\n", "")
    assert "None" not in html


def test_client_page_shows_order_status_badges_not_pairs(manager_client, client_with_orders):
    html = manager_client.get(reverse("admin:crm_client_change", args=[client_with_orders.pk])).content.decode()
    assert "В ожидании" in html
    assert "(&#x27;Pending&#x27;" not in html and "('Pending'" not in html


def test_counts_agree_with_their_number_in_russian(manager_client):
    from reports.services import report_generate

    for _ in range(2):
        ClientFactory()
    html = manager_client.get(reverse("admin:crm_client_changelist")).content.decode()
    assert "2 клиента" in html and "клиенты" not in html.split("2 клиента")[0][-20:]
    html = manager_client.get(reverse("admin:reports_report_changelist")).content.decode()
    assert "0 отчётов" in html
    report_generate(period="week")
    assert "1 отчёт" in manager_client.get(reverse("admin:reports_report_changelist")).content.decode()


def test_saving_says_what_was_saved_in_plain_words(manager_client, client_with_orders):
    order = client_with_orders.orders.get(product="Мышь")
    data = {"client": client_with_orders.pk, "product": "Мышь", "quantity": 2, "price": "99.90",
            "description": "", "status": "Pending"}
    response = manager_client.post(reverse("admin:crm_order_change", args=[order.pk]), data, follow=True)
    html = response.content.decode()
    assert f"Заказ №{order.pk} сохранён." in html
    assert "был успешно" not in html
    response = manager_client.post(reverse("admin:crm_order_add"), data, follow=True)
    new_order = Order.objects.order_by("-id").first()
    assert f"Заказ №{new_order.pk} добавлен." in response.content.decode()


def test_permission_pickers_offer_only_the_crms_permissions_in_russian(client, superuser):
    from django.contrib.auth.models import Group, Permission

    client.force_login(superuser)
    group = Group.objects.create(name="Clerks")
    html = client.get(reverse("admin:auth_group_change", args=[group.pk])).content.decode()
    assert "Клиенты: добавление" in html
    assert "Can add" not in html and "Outstanding" not in html
    token_permission = Permission.objects.get(codename="add_outstandingtoken")
    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]), {"name": "Clerks", "permissions": [token_permission.pk]}
    )
    assert response.status_code == 200  # the form refuses a permission it does not offer
    assert not group.permissions.exists()
