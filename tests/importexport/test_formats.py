"""File formats: Russian Excel's CSV, BOMs, formula escaping in CSV and XLSX."""

import io
import random
import re

import openpyxl
import pytest

from crm.importexport.formats import (
    CsvFormat,
    ImportFileError,
    XlsxFormat,
    escape_csv_cell,
    escape_formula,
    unescape_csv_cell,
    unescape_formula,
)
from crm.models import Client, Order
from crm.importexport.resources import ClientResource, OrderResource
from tests.importexport.conftest import export_bytes, import_bytes

RUSSIAN_EXCEL_CSV = "Фамилия;Имя;Отчество;E-mail;Мобильный телефон;Статус\r\nЁжиков;Пётр;;petr@example.com;+7 900 1234567;Активен\r\n"


@pytest.mark.parametrize(
    "value", ["=1+1", "+79001234567", "-5", "@SUM(A1)", "\tx", "'=x", "'", "''", "'abc", "plain", "", "a=b"]
)
def test_formula_escaping_is_undone_exactly_on_import(value):
    assert unescape_formula(escape_formula(value)) == value


def test_dangerous_cells_are_prefixed_with_an_apostrophe():
    assert [escape_formula(v) for v in ("=1+1", "+7", "-x", "@x", "ok")] == ["'=1+1", "'+7", "'-x", "'@x", "ok"]
    assert escape_formula(5) == 5


def tricky_texts(count=50_000, seed=1):
    alphabet = [",", ";", " ", '"', "=", "+", "-", "@", "\t", "\r", "\n", "'", "a", "ё"]
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(count)]


def test_csv_escaping_round_trips_every_text_and_leaves_no_segment_starting_a_formula():
    for value in tricky_texts():
        escaped = escape_csv_cell(value)
        assert unescape_csv_cell(escaped) == value, (value, escaped)
        # As a reader splitting on `,` `;` tabs or lines, ignoring quotes, would cut it.
        for segment in re.split(r"[,;\t\r\n]", escaped):
            assert segment.lstrip(' "')[:1] not in ("=", "+", "-", "@"), (value, escaped)


def test_csv_escapes_a_formula_after_a_separator():
    assert escape_csv_cell('Товар;=HYPERLINK("http://evil")') == 'Товар;\'=HYPERLINK("http://evil")'
    assert escape_csv_cell("a,=1+1") == "a,'=1+1"
    assert escape_csv_cell("Доставка, этаж 3") == "Доставка, этаж 3"
    assert escape_csv_cell('x; "@y') == 'x; "\'@y'
    assert escape_csv_cell(5) == 5


@pytest.mark.django_db
def test_csv_export_quotes_semicolons_and_escapes_every_segment(sample_data):
    text = export_bytes(OrderResource, "csv").decode("utf-8-sig")

    assert '"\'+1 подарок;\'=HYPERLINK(""http://evil""), ""\'-5%"",\'\'x,\'\t\'@y"' in text
    assert '"Мышь; беспроводная"' in text  # quoted: Russian Excel splits on `;` outside quotes
    assert "'- пункт первый\n'- пункт второй\n''=уже с апострофом" in text


@pytest.mark.django_db
def test_semicolon_separated_cp1251_file_from_russian_excel_imports():
    result = import_bytes(ClientResource, RUSSIAN_EXCEL_CSV.encode("cp1251"))

    assert result.totals["new"] == 1
    client = Client.objects.get()
    assert (client.last_name, client.first_name, client.email) == ("Ёжиков", "Пётр", "petr@example.com")


@pytest.mark.django_db
def test_semicolon_separated_utf8_file_with_bom_imports():
    result = import_bytes(ClientResource, "\ufeff".encode() + RUSSIAN_EXCEL_CSV.encode("utf-8"))

    assert result.totals["new"] == 1
    assert Client.objects.get().last_name == "Ёжиков"


@pytest.mark.django_db
def test_decimal_comma_and_blank_lines_of_excel_keep_line_numbers(sample_data):
    data = "E-mail клиента;Товар;Количество;Цена\r\n;;;\r\nivanov@example.com;Чай;1;1 200,50\r\n;;;\r\nivanov@example.com;Кофе;x;1\r\n"

    result = import_bytes(OrderResource, data.encode("cp1251"), dry_run=True)

    assert [row.number for row in result.invalid_rows] == [5]
    assert result.totals["new"] == 1


def test_text_that_is_neither_utf8_nor_cp1251_is_refused_with_advice_to_save_as_utf8():
    with pytest.raises(ImportFileError, match="Save it as “CSV UTF-8”"):
        CsvFormat().create_dataset(b"\xd0\x98\x98\x98")


def test_a_broken_workbook_is_refused_clearly():
    with pytest.raises(ImportFileError, match="not a valid Excel"):
        XlsxFormat().create_dataset(b"not a zip")


@pytest.mark.django_db
def test_csv_export_escapes_formula_cells(sample_data):
    text = export_bytes(ClientResource, "csv").decode("utf-8")

    assert text.startswith("\ufeffID;Фамилия")  # BOM: Excel reads the file as UTF-8
    assert "'=HYPERLINK(\"\"http://evil\"\")" in text
    assert ";'+79001234567;" in text
    assert "''quoted" in text  # a leading apostrophe is doubled so the import restores it
    orders = export_bytes(OrderResource, "csv").decode("utf-8")
    assert "'@SUM(A1)" in orders and "'- пункт первый" in orders and "'+1 подарок" in orders


@pytest.mark.django_db
def test_xlsx_export_escapes_formula_cells_and_keeps_numbers_and_dates(sample_data):
    book = openpyxl.load_workbook(io.BytesIO(export_bytes(OrderResource, "xlsx")))
    sheet = book.active
    headers = [cell.value for cell in sheet[1]]
    rows = [dict(zip(headers, (cell for cell in row))) for row in sheet.iter_rows(min_row=2)]
    by_product = {row["Товар"].value: row for row in rows}

    formula = by_product["'@SUM(A1)"]["Товар"]
    assert formula.data_type == "s"
    assert all(cell.data_type != "f" for row in rows for cell in row.values())
    laptop = by_product["Ноутбук"]
    assert laptop["Количество"].value == 2 and laptop["Сумма"].value == 3001
    assert laptop["Создан"].is_date and laptop["Создан"].value.hour == 21
    clients = openpyxl.load_workbook(io.BytesIO(export_bytes(ClientResource, "xlsx"))).active
    middle_names = [row[3] for row in clients.iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://evil\")" in middle_names
    assert "None" not in middle_names  # an empty cell stays empty (import-export's escaping wrote "None")


@pytest.mark.django_db
def test_json_export_is_not_escaped(sample_data):
    text = export_bytes(OrderResource, "json").decode("utf-8")

    assert '"Товар": "@SUM(A1)"' in text
    assert Order.objects.count() == 4
