"""Cyrillic-aware search: the same answers on SQLite and PostgreSQL."""

import pytest
from django.core.exceptions import ValidationError

from crm.search import normalize_text, search_document, search_terms
from crm.selectors import client_list, order_list
from tests.factories import ClientFactory, OrderFactory


def test_normalize_folds_cyrillic_case_and_yo():
    assert normalize_text("  ЁЛКА  Пётр ") == "елка петр"


def test_phone_like_query_becomes_digits():
    assert search_terms("+7 (900) 123-45-67") == ["79001234567"]
    assert search_terms("Иванов  Иван") == ["иванов", "иван"]
    assert search_terms("   ") == []


def test_search_document_keeps_both_russian_prefixes():
    assert search_document("a", phone="8 900 123 45 67").endswith("89001234567 79001234567")


@pytest.fixture
def people(db):
    return {
        "anatoly": ClientFactory(first_name="Анатолий", last_name="Тюрин", middle_name="Петрович",
                                 email="tyurin@example.com", mobile_phone="+7 (900) 123-45-67"),
        "fyodor": ClientFactory(first_name="Фёдор", last_name="Ёлкин", middle_name="",
                                email="elkin@example.com", mobile_phone="8-911-000-11-22"),
        "john": ClientFactory(first_name="John", last_name="Smith", middle_name="",
                              email="John.Smith@Example.org", mobile_phone=""),
    }


def found(query, **kwargs):
    return {c.last_name for c in client_list(search=query, **kwargs)}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("анатолий", {"Тюрин"}),
        ("АНАТОЛИЙ", {"Тюрин"}),
        ("Анатолий", {"Тюрин"}),
        ("тюрин анатолий", {"Тюрин"}),
        ("Анатолий Тюрин", {"Тюрин"}),
        ("петрович", {"Тюрин"}),
        ("федор", {"Ёлкин"}),
        ("ФЁДОР ЕЛКИН", {"Ёлкин"}),
        ("ёлкин", {"Ёлкин"}),
        ("john smith", {"Smith"}),
        ("JOHN.SMITH@example.ORG", {"Smith"}),
        ("9001234567", {"Тюрин"}),
        ("+7 (900) 123-45-67", {"Тюрин"}),
        ("8 900 123 45 67", {"Тюрин"}),
        ("79110001122", {"Ёлкин"}),
        ("nobody", set()),
        ("анатолий smith", set()),
    ],
)
def test_client_search(people, query, expected):
    assert found(query) == expected


def test_client_search_special_characters_are_literal(people):
    assert found("%") == set()
    assert found("_") == set()


@pytest.mark.parametrize("query, expected", [("n_p", {"Under"}), ("50%", {"Percent"}), ("k\\s", {"Back\\slash"})])
def test_client_search_finds_like_wildcards_literally(people, query, expected):
    # LIKE's wildcards and escape character in the text itself: the LIKE and PostgreSQL's priced
    # recheck (crm_search_position, migration 0008) must both take them literally.
    ClientFactory(first_name="Иван", last_name="Under", email="ivan_petrov@example.com")
    ClientFactory(first_name="Иван", last_name="Nounder", email="ivanxpetrov@example.com")
    ClientFactory(first_name="Скидка 50%", last_name="Percent", email="percent@example.com")
    ClientFactory(first_name="Скидка 500", last_name="Nopercent", email="nopercent@example.com")
    ClientFactory(first_name="Back", last_name="Back\\slash", email="backslash@example.com")
    ClientFactory(first_name="Back", last_name="Backslash", email="nobackslash@example.com")
    assert found(query) == expected


def test_client_list_status_filter(people):
    people["john"].status = "archived"
    people["john"].save()
    assert "Smith" not in found("")
    assert found("", status="archived") == {"Smith"}
    assert len(found("", status="all")) == 3


def test_client_list_refuses_unknown_status_and_order_by(people):
    with pytest.raises(ValidationError):
        list(client_list(status="deleted"))
    with pytest.raises(ValidationError):
        list(client_list(order_by="password"))
    with pytest.raises(ValidationError):
        list(client_list(order_by="orders__price"))


def test_client_list_ordering(people):
    assert [c.last_name for c in client_list(order_by="email")] == ["Ёлкин", "Smith", "Тюрин"]
    assert [c.last_name for c in client_list(order_by="-id")] == ["Smith", "Ёлкин", "Тюрин"]


def test_order_search_product_description_and_clients(people):
    OrderFactory(client=people["anatoly"], product="Ноутбук ASUS", description="Ёмкий аккумулятор")
    OrderFactory(client=people["fyodor"], product="Мышь", description="")
    assert [o.product for o in order_list(search="НОУТБУК")] == ["Ноутбук ASUS"]
    assert [o.product for o in order_list(search="емкий")] == ["Ноутбук ASUS"]
    assert list(order_list(search="федор")) == []
    assert [o.product for o in order_list(search="федор", search_clients=True)] == ["Мышь"]


def test_order_list_status_and_client_filters(people):
    OrderFactory(client=people["anatoly"], status="Completed")
    OrderFactory(client=people["anatoly"])
    OrderFactory(client=people["fyodor"])
    assert order_list(status="Completed").count() == 1
    assert order_list(status="all").count() == 3
    assert order_list(status="").count() == 3
    assert order_list(client_id=people["anatoly"].pk).count() == 2
    with pytest.raises(ValidationError):
        list(order_list(status="Lost"))
    with pytest.raises(ValidationError):
        list(order_list(order_by="client__email"))


def test_nul_character_in_a_search_counts_as_a_space(people):
    OrderFactory(client=people["anatoly"], product="Ноутбук")
    assert found("\x00") == found("")
    assert found("анатолий\x00тюрин") == {"Тюрин"}
    assert [o.product for o in order_list(search="ноут\x00", search_clients=True)] == ["Ноутбук"]
