"""An orders file imported twice adds nothing the second time: rows without an ID are matched with the orders they
repeat (client, product, creation time, quantity, price)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from crm.models import Order
from tests.factories import ClientFactory, OrderFactory
from tests.importexport.conftest import OrderResource, export_bytes, import_bytes, order_rows

pytestmark = pytest.mark.django_db

HEADER = "Создан;E-mail клиента;Товар;Количество;Цена;Описание;Статус\r\n"
ROWS = (
    "15.01.2024 10:30:00;ivanov@example.com;Ноутбук;1;75000,00;Рабочий ноутбук;Завершён\r\n"
    "16.01.2024 12:00:00;ivanov@example.com;Мышь;2;1500.00;;Завершён\r\n"
    "21.02.2024 09:00:00;petrova@example.com;Монитор;1;32 000,50;Доставка;В ожидании\r\n"
)


@pytest.fixture
def buyers(db):
    return {"ivanov": ClientFactory(email="ivanov@example.com"), "petrova": ClientFactory(email="petrova@example.com")}


def totals(result) -> tuple[int, int, int]:
    """(new, changed, unchanged)"""
    assert not result.has_validation_errors() and not result.has_errors()
    return result.totals["new"], result.totals["update"], result.totals["skip"]


def test_a_file_without_ids_imported_twice_adds_nothing_the_second_time(buyers):
    assert totals(import_bytes(OrderResource, HEADER + ROWS)) == (3, 0, 0)
    before, history = order_rows(), Order.history.count()

    assert totals(import_bytes(OrderResource, HEADER + ROWS)) == (0, 0, 3)
    assert order_rows() == before and Order.history.count() == history


def test_an_export_without_its_ids_re_imported_changes_nothing(sample_data):
    """The export keeps created_at to the second, the database to the microsecond: they still match."""
    OrderFactory(client=sample_data["ivanov"], product="Кабель", created_at=timezone.now())  # microseconds
    exported = export_bytes(OrderResource, "csv").decode("utf-8-sig")
    without_ids = "\r\n".join(line.split(";", 1)[1] for line in exported.split("\r\n") if line) + "\r\n"
    assert without_ids.startswith("Создан;")
    before, history = order_rows(), Order.history.count()

    result = import_bytes(OrderResource, without_ids)

    assert totals(result) == (0, 0, 5)
    assert order_rows() == before and Order.history.count() == history


def test_a_repeated_row_with_another_description_or_status_changes_the_order(buyers):
    import_bytes(OrderResource, HEADER + ROWS)
    edited = ROWS.replace("Рабочий ноутбук;Завершён", "Ноутбук директора;Отменён")

    assert totals(import_bytes(OrderResource, HEADER + edited)) == (0, 1, 2)

    laptop = Order.objects.get(product="Ноутбук")
    assert (laptop.description, laptop.status, Order.objects.count()) == ("Ноутбук директора", "Cancelled", 3)


@pytest.mark.parametrize("changed", [
    ("ivanov@example.com;Ноутбук", "petrova@example.com;Ноутбук"),  # another client
    ("Ноутбук;1", "Ноутбук Pro;1"),  # another product
    ("15.01.2024 10:30:00", "15.01.2024 10:30:01"),  # another second
    ("Ноутбук;1;75000,00", "Ноутбук;2;75000,00"),  # another quantity
    ("75000,00", "75000,01"),  # another price
])
def test_a_row_differing_in_a_matched_value_is_a_new_order(buyers, changed):
    import_bytes(OrderResource, HEADER + ROWS)

    assert totals(import_bytes(OrderResource, HEADER + ROWS.replace(*changed))) == (1, 0, 2)
    assert Order.objects.count() == 4


def test_the_same_values_in_another_spelling_match(buyers):
    import_bytes(OrderResource, HEADER + ROWS)
    # An ISO date, the client by ID, the amount with a point and spaces, the quantity as 1.0, the product padded.
    row = f"2024-01-15 10:30;{buyers['ivanov'].pk}; Ноутбук ;1,0;75 000.00;Рабочий ноутбук;Completed\r\n"

    result = import_bytes(OrderResource, "Создан;ID клиента;Товар;Количество;Цена;Описание;Статус\r\n" + row)

    assert totals(result) == (0, 0, 1)


def test_identical_rows_take_identical_orders_one_each(buyers):
    row = "16.01.2024 12:00:00;ivanov@example.com;Мышь;2;1500,00;;Завершён\r\n"
    assert totals(import_bytes(OrderResource, HEADER + row * 2)) == (2, 0, 0)

    assert totals(import_bytes(OrderResource, HEADER + row * 2)) == (0, 0, 2)
    assert totals(import_bytes(OrderResource, HEADER + row * 3)) == (1, 0, 2)
    assert Order.objects.count() == 3


def test_an_order_the_file_names_by_id_is_not_matched_again_by_a_row_without_id(buyers):
    order = OrderFactory(client=buyers["ivanov"], product="Мышь", quantity=2, price=Decimal("1500.00"),
                         created_at=timezone.make_aware(dt.datetime(2024, 1, 16, 12)), status="Completed")
    data = ("ID;Создан;E-mail клиента;Товар;Количество;Цена;Описание;Статус\r\n"
            f"{order.pk};16.01.2024 12:00:00;ivanov@example.com;Мышь;2;1500,00;;Завершён\r\n"
            ";16.01.2024 12:00:00;ivanov@example.com;Мышь;2;1500,00;;Завершён\r\n")

    assert totals(import_bytes(OrderResource, data)) == (1, 0, 1)


def test_rows_without_a_date_cannot_match_and_the_import_says_so(buyers):
    undated = "E-mail клиента;Товар;Количество;Цена\r\nivanov@example.com;Чай;1;10\r\nivanov@example.com;Кофе;1;20\r\n"
    import_bytes(OrderResource, undated)

    result = import_bytes(OrderResource, undated)

    assert totals(result) == (2, 0, 0)
    assert result.notes == [
        "2 rows have neither an ID nor a “Создан” date, so they cannot be matched with orders already in the CRM "
        "and are added as new ones (lines 2, 3)."
    ]
    assert import_bytes(OrderResource, HEADER + ROWS).notes == []


def test_the_command_and_the_admin_preview_say_which_rows_exist_and_which_cannot_match(client, manager, buyers,
                                                                                       tmp_path):
    from tests.importexport.test_admin import page_messages, upload

    data = HEADER + ROWS + ";ivanov@example.com;Чай;1;10;;\r\n"
    path = tmp_path / "orders.csv"
    path.write_text(data, encoding="utf-8")
    out = io.StringIO()
    call_command("import_orders", str(path), "--no-progress", stdout=out, stderr=io.StringIO())
    assert "1 row has neither an ID nor a “Создан” date" in out.getvalue()
    client.force_login(manager)

    preview = upload(client, "admin:crm_order_import", data.encode(), "orders.csv")

    message = page_messages(preview)[0]
    assert "Предпросмотр, строк: 4; новых: 1, изменённых: 0, без изменений: 3, с ошибками: 0." in message
    assert "1 строка без ID и без даты «Создан» не может быть сопоставлена" in message
    # The preview shows the number of the order each repeated row is.
    rows = preview.context["result"].valid_rows()
    existing = {order.product: order.pk for order in Order.objects.all()}
    assert [(row.import_type, row.diff[0]) for row in rows[:3]] == [
        ("skip", str(existing["Ноутбук"])), ("skip", str(existing["Мышь"])), ("skip", str(existing["Монитор"])),
    ]
    assert rows[3].import_type == "new" and rows[3].diff[0] == ""
    assert Order.objects.count() == 4


@pytest.mark.parametrize("size", [100, 1000])
def test_matching_costs_a_query_per_chunk_not_per_row(buyers, django_assert_max_num_queries, size):
    start = timezone.make_aware(dt.datetime(2024, 3, 1))
    for i in range(0, size, 2):  # every other row repeats an order
        OrderFactory(client=buyers["ivanov"], product=f"Товар {i}", quantity=1, price=Decimal(f"{i}.50"),
                     created_at=start + dt.timedelta(minutes=i), status="Completed")
    rows = "".join(
        f"{timezone.localtime(start + dt.timedelta(minutes=i)):%d.%m.%Y %H:%M:%S};ivanov@example.com;Товар {i};1;"
        f"{i},50;;Завершён\r\n"
        for i in range(size)
    )

    with django_assert_max_num_queries(40):  # the same bound for 100 and 1,000 rows
        result = import_bytes(OrderResource, HEADER + rows)

    assert totals(result) == (size // 2, 0, size // 2)


def test_the_admin_import_of_a_file_twice_writes_nothing_the_second_time(client, manager, buyers):
    from tests.importexport.test_admin import upload

    client.force_login(manager)
    for expected_new in (3, 0):
        preview = upload(client, "admin:crm_order_import", (HEADER + ROWS).encode(), "orders.csv")
        done = client.post(reverse("admin:crm_order_process_import"), preview.context["confirm_form"].initial)
        assert done.status_code == 302
        assert Order.objects.count() == 3
        assert preview.context["result"].totals["new"] == expected_new


def test_matching_reads_the_created_at_index_not_the_whole_table(buyers):
    from django.db import connection

    from crm.importexport.resources import MOMENTS_PER_QUERY, orders_created_within_seconds

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's planner: PostgreSQL ORs the index ranges in a bitmap")
    start = timezone.make_aware(dt.datetime(2024, 3, 1))
    moments = [start + dt.timedelta(minutes=i) for i in range(MOMENTS_PER_QUERY)]
    sql, params = orders_created_within_seconds(moments).query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = [row[-1] for row in cursor.fetchall()]

    assert plan[0] == "MULTI-INDEX OR"
    assert not any(step.startswith("SCAN") for step in plan)
