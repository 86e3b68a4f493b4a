"""Imported rows get their history copied by the database (INSERT … SELECT): the same records simple-history's
bulk helpers would write — type, user, reason and every tracked value — for new and changed rows alike."""

import pytest

from crm.importexport.bulk import history_copy_possible
from crm.importexport.resources import ClientResource, OrderResource
from crm.models import Client, Order
from tests.factories import make_user
from tests.importexport.conftest import import_bytes

pytestmark = pytest.mark.django_db

HEADER = "Фамилия,Имя,E-mail,Статус\n"


def tracked(record, names):
    return tuple(getattr(record, name) for name in names)


def test_the_history_of_imported_clients_holds_their_values_user_and_reason():
    assert history_copy_possible(Client) and history_copy_possible(Order)
    importer = make_user("importer")

    import_bytes(ClientResource, HEADER + "Иванов,Иван,a@example.com,Активен\nПетров,Пётр,b@example.com,Активен\n",
                 user=importer, file_name="first.csv")
    import_bytes(ClientResource, HEADER + "Иванов,Иван,a@example.com,В архиве\nПетров,Пётр,b@example.com,Активен\n",
                 user=importer, file_name="second.csv")

    names = ("id", "first_name", "last_name", "middle_name", "mobile_phone", "email", "status", "added_at")
    ivanov = Client.objects.get(email="a@example.com")
    records = list(Client.history.filter(id=ivanov.pk).order_by("history_id"))
    assert [(r.history_type, r.history_user, r.history_change_reason.split()[-1]) for r in records] == [
        ("+", importer, "first.csv"), ("~", importer, "second.csv"),
    ]
    assert tracked(records[-1], names) == tracked(ivanov, names) and records[0].status == "active"
    assert Client.history.filter(email="b@example.com").count() == 1  # unchanged: no new record


def test_the_history_of_imported_orders_names_their_client():
    import_bytes(ClientResource, HEADER + "Иванов,Иван,a@example.com,Активен\n")
    import_bytes(OrderResource, "E-mail клиента,Товар,Количество,Цена\na@example.com,Ноутбук,2,1500.50\n")

    order = Order.objects.get()
    record = Order.history.get()
    assert (record.history_type, record.client_id, record.product, record.quantity, record.price) == (
        "+", order.client_id, "Ноутбук", 2, order.price
    )
    assert record.history_user is None and record.history_date is not None
