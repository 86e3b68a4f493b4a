"""The Ctrl+K palette (unfold's /admin/search/?extended=1): clients and orders from the domain's search, linked,
bounded, and only for users who may view them."""

import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from crm import selectors
from crm.models import Client, Order
from tests.factories import ClientFactory, OrderFactory, make_user

pytestmark = pytest.mark.django_db


def palette(client, query) -> list[tuple[str, str, str]]:
    """(title, description, link) of every result the palette shows for `query`."""
    response = client.get(reverse("admin:search"), {"s": query, "extended": "1"})
    assert response.status_code == 200
    return [
        (unescape(title), unescape(description), unescape(link))
        for link, title, description in re.findall(
            r'href="([^"]+)"\s+data-title="([^"]*)"\s+data-description="([^"]*)"', response.content.decode()
        )
    ]


def links(results) -> list[str]:
    return [link for _title, _description, link in results]


@pytest.fixture
def shop(db):
    elkina = ClientFactory(
        first_name="Анна", last_name="Ёлкина", middle_name="", email="anna@example.com", mobile_phone="+7 900 123-45-67"
    )
    other = ClientFactory(first_name="Борис", last_name="Смирнов", email="boris@example.com")
    laptop = OrderFactory(client=elkina, product="Ноутбук Lenovo", price="1234.50")
    mouse = OrderFactory(client=other, product="Мышь", status=Order.Status.COMPLETED)
    return elkina, other, laptop, mouse


def test_finds_clients_by_name_whatever_the_case_and_yo(manager_client, shop):
    elkina, *_ = shop
    results = palette(manager_client, "ЕЛКИНА")
    assert (
        "Ёлкина Анна", "Клиент · anna@example.com · +7 (900) 123-45-67", reverse("admin:crm_client_change", args=[elkina.pk])
    ) in results


@pytest.mark.parametrize("query", ["anna@example", "+7 (900) 123-45-67", "89001234567"])
def test_finds_clients_by_email_and_phone(manager_client, shop, query):
    elkina, *_ = shop
    assert links(palette(manager_client, query)) == [reverse("admin:crm_client_change", args=[elkina.pk])]


def test_finds_orders_by_product(manager_client, shop):
    _elkina, _other, laptop, _mouse = shop
    results = palette(manager_client, "lenovo")
    assert results == [
        (f"Заказ #{laptop.pk}: Ноутбук Lenovo", "Ёлкина Анна · 1\xa0234,50\xa0₽ · В ожидании",
         reverse("admin:crm_order_change", args=[laptop.pk])),
    ]


@pytest.mark.parametrize("template", ["{}", "#{}", "№ {}"])
def test_finds_an_order_by_its_number_first(manager_client, shop, template):
    _elkina, _other, _laptop, mouse = shop
    results = palette(manager_client, template.format(mouse.pk))
    order_links = [link for link in links(results) if "/order/" in link]
    assert order_links[0] == reverse("admin:crm_order_change", args=[mouse.pk])


def test_menu_items_still_come_first(manager_client, shop):
    results = palette(manager_client, "заказ")
    assert results[0][2] == reverse("admin:crm_order_changelist")


def test_archived_clients_are_found_and_marked(manager_client, db):
    archived = ClientFactory(last_name="Архивов", status=Client.Status.ARCHIVED)
    [(title, description, link)] = palette(manager_client, "архивов")
    assert link == reverse("admin:crm_client_change", args=[archived.pk]) and description.endswith("В архиве")


def test_a_user_without_view_client_sees_no_clients(client, shop):
    user = make_user("orders-only")
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(user)
    _elkina, _other, laptop, _mouse = shop
    results = links(palette(client, "ёлкина"))
    assert not [link for link in results if "/client/" in link]
    # The orders of that client are matched by their product only, not by the client's name.
    assert links(palette(client, "ноутбук")) == [reverse("admin:crm_order_change", args=[laptop.pk])]


def test_a_user_without_view_order_sees_no_orders(client, shop):
    user = make_user("clients-only")
    user.user_permissions.add(Permission.objects.get(codename="view_client"))
    client.force_login(user)
    results = links(palette(client, "ноутбук"))
    assert not [link for link in results if "/order/" in link]
    assert links(palette(client, "ёлкина")) == [reverse("admin:crm_client_change", args=[shop[0].pk])]


def test_results_are_bounded_to_ten_of_each_newest_first(manager_client, db):
    clients = [ClientFactory(last_name=f"Петров{number}") for number in range(15)]
    orders = [OrderFactory(client=clients[0], product=f"Петров-бокс {number}") for number in range(15)]
    results = links(palette(manager_client, "петров"))
    client_links = [link for link in results if "/client/" in link]
    order_links = [link for link in results if "/order/" in link]
    assert client_links == [reverse("admin:crm_client_change", args=[c.pk]) for c in reversed(clients[-10:])]
    assert order_links == [reverse("admin:crm_order_change", args=[o.pk]) for o in reversed(orders[-10:])]


def test_palette_takes_few_queries(manager_client, db, django_assert_max_num_queries):
    for number in range(30):
        OrderFactory(product=f"Товар {number}", client=ClientFactory(last_name=f"Товаров{number}"))
    with django_assert_max_num_queries(8):
        palette(manager_client, "товар")


@pytest.mark.parametrize("query", ["", "   ", "#", "№", "\x00", "%", "_", "9" * 40, "'; DROP TABLE crm_client; --"])
def test_odd_queries_answer_without_errors(manager_client, shop, query):
    response = manager_client.get(reverse("admin:search"), {"s": query, "extended": "1"})
    assert response.status_code == 200


def test_selectors_are_bounded_and_empty_for_an_empty_query(db):
    assert selectors.palette_clients("   ") == [] and selectors.palette_orders("") == []
    for number in range(4):
        OrderFactory(product=f"Кабель {number}")
    assert len(selectors.palette_orders("кабель", limit=3)) == 3
