"""CSV exports open in Russian Excel as columns of numbers, under a name in the user's language and local date."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from crm.models import Client, Order
from tests.config.test_settings import run_settings
from tests.importexport.conftest import client_rows, order_rows

pytestmark = pytest.mark.django_db

CSV, XLSX, JSON = "0", "1", "2"  # the formats' positions in the admin's select


def export(client, url_name, fmt=CSV, **headers):
    # Every client, archived ones too (the client list shows active clients unless told otherwise).
    query = "?status__exact=all" if url_name == "admin:crm_client_export" else ""
    response = client.post(reverse(url_name) + query, {"resource": "0", "format": fmt}, **headers)
    assert response.status_code == 200
    return response


def csv_text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8, not the system code page
    return body.decode("utf-8-sig")


def test_admin_csv_export_is_semicolon_separated_with_decimal_commas(client, manager, sample_data):
    client.force_login(manager)

    text = csv_text(export(client, "admin:crm_order_export"))

    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    laptop = next(row for row in rows if row["Товар"] == "Ноутбук")
    assert (laptop["Количество"], laptop["Цена"], laptop["Сумма"]) == ("2", "1500,50", "3001,00")
    assert laptop["Создан"] == "05.03.2024 21:00:00"
    # A cell holding the separator stays one cell: quoted.
    assert '"Мышь; беспроводная"' in text and {row["Товар"] for row in rows} >= {"Мышь; беспроводная"}
    assert all(len(row) == 11 and None not in row for row in rows)


def test_an_admin_csv_export_imported_back_through_the_admin_changes_nothing(client, manager, sample_data):
    from tests.importexport.test_admin import page_messages, upload

    client.force_login(manager)
    clients_before, orders_before = client_rows(), order_rows()
    for model, name in (("client", "клиенты.csv"), ("order", "заказы.csv")):
        content = b"".join(export(client, f"admin:crm_{model}_export").streaming_content)

        preview = upload(client, f"admin:crm_{model}_import", content, name)

        count = 3 if model == "client" else 4
        assert (f"Предпросмотр, строк: {count}; новых: 0, изменённых: 0, без изменений: {count}, с ошибками: 0."
                in page_messages(preview)[0])
    assert client_rows() == clients_before and order_rows() == orders_before


@pytest.mark.parametrize("url_name, fmt, language, name", [
    ("admin:crm_order_export", CSV, "ru", "заказы-2026-11-30.csv"),
    ("admin:crm_client_export", CSV, "ru", "клиенты-2026-11-30.csv"),
    ("admin:crm_order_export", XLSX, "ru", "заказы-2026-11-30.xlsx"),
    ("admin:crm_client_export", JSON, "ru", "клиенты-2026-11-30.json"),
    ("admin:crm_order_export", CSV, "en", "orders-2026-11-30.csv"),
])
def test_export_file_is_named_in_the_users_language_with_the_local_date(
    client, superuser, monkeypatch, url_name, fmt, language, name
):
    from urllib.parse import quote

    # 23:30 UTC on the 29th is 02:30 on the 30th in Moscow (TIME_ZONE), where the staff are.
    monkeypatch.setattr("django.utils.timezone.now", lambda: dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.UTC))
    client.force_login(superuser)
    client.cookies["django_language"] = language

    response = export(client, url_name, fmt, HTTP_ACCEPT_LANGUAGE=language)

    disposition = response["Content-Disposition"]
    if name.isascii():
        assert disposition == f'attachment; filename="{name}"'
    else:
        # RFC 6266: every browser decodes filename*=, none the MIME-encoded form a plain filename="…" gets.
        assert disposition == f"attachment; filename*=utf-8''{quote(name)}"


def test_export_command_writes_the_same_csv(sample_data, tmp_path):
    path = tmp_path / "orders.csv"

    call_command("export_orders", "-o", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    text = path.read_bytes().decode("utf-8-sig")
    assert text.startswith("ID;Создан;")
    assert ";Ноутбук;2;1500,50;3001,00;;Завершён\r\n" in text


def test_a_comma_separated_export_can_be_configured_and_still_imports(client, manager, sample_data, settings, wipe):
    from tests.importexport.test_admin import upload

    settings.EXPORT_CSV_DELIMITER = ","
    client.force_login(manager)
    clients_before, orders_before = client_rows(), order_rows()
    clients_file = b"".join(export(client, "admin:crm_client_export").streaming_content)
    orders_file = b"".join(export(client, "admin:crm_order_export").streaming_content)
    text = orders_file.decode("utf-8-sig")
    assert text.startswith("ID,Создан,")
    assert ",Ноутбук,2,1500.50,3001.00,,Завершён\r\n" in text  # decimal points beside commas
    assert '"Мышь; беспроводная"' in text  # quoted all the same, for Russian Excel
    wipe()

    for model, content in (("client", clients_file), ("order", orders_file)):
        preview = upload(client, f"admin:crm_{model}_import", content, f"{model}.csv")
        confirmed = client.post(reverse(f"admin:crm_{model}_process_import"), preview.context["confirm_form"].initial)
        assert confirmed.status_code == 302

    assert client_rows() == clients_before and order_rows() == orders_before


def test_the_importer_reads_decimal_commas_and_points_alike(sample_data):
    from tests.importexport.conftest import OrderResource, import_bytes

    data = ("E-mail клиента;Товар;Количество;Цена\r\n"
            "ivanov@example.com;Чай;1;1 200,50\r\nivanov@example.com;Кофе;2;1200.50\r\n")

    result = import_bytes(OrderResource, data)

    assert result.totals["new"] == 2
    assert set(Order.objects.filter(product__in=["Чай", "Кофе"]).values_list("price", flat=True)) == {
        Decimal("1200.50")}


def test_an_unknown_csv_delimiter_is_refused_at_start():
    result = run_settings({"DJANGO_DEBUG": "1", "EXPORT_CSV_DELIMITER": "|"},
                          "import django; django.setup()")

    assert result.returncode != 0 and "EXPORT_CSV_DELIMITER" in result.stderr


def test_clients_export_writes_phones_in_their_stored_form(client, manager, sample_data):
    client.force_login(manager)

    rows = list(csv.DictReader(io.StringIO(csv_text(export(client, "admin:crm_client_export")), newline=""),
                               delimiter=";"))

    # Escaped: a spreadsheet would run +7… as a formula; the import takes the apostrophe off again.
    assert {row["Мобильный телефон"] for row in rows} == {"'+79001234567", "", "'+79001112233"}
    assert Client.objects.count() == 3
