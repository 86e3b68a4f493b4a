"""The order and client forms read what a Russian user types: amounts with a decimal comma, phones in any spelling."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Client, Order
from tests.factories import ClientFactory, OrderFactory

pytestmark = pytest.mark.django_db

# The admin speaks Russian.
AMBIGUOUS = "можно понять двояко"
NOT_AN_AMOUNT = "Введите сумму, например 89 990,50"


@pytest.fixture
def buyer(db):
    return ClientFactory(email="buyer@example.com")


def order_form(buyer, price, quantity="2") -> dict:
    return {"client": buyer.pk, "product": "Ноутбук", "quantity": quantity, "price": price, "description": "",
            "status": "Pending"}


@pytest.mark.parametrize("typed, stored", [
    ("89990,50", Decimal("89990.50")),
    ("89 990,50", Decimal("89990.50")),
    ("89\xa0990,50", Decimal("89990.50")),  # as format_money writes it, pasted back
    ("89990.50", Decimal("89990.50")),
    ("89 990.50", Decimal("89990.50")),
    (" 1500 ", Decimal("1500.00")),
    ("0,5", Decimal("0.50")),
    ("0", Decimal("0.00")),
    ("1 000 000", Decimal("1000000.00")),
])
def test_order_form_stores_the_price_as_typed_to_the_kopeck(manager_client, buyer, typed, stored):
    response = manager_client.post(reverse("admin:crm_order_add"), order_form(buyer, typed))

    assert response.status_code == 302, response.context["adminform"].form.errors
    order = Order.objects.get()
    assert order.price == stored and str(order.price) == f"{stored:.2f}"
    assert order.total_price == 2 * stored


@pytest.mark.parametrize("typed, reason", [
    ("1.234,50", NOT_AN_AMOUNT),  # German grouping
    ("1,234.50", NOT_AN_AMOUNT),  # English grouping
    ("1,5,0", NOT_AN_AMOUNT),
    ("89990,50.00", NOT_AN_AMOUNT),
    ("1,234", AMBIGUOUS),  # a thousand, or one and a bit?
    ("12.500", AMBIGUOUS),
    ("12 34", NOT_AN_AMOUNT),  # a space that groups no thousands
    ("1 5 0", NOT_AN_AMOUNT),
    ("1500 руб", NOT_AN_AMOUNT),
    ("1e3", NOT_AN_AMOUNT),
    ("NaN", NOT_AN_AMOUNT),
    ("89990,505", "не более 2 цифр после запятой"),  # unambiguous, but no amount has fractions of a kopeck
    ("-5", "больше либо равно 0"),
])
def test_order_form_refuses_an_ambiguous_or_broken_price_and_saves_nothing(
    manager_client, buyer, typed, reason
):
    response = manager_client.post(reverse("admin:crm_order_add"), order_form(buyer, typed))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert list(form.errors) == ["price"]
    assert reason in form.errors["price"][0]
    assert not Order.objects.exists()
    # The field gives back what was typed, for the user to correct.
    assert f'value="{typed}"' in response.content.decode()


def test_editing_an_order_refuses_a_bad_price_and_keeps_the_stored_one(manager_client, buyer):
    order = OrderFactory(client=buyer, quantity=2, price=Decimal("89990.50"))
    data = {**order_form(buyer, "1.234,50"), "seen_version": order.version}

    response = manager_client.post(reverse("admin:crm_order_change", args=[order.pk]), data)

    assert response.status_code == 200 and "price" in response.context["adminform"].form.errors
    order.refresh_from_db()
    assert order.price == Decimal("89990.50")


def test_the_price_is_a_text_input_with_the_live_total_script(manager_client, buyer):
    order = OrderFactory(client=buyer, quantity=2, price=Decimal("89990.50"))

    html = manager_client.get(reverse("admin:crm_order_change", args=[order.pk])).content.decode()

    # Not type="number": Chromium drops a typed decimal comma there (89990,50 became 8999050).
    assert '<input type="text" name="price" value="89990,50"' in html
    assert 'inputmode="decimal"' in html
    assert '<script src="/static/crm/order_total.js"></script>' in html
    assert 'data-order-total data-quantity-input="id_quantity"' in html
    # The total is written as format_money writes it: "179 981,00 ₽".
    assert 'data-decimal-separator=","' in html and 'data-thousand-separator="\xa0"' in html
    assert 'data-currency-sign="₽"' in html
    assert "Количество × цена:" in html


def test_an_order_saved_back_unchanged_keeps_its_price(manager_client, buyer):
    order = OrderFactory(client=buyer, quantity=3, price=Decimal("1234.56"))
    url = reverse("admin:crm_order_change", args=[order.pk])
    form = manager_client.get(url).context["adminform"].form
    shown = form["price"].value()
    assert form.fields["price"].prepare_value(shown) == "1234,56"

    response = manager_client.post(url, {**order_form(buyer, "1234,56", "3"), "seen_version": order.version})

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.price == Decimal("1234.56") and order.total_price == Decimal("3703.68")


# ---------------------------------------------------------------------------
# Phones
# ---------------------------------------------------------------------------
CLIENT_FORM = {
    "last_name": "Петров", "first_name": "Пётр", "middle_name": "", "email": "petrov@example.com",
    "status": "active",
    "orders-TOTAL_FORMS": "0", "orders-INITIAL_FORMS": "0", "orders-MIN_NUM_FORMS": "0", "orders-MAX_NUM_FORMS": "0",
}


@pytest.mark.parametrize("typed", ["8 900 123-45-67", "+7 (900) 123-45-67", "79001234567", "900 123 45 67",
                                   "8(900)1234567"])
def test_client_form_stores_the_phone_in_one_form(manager_client, typed):
    response = manager_client.post(reverse("admin:crm_client_add"), {**CLIENT_FORM, "mobile_phone": typed})

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Client.objects.get().mobile_phone == "+79001234567"


def test_client_form_shows_a_russian_phone_grouped_and_saves_it_back_unchanged(manager_client):
    client = ClientFactory(mobile_phone="89001234567", email="petrov@example.com")
    url = reverse("admin:crm_client_change", args=[client.pk])

    html = manager_client.get(url).content.decode()
    assert '<input type="tel" name="mobile_phone" value="+7 (900) 123-45-67"' in html

    data = {**CLIENT_FORM, "mobile_phone": "+7 (900) 123-45-67", "seen_version": client.version}
    assert manager_client.post(url, data).status_code == 302
    client.refresh_from_db()
    assert client.mobile_phone == "+79001234567"


def test_client_form_refuses_text_that_is_no_phone(manager_client):
    response = manager_client.post(reverse("admin:crm_client_add"), {**CLIENT_FORM, "mobile_phone": "call me"})

    assert response.status_code == 200
    assert "Введите номер телефона" in response.context["adminform"].form.errors["mobile_phone"][0]
    assert not Client.objects.exists()


def test_client_list_shows_russian_phones_grouped_and_sorts_by_the_stored_phone(manager_client):
    ClientFactory(last_name="Второй", mobile_phone="8 900 222-22-22")
    ClientFactory(last_name="Первый", mobile_phone="+7 (900) 111-11-11")
    ClientFactory(last_name="Лондонский", mobile_phone="+44 20 7946 0958")
    url = reverse("admin:crm_client_changelist")

    response = manager_client.get(url, {"o": "3"})  # the third column: the phone

    html = response.content.decode()
    assert "+7 (900) 111-11-11" in html and "+7 (900) 222-22-22" in html and "+442079460958" in html
    assert [client.last_name for client in response.context["cl"].result_list] == ["Лондонский", "Первый", "Второй"]
