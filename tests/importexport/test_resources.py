"""Importing and exporting clients and orders through the resources (what the admin and commands share)."""

from decimal import Decimal

import pytest

from crm.models import Client, Order
from crm.importexport.resources import ClientResource, OrderResource
from tests.factories import ClientFactory, OrderFactory
from tests.importexport.conftest import at, client_rows, export_bytes, import_bytes, order_rows

pytestmark = pytest.mark.django_db

CLIENT_HEADER = "Фамилия,Имя,Отчество,E-mail,Мобильный телефон,Статус\n"
ORDER_HEADER = "E-mail клиента,Товар,Количество,Цена,Описание,Статус\n"


def problems(result):
    """{line: [reasons]} of an import result's invalid rows."""
    return {
        row.number: [f"{column}: {message}" for column, messages in row.error_dict.items() for message in messages]
        for row in result.invalid_rows
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_round_trip_export_then_import_into_empty_database_gives_identical_data(sample_data, wipe, fmt):
    clients_before, orders_before = client_rows(), order_rows()
    clients_file = export_bytes(ClientResource, fmt)
    orders_file = export_bytes(OrderResource, fmt)
    wipe()
    assert not Client.objects.exists()

    clients_result = import_bytes(ClientResource, clients_file, fmt)
    orders_result = import_bytes(OrderResource, orders_file, fmt)

    assert not clients_result.has_validation_errors() and not clients_result.has_errors()
    assert not orders_result.has_validation_errors() and not orders_result.has_errors()
    assert client_rows() == clients_before
    assert order_rows() == orders_before


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_reimporting_an_export_changes_nothing(sample_data, fmt):
    clients_before, orders_before = client_rows(), order_rows()
    history_before = Client.history.count() + Order.history.count()

    clients = import_bytes(ClientResource, export_bytes(ClientResource, fmt), fmt)
    orders = import_bytes(OrderResource, export_bytes(OrderResource, fmt), fmt)

    assert clients.totals["skip"] == 3 and clients.totals["new"] == clients.totals["update"] == 0
    assert orders.totals["skip"] == 4 and orders.totals["new"] == orders.totals["update"] == 0
    assert client_rows() == clients_before and order_rows() == orders_before
    assert Client.history.count() + Order.history.count() == history_before


def test_reimport_matches_email_in_another_case_and_updates_instead_of_duplicating(sample_data):
    ivanov = sample_data["ivanov"]
    data = CLIENT_HEADER + "Иванов,Иван,Петрович,  IVANOV@Example.COM ,+7 900 000-00-00,В архиве\n"

    result = import_bytes(ClientResource, data, user=None, file_name="update.csv")

    assert result.totals["update"] == 1 and result.totals["new"] == 0
    assert Client.objects.count() == 3
    ivanov.refresh_from_db()
    assert (ivanov.middle_name, ivanov.email, ivanov.status) == ("Петрович", "ivanov@example.com", "archived")
    # search_text was rebuilt although the write was a bulk update.
    assert "петрович" in ivanov.search_text and "79000000000" in ivanov.search_text
    latest = ivanov.history.first()
    assert latest.history_type == "~" and latest.middle_name == "Петрович"
    assert latest.history_change_reason == "Imported from update.csv"


def test_new_clients_are_created_with_history_and_search_text(db):
    data = CLIENT_HEADER + "Ёлкина,Анна,,anna@example.com,8 (900) 111-22-33,\n"

    result = import_bytes(ClientResource, data)

    assert result.totals["new"] == 1
    anna = Client.objects.get(email="anna@example.com")
    assert anna.status == "active"  # an empty status keeps the default
    assert "елкина" in anna.search_text and "89001112233" in anna.search_text
    assert anna.history.get().history_type == "+"


def test_english_field_names_are_accepted_as_headers(db):
    data = "last_name;first_name;EMAIL;mobile_phone;status\nSmith;John;john@example.com;;archived\n"

    result = import_bytes(ClientResource, data)

    assert result.totals["new"] == 1
    assert Client.objects.get().status == "archived"


def test_orders_reference_clients_by_email_or_id_and_total_is_recomputed(sample_data):
    ivanov, plain = sample_data["ivanov"], sample_data["plain"]
    data = (
        "E-mail клиента,ID клиента,Товар,Количество,Цена,Сумма,Статус\n"
        "IVANOV@example.com,,Кабель,3,\"100,50\",1,Завершён\n"
        f",{plain.pk},Сумка,1,2 500,999999,Cancelled\n"
    )

    result = import_bytes(OrderResource, data)

    assert result.totals["new"] == 2, problems(result)
    cable = Order.objects.get(product="Кабель")
    assert (cable.client, cable.quantity, cable.price, cable.total_price, cable.status) == (
        ivanov, 3, Decimal("100.50"), Decimal("301.50"), "Completed",
    )
    bag = Order.objects.get(product="Сумка")
    assert (bag.client, bag.total_price, bag.status) == (plain, Decimal("2500.00"), "Cancelled")
    assert bag.history.get().history_type == "+"


def test_order_id_updates_that_order_but_not_another_clients_order(sample_data):
    order = Order.objects.get(product="Ноутбук")
    data = (
        "ID,E-mail клиента,Товар,Количество,Цена,Статус\n"
        f"{order.pk},ivanov@example.com,Ноутбук Pro,2,1600,В ожидании\n"
    )
    result = import_bytes(OrderResource, data)
    assert result.totals["update"] == 1
    order.refresh_from_db()
    assert (order.product, order.total_price, order.status) == ("Ноутбук Pro", Decimal("3200.00"), "Pending")

    moved = data.replace("ivanov@example.com", "sergey@example.com")
    result = import_bytes(OrderResource, moved)
    assert "belongs to another client" in problems(result)[2][0]


def test_bad_file_lists_every_bad_row_with_line_and_reason_and_writes_nothing(sample_data):
    clients_before, orders_before = client_rows(), order_rows()
    clients_file = (
        CLIENT_HEADER
        + "Новиков,Олег,,oleg@example.com,,\n"  # line 2: fine
        + "Без,Почты,,,,\n"  # line 3: missing e-mail
        + "Дубль,Один,,dup@example.com,,\n"  # line 4: fine
        + "Дубль,Два,,DUP@example.com,,\n"  # line 5: duplicate e-mail within the file
        + "Плохой,Статус,,bad@example.com,,Удалён\n"  # line 6: unknown status
    )
    result = import_bytes(ClientResource, clients_file, dry_run=True)

    found = problems(result)
    assert sorted(found) == [3, 5, 6]
    assert found[3] == ["E-mail: This field cannot be blank."]
    assert found[5] == ["E-mail: The e-mail dup@example.com is already on line 4 of this file."]
    assert "Unknown status “Удалён”" in found[6][0]
    assert (result.totals["new"], result.totals["invalid"]) == (2, 3)

    orders_file = (
        ORDER_HEADER
        + "ivanov@example.com,Чай,1,100,,\n"  # line 2: fine
        + "ivanov@example.com,Кофе,1,сто рублей,,\n"  # line 3: bad price
        + "nobody@example.com,Сахар,1,50,,\n"  # line 4: unknown client
        + "ivanov@example.com,Соль,1,10,,Потерян\n"  # line 5: unknown status
        + "ivanov@example.com,Перец,0,10.555,,\n"  # line 6: quantity < 1, three decimals
    )
    result = import_bytes(OrderResource, orders_file)  # a real run, not a preview: still nothing written

    found = problems(result)
    assert sorted(found) == [3, 4, 5, 6]
    assert found[3] == ["Цена: Enter an amount such as 89 990,50: digits, spaces between thousands if you like, "
                        "and one comma or point before the kopecks."]
    assert found[4] == ["E-mail клиента: No client with e-mail nobody@example.com."]
    assert "Unknown status “Потерян”" in found[5][0]
    assert any(reason.startswith("Количество:") for reason in found[6])
    assert any(reason.startswith("Цена:") for reason in found[6])
    assert client_rows() == clients_before and order_rows() == orders_before


def test_a_failed_import_after_valid_batches_rolls_everything_back(db, monkeypatch):
    monkeypatch.setattr(ClientResource._meta, "batch_size", 10)
    rows = "".join(f"Фамилия{i},Имя,,c{i}@example.com,,\n" for i in range(50))
    data = CLIENT_HEADER + rows + "Плохой,Адрес,,not-an-email,,\n"

    result = import_bytes(ClientResource, data)

    assert [row.number for row in result.invalid_rows] == [52]
    assert not Client.objects.exists() and not Client.history.exists()


def test_a_file_without_the_email_column_is_refused_as_a_whole(db):
    result = import_bytes(ClientResource, "Фамилия,Имя\nИванов,Иван\n")

    assert [str(error.error) for error in result.base_errors] == [
        "The file has no “E-mail” column: clients are matched on their e-mail."
    ]
    assert not Client.objects.exists()


def test_an_unchanged_row_is_counted_and_not_written(sample_data):
    result = import_bytes(
        ClientResource, CLIENT_HEADER + "Иванов,Иван,,ivanov@example.com,+7 (900) 123-45-67,Активен\n"
    )

    assert (result.totals["skip"], result.totals["update"]) == (1, 0)
    assert sample_data["ivanov"].history.count() == 1


@pytest.mark.parametrize("size", [100, 1000])
def test_query_count_of_an_import_does_not_grow_with_the_rows(db, django_assert_max_num_queries, size):
    # Half the rows update existing clients, half are new.
    for i in range(0, size, 2):
        ClientFactory(email=f"c{i}@example.com")
    rows = "".join(f"Фамилия{i},Имя{i},,C{i}@Example.com,,\n" for i in range(size))

    with django_assert_max_num_queries(60):  # the same bound for 100 and 1,000 rows
        result = import_bytes(ClientResource, CLIENT_HEADER + rows)

    assert (result.totals["new"], result.totals["update"]) == (size // 2, size // 2)
    assert Client.history.filter(history_type="~").count() == size // 2


@pytest.mark.parametrize("size", [100, 1000])
def test_query_count_of_an_orders_import_does_not_grow_with_the_rows(db, django_assert_max_num_queries, size):
    clients = [ClientFactory(email=f"c{i}@example.com") for i in range(20)]
    rows = "".join(f"c{i % 20}@example.com,Товар {i},1,{i}.50,,Завершён\n" for i in range(size))

    with django_assert_max_num_queries(40):
        result = import_bytes(OrderResource, ORDER_HEADER + rows)

    assert result.totals["new"] == size
    assert Order.objects.filter(client=clients[0]).count() == size // 20


def test_preview_writes_nothing_and_counts_each_kind(sample_data):
    data = (
        CLIENT_HEADER
        + "Иванов,Иван,,ivanov@example.com,+7 (900) 123-45-67,Активен\n"  # unchanged
        + "Сергеев,Сергей,,SERGEY@example.com,89001112233,Активен\n"  # changed
        + "Новый,Клиент,,new@example.com,,\n"  # new
        + "Плохой,,,,,\n"  # invalid
    )
    result = import_bytes(ClientResource, data, dry_run=True)

    assert {key: result.totals[key] for key in ("new", "update", "skip", "invalid")} == {
        "new": 1, "update": 1, "skip": 1, "invalid": 1,
    }
    assert Client.objects.count() == 3


def test_order_export_has_total_and_russian_status_and_client(sample_data):
    text = export_bytes(OrderResource, "csv", Order.objects.filter(product="Ноутбук")).decode("utf-8-sig")

    header, row = text.splitlines()[:2]
    assert header == "ID;Создан;E-mail клиента;ID клиента;Клиент;Товар;Количество;Цена;Сумма;Описание;Статус"
    assert row.endswith(f";ivanov@example.com;{sample_data['ivanov'].pk};Иванов Иван;Ноутбук;2;1500,50;3001,00;;Завершён")
    assert row.split(";")[1] == "05.03.2024 21:00:00"


def test_existing_order_keeps_its_created_at_to_the_microsecond(sample_data):
    order = OrderFactory(client=sample_data["ivanov"], created_at=at(9).replace(microsecond=123456))
    data = export_bytes(OrderResource, "csv", Order.objects.filter(pk=order.pk)).decode("utf-8-sig")

    result = import_bytes(OrderResource, data.replace("Ноутбук", "Планшет"))

    assert result.totals["update"] == 1
    order.refresh_from_db()
    assert (order.product, order.created_at.microsecond) == ("Планшет", 123456)
