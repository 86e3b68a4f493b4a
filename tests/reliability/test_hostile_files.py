"""Hostile files: zip bombs, oversize and endless files, forged import confirmations, control characters,
dates out of range. Each is refused with a clear message (or handled), quickly, and never as a 500."""

import io
import json
import os
import re
import struct
import tempfile
import time
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from crm.importexport.formats import CsvFormat, ImportFileError, JsonFormat, XlsxFormat
from crm.importexport.uploads import sweep_uploads
from crm.models import Client, Order
from tests.api.conftest import Api, assert_error
from tests.factories import ClientFactory, OrderFactory, make_user

pytestmark = pytest.mark.django_db

CSV, XLSX, JSON = "0", "1", "2"  # the formats' positions in the admin's select
CLIENTS_CSV = "Фамилия,Имя,E-mail\nИванов,Иван,ivanov@example.com\n"
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
HEADER_ROW = b'<row r="1"><c r="A1" t="inlineStr"><is><t>E-mail</t></is></c></row>'


@pytest.fixture(autouse=True)
def english_and_own_upload_dir(settings, tmp_path, client):
    """Messages asserted in English (the admin's pages too); uploads in a directory of this test's own."""
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "uploads")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def workbook_with_sheet(write_sheet, level=9) -> bytes:
    """A genuine workbook whose first sheet's XML is written by write_sheet(stream), piece by piece."""
    template = io.BytesIO()
    openpyxl.Workbook().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as book:
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with book.open(item.filename, "w", force_zip64=True) as sheet:
                    write_sheet(sheet)
            else:
                book.writestr(item.filename, source.read(item.filename))
    return out.getvalue()


def sheet_of(rows_xml: bytes, head: bytes = b"") -> bytes:
    return workbook_with_sheet(
        lambda sheet: sheet.write(SHEET_HEAD + head + b"<sheetData>" + rows_xml + b"</sheetData></worksheet>")
    )


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """300 KB that unpacks to 200 MB: a header, then 33 million empty rows."""

    def write(sheet):
        sheet.write(SHEET_HEAD + b"<sheetData>" + HEADER_ROW)
        piece = b"<row/>" * (1 << 20)
        for _ in range(32):
            sheet.write(piece)
        sheet.write(b"</sheetData></worksheet>")

    return workbook_with_sheet(write)


def upload(client, url_name, content: bytes, name="clients.csv", fmt=CSV):
    return client.post(reverse(url_name), {"resource": "0", "format": fmt, "import_file": SimpleUploadedFile(name, content)})


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def run_import(*args):
    call_command(*args, "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())


def uploads_stored(settings) -> list[str]:
    directory = settings.IMPORT_UPLOAD_DIR
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


# ---------------------------------------------------------------------------
# 1. Size, rows, columns, zip bombs
# ---------------------------------------------------------------------------
def test_zip_bomb_workbook_is_refused_at_once_without_unpacking_it(zip_bomb):
    assert len(zip_bomb) < 400_000

    started = time.monotonic()
    with pytest.raises(ImportFileError, match="zip bomb"):
        XlsxFormat().create_dataset(zip_bomb)

    assert time.monotonic() - started < 2


def test_zip_bomb_in_the_admin_is_an_error_next_to_the_file_field(client, manager, zip_bomb, settings):
    client.force_login(manager)

    started = time.monotonic()
    response = upload(client, "admin:crm_client_import", zip_bomb, "bomb.xlsx", XLSX)

    assert time.monotonic() - started < 2
    assert response.status_code == 200
    assert "zip bomb" in " ".join(response.context["form"].errors["import_file"])
    assert not response.context.get("confirm_form")
    assert uploads_stored(settings) == []  # a refused upload is never kept


def test_zip_bomb_through_the_import_command_is_a_clear_command_error(zip_bomb, tmp_path):
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(zip_bomb)

    started = time.monotonic()
    with pytest.raises(CommandError, match="zip bomb"):
        run_import("import_clients", str(path))

    assert time.monotonic() - started < 2


def test_workbook_of_a_million_blank_rows_is_refused_at_the_row_limit():
    # Numbered rows pack only about 7 to 1: it is the row count, not the packing, that refuses this one.
    rows = b"".join(b'<row r="%d"/>' % line for line in range(2, 1_000_002))
    data = sheet_of(HEADER_ROW + rows)

    started = time.monotonic()
    with pytest.raises(ImportFileError, match="more than 250000 rows"):
        XlsxFormat().create_dataset(data)

    assert time.monotonic() - started < 2


def test_csv_of_ten_million_blank_lines_is_refused_quickly(tmp_path):
    data = CLIENTS_CSV.encode() + b"\n" * 10_000_000
    path = tmp_path / "blank.csv"
    path.write_bytes(data)

    started = time.monotonic()
    with pytest.raises(ImportFileError, match="blank rows count too"):
        CsvFormat().create_dataset(data)
    with pytest.raises(CommandError, match="more than 250000 rows"):
        run_import("import_clients", str(path))

    assert time.monotonic() - started < 4


def test_rows_are_limited_by_the_setting_blank_or_not(settings):
    settings.IMPORT_MAX_ROWS = 3

    assert len(CsvFormat().create_dataset((CLIENTS_CSV + "\n\n").encode())) == 1
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        CsvFormat().create_dataset((CLIENTS_CSV + "\n\n\n").encode())
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        JsonFormat().create_dataset(json.dumps([{"E-mail": f"{n}@example.com"} for n in range(4)]).encode())
    xlsx_rows = b"".join(b'<row r="%d"/>' % line for line in range(2, 6))
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        XlsxFormat().create_dataset(sheet_of(HEADER_ROW + xlsx_rows))


def test_a_sheet_row_numbered_past_the_limit_is_refused_without_counting_up_to_it():
    far = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x@example.com</t></is></c></row>'

    with pytest.raises(ImportFileError, match="more than 250000 rows"):
        XlsxFormat().create_dataset(sheet_of(HEADER_ROW + far))


def test_a_sheet_whose_declared_dimension_lies_is_read_by_its_rows_only():
    # openpyxl's iter_rows() trusts A1:XFD1048576: it pads every row, and every missing row between
    # line 2 and line 100,000, to 16,384 cells.
    rows = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%d@example.com</t></is></c></row>' % (n, n, n)
        for n in (2, 100_000)
    )
    data = sheet_of(HEADER_ROW + rows, head=b'<dimension ref="A1:XFD1048576"/>')

    started = time.monotonic()
    dataset = XlsxFormat().create_dataset(data)

    assert time.monotonic() - started < 1
    assert dataset.headers == ["E-mail"] and list(dataset) == [("2@example.com",), ("100000@example.com",)]
    assert dataset.line_numbers == [2, 100_000]


def test_a_value_far_right_is_refused_and_empty_cells_there_are_ignored():
    value_in_xfd = b'<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    empty_in_xfd = b'<row r="2"><c r="A2" t="inlineStr"><is><t>a@example.com</t></is></c><c r="XFD2" s="1"/></row>'

    with pytest.raises(ImportFileError, match="Line 2 has a value in column 16384; a file may have at most 50 columns"):
        XlsxFormat().create_dataset(sheet_of(HEADER_ROW + value_in_xfd))
    assert list(XlsxFormat().create_dataset(sheet_of(HEADER_ROW + empty_in_xfd))) == [("a@example.com",)]


def test_too_many_columns_in_csv_and_json_are_refused_but_trailing_separators_are_not():
    with pytest.raises(ImportFileError, match="Line 1 has a value in column 51"):
        CsvFormat().create_dataset((",".join(f"c{n}" for n in range(60)) + "\n1\n").encode())
    with pytest.raises(ImportFileError, match="Line 3 has a value in column 55"):
        CsvFormat().create_dataset(("E-mail\na@example.com\n" + "," * 54 + "x\n").encode())
    with pytest.raises(ImportFileError, match="at most 50 columns"):
        JsonFormat().create_dataset(json.dumps([{f"c{n}": 1 for n in range(51)}]).encode())
    # Excel leaves `;` for every formatted column; empty cells right of the limit are only that.
    dataset = CsvFormat().create_dataset(("E-mail" + ";" * 80 + "\r\na@example.com" + ";" * 80 + "\r\n").encode())
    assert list(dataset) == [("a@example.com",)]


def test_a_line_of_millions_of_separators_is_refused_before_parsing(settings):
    settings.IMPORT_MAX_ROWS = 100_000  # a cap of 5,000,050 cells with the 50 columns
    started = time.monotonic()
    with pytest.raises(ImportFileError, match="more than 5000050 cells"):
        CsvFormat().create_dataset(b"E-mail\n" + b"," * 10_000_000)
    with pytest.raises(ImportFileError, match="cells"):
        JsonFormat().create_dataset(b"[" + b"{}," * 6_000_000 + b"{}]")

    assert time.monotonic() - started < 3


def test_deeply_nested_json_is_invalid_json_not_a_crash():
    with pytest.raises(ImportFileError, match="not valid JSON"):
        JsonFormat().create_dataset(b"[" * 200_000 + b"]" * 200_000)


def test_an_oversize_file_is_refused_by_the_admin_and_the_commands_before_reading(client, manager, settings, tmp_path):
    settings.IMPORT_MAX_FILE_MB = 1
    data = CLIENTS_CSV.encode() + b"\n" * (1024 * 1024)
    client.force_login(manager)

    response = upload(client, "admin:crm_client_import", data)

    assert response.status_code == 200
    assert response.context["form"].errors["import_file"] == [
        "The file is 1 MB; at most 1 MB can be imported. Split it into smaller files."
    ]
    path = tmp_path / "big.csv"
    path.write_bytes(data + b"\n" * 100_000)
    with pytest.raises(CommandError, match="The file is 1.1 MB; at most 1 MB"):
        run_import("import_clients", str(path))
    with pytest.raises(ImportFileError, match="at most 1 MB"):
        JsonFormat().create_dataset(b" " * (1024 * 1024 + 1))
    assert not Client.objects.exists()


def test_workbook_unpacking_past_the_limit_is_refused(settings):
    settings.IMPORT_MAX_UNPACKED_MB = 1
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n * 7919) for n in range(2, 60_000))

    with pytest.raises(ImportFileError, match=r"The workbook unpacks to \d\.\d MB; at most 1 MB"):
        XlsxFormat().create_dataset(sheet_of(HEADER_ROW + rows))


def test_a_zip_part_lying_about_its_size_is_read_no_further_than_it_says():
    data = bytearray(workbook_with_sheet(lambda sheet: sheet.write(SHEET_HEAD + b"<sheetData>" + HEADER_ROW + b"<row/>" * 5_000_000)))
    # The central directory's entry of the sheet: declare 1,000 bytes instead of 30 MB (no zip64 extra here).
    entry = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02"))
    while data[entry + 46 : entry + 46 + 24] != b"xl/worksheets/sheet1.xml":
        entry = data.find(b"PK\x01\x02", entry + 4)
    if data[entry + 24 : entry + 28] == b"\xff\xff\xff\xff":
        pytest.skip("zip64 sizes")
    data[entry + 24 : entry + 28] = (1000).to_bytes(4, "little")

    started = time.monotonic()
    with pytest.raises(ImportFileError, match="not a valid Excel"):
        XlsxFormat().create_dataset(bytes(data))

    assert time.monotonic() - started < 2


def zip_of_empty_parts(count: int) -> bytes:
    """A zip of `count` empty parts, written by hand (zipfile takes seconds to write as many)."""
    local, central, offset = [], [], 0
    for number in range(count):
        name = b"x/%d.xml" % number
        header = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0x21, 0, 0, 0, len(name), 0) + name
        central.append(
            struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, 0, 0, 0x21, 0, 0, 0, len(name), 0, 0, 0, 0, 0,
                        offset) + name
        )
        local.append(header)
        offset += len(header)
    directory = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), len(directory), offset, 0)
    return b"".join(local) + directory + end


def test_a_zip_of_countless_parts_is_refused_before_its_directory_is_read():
    data = zip_of_empty_parts(150_000)  # 15 MB; zipfile alone would take seconds to list it

    started = time.monotonic()
    with pytest.raises(ImportFileError, match="not a valid Excel"):
        XlsxFormat().create_dataset(data)

    assert time.monotonic() - started < 1


# ---------------------------------------------------------------------------
# 2-3. The confirmation reaches only the upload of the user who previewed it
# ---------------------------------------------------------------------------
def preview(client, url_name="admin:crm_client_import", content=CLIENTS_CSV.encode()) -> dict:
    response = upload(client, url_name, content)
    assert response.status_code == 200
    return dict(response.context["confirm_form"].initial)


def confirm(client, data, url_name="admin:crm_client_process_import"):
    response = client.post(reverse(url_name), data, follow=True)
    assert response.status_code == 200
    return response


def test_preview_stores_the_upload_under_a_random_name_and_confirm_removes_it(client, manager, settings):
    client.force_login(manager)
    initial = preview(client)

    stored = uploads_stored(settings)
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}\.upload", stored[0])
    assert stored[0].split(".")[0] not in initial["import_file_name"]  # the name only inside the signed token

    done = confirm(client, initial)

    assert "Import finished" in " ".join(page_messages(done))
    assert Client.objects.filter(email="ivanov@example.com").exists()
    assert uploads_stored(settings) == []


def test_forged_confirm_cannot_import_another_file_of_the_temp_directory(client, manager):
    client.force_login(manager)
    victim = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8")
    victim.write(CLIENTS_CSV)
    victim.close()
    try:
        forged = {"import_file_name": os.path.basename(victim.name), "original_file_name": "x.csv", "format": CSV,
                  "resource": "0"}

        done = confirm(client, forged)

        assert "This import confirmation is not valid; upload the file again." in page_messages(done)
        assert os.path.exists(victim.name)  # neither imported nor deleted
        assert not Client.objects.exists()
    finally:
        os.unlink(victim.name)


@pytest.mark.parametrize(
    "change",
    [
        {"import_file_name": "../../etc/passwd"},
        {"import_file_name": "/etc/passwd"},
        {"import_file_name": ""},
        {"format": "99"},
        {"format": "abc"},
        {"format": XLSX},
        {"resource": "5"},
        {"original_file_name": ""},
    ],
    ids=["traversal", "absolute", "empty-name", "unknown-format", "format-not-a-number", "other-format",
         "unknown-resource", "no-original-name"],
)
def test_tampered_confirm_is_a_clear_message_and_imports_nothing(client, manager, settings, change):
    client.force_login(manager)
    initial = preview(client)

    done = confirm(client, {**initial, **change})

    assert "This import confirmation is not valid; upload the file again." in page_messages(done)
    assert not Client.objects.exists()
    assert len(uploads_stored(settings)) == 1  # the genuine upload is still there for a genuine confirm
    confirm(client, initial)
    assert Client.objects.count() == 1


def test_another_users_confirmation_is_refused(client, manager, settings):
    client.force_login(manager)
    initial = preview(client)
    client.force_login(make_user("other", group="Managers"))

    done = confirm(client, initial)

    assert "This import confirmation is not valid; upload the file again." in page_messages(done)
    assert not Client.objects.exists() and len(uploads_stored(settings)) == 1


def test_a_confirmation_for_one_admin_is_refused_by_another(client, manager):
    client.force_login(manager)
    initial = preview(client)

    done = confirm(client, initial, "admin:crm_order_process_import")

    assert "This import confirmation is not valid; upload the file again." in page_messages(done)
    assert not Client.objects.exists() and not Order.objects.exists()


def test_a_replayed_confirmation_finds_the_upload_gone(client, manager):
    client.force_login(manager)
    initial = preview(client)
    confirm(client, initial)
    Client.objects.all().delete()

    done = confirm(client, initial)

    assert "The uploaded file is no longer available (already imported, or expired); upload it again." in page_messages(done)
    assert not Client.objects.exists()


def test_an_expired_or_missing_upload_is_a_clear_message(client, manager, settings):
    client.force_login(manager)
    initial = preview(client)
    for name in uploads_stored(settings):
        os.unlink(os.path.join(settings.IMPORT_UPLOAD_DIR, name))

    assert "The uploaded file is no longer available (already imported, or expired); upload it again." in page_messages(
        confirm(client, initial)
    )

    initial = preview(client)
    settings.IMPORT_UPLOAD_MAX_AGE_MINUTES = 0
    time.sleep(1.1)  # signatures carry whole seconds
    assert "The uploaded file has expired; upload it again." in page_messages(confirm(client, initial))
    assert not Client.objects.exists()


def test_a_confirmation_without_any_fields_is_not_a_500(client, manager):
    client.force_login(manager)

    done = confirm(client, {})

    assert "This import confirmation is not valid; upload the file again." in page_messages(done)


def test_refused_previews_store_nothing_and_abandoned_uploads_are_swept_by_a_later_import(client, manager, settings):
    client.force_login(manager)
    upload(client, "admin:crm_client_import", b"\xff\xfe\x00garbage", "bad.xlsx", XLSX)
    upload(client, "admin:crm_client_import", "Фамилия,Имя,E-mail\nИванов,,bad\n".encode())
    assert uploads_stored(settings) == []

    preview(client)
    abandoned = uploads_stored(settings)[0]
    two_hours_ago = time.time() - 2 * 3600
    os.utime(os.path.join(settings.IMPORT_UPLOAD_DIR, abandoned), (two_hours_ago, two_hours_ago))
    foreign = os.path.join(settings.IMPORT_UPLOAD_DIR, "not-ours.txt")
    open(foreign, "w").close()
    os.utime(foreign, (two_hours_ago, two_hours_ago))

    preview(client)  # a later import sweeps what is older than IMPORT_UPLOAD_MAX_AGE_MINUTES

    stored = uploads_stored(settings)
    assert abandoned not in stored and len(stored) == 2 and "not-ours.txt" in stored
    assert sweep_uploads() == 0


# ---------------------------------------------------------------------------
# 4. Dates the database cannot convert are refused in the preview already
# ---------------------------------------------------------------------------
def test_year_one_is_refused_by_the_preview_as_by_the_confirm(client, manager, tmp_path):
    client.force_login(manager)
    content = "Фамилия,Имя,E-mail,Добавлен\nИванов,Иван,a@example.com,0001-01-01 00:00\n".encode()

    response = upload(client, "admin:crm_client_import", content)

    assert not response.context.get("confirm_form")
    (row,) = response.context["result"].invalid_rows
    assert row.number == 2 and row.error_dict == {"Добавлен": ["Enter a date between 01.01.1900 and 31.12.2100."]}
    path = tmp_path / "year1.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError):
        run_import("import_clients", str(path), "--dry-run")
    assert not Client.objects.exists()


# ---------------------------------------------------------------------------
# 5. Control characters: refused on every path, and stored ones do not break exports
# ---------------------------------------------------------------------------
CONTROL_CHARACTERS = ["\x01", "\x0b", "\x1b", "\x7f", "\x85", "\u202e", "\u2066", "\u2069", "\u200b", "\ufeff", "\ud800",
                      "\U000e0041"]
CLIENT = {"first_name": "Иван", "last_name": "Иванов", "email": "new@example.com", "middle_name": "",
          "mobile_phone": "+79001234567"}


@pytest.mark.parametrize("character", CONTROL_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", ["first_name", "last_name", "middle_name", "mobile_phone"])
def test_api_refuses_control_characters_naming_the_field(manager, field, character):
    body = {**CLIENT, field: "Ив" + character + "ан" if field != "mobile_phone" else "+7900" + character + "1234567"}

    response = Api(manager).post("/api/clients/add/", body, HTTP_ACCEPT_LANGUAGE="en")

    errors = " ".join(assert_error(response, 400, field)["errors"][field])
    if "\ud800" <= character <= "\udfff":
        # A lone surrogate cannot even be decoded as text: the API's JSON parser refuses it, naming the field.
        assert "surrogate" in errors
    else:
        assert f"Remove the control or invisible character U+{ord(character):04X}" in errors
    assert not Client.objects.exists()


def test_api_order_description_keeps_line_breaks_and_tabs_but_not_escapes(manager):
    client = ClientFactory()
    api = Api(manager)
    order = {"client": client.pk, "product": "Ноутбук", "quantity": "1", "price": "10.00"}

    assert api.post("/api/orders/add/", {**order, "description": "строка 1\r\nстрока\t2"}).status_code == 200
    assert_error(api.post("/api/orders/add/", {**order, "description": "\x1b[31mкрасный"}), 400, "description")
    assert_error(api.post("/api/orders/add/", {**order, "product": "Ноут\nбук"}), 400, "product")
    assert Order.objects.get().description == "строка 1\r\nстрока\t2"


def test_admin_form_refuses_control_characters_next_to_the_field(client, manager):
    client.force_login(manager)
    form = {"last_name": "Петров", "first_name": "Пё\u202eтр", "middle_name": "", "email": "p@example.com",
            "mobile_phone": "", "status": "active", "orders-TOTAL_FORMS": "0", "orders-INITIAL_FORMS": "0",
            "orders-MIN_NUM_FORMS": "0", "orders-MAX_NUM_FORMS": "0"}

    response = client.post(reverse("admin:crm_client_add"), form)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["first_name"] == [
        "Remove the control or invisible character U+202E (character 3 of the text)."
    ]
    assert not Client.objects.exists()


def test_import_refuses_control_characters_with_the_column_and_line(client, manager, tmp_path):
    content = "Фамилия,Имя,E-mail\nИванов,Иван,ivanov@example.com\nПетров,Пё\x1bтр,petrov@example.com\n".encode()
    client.force_login(manager)

    response = upload(client, "admin:crm_client_import", content)

    (row,) = response.context["result"].invalid_rows
    assert row.number == 3
    assert row.error_dict["Имя"] == ["Remove the control or invisible character U+001B (character 3 of the text)."]
    path = tmp_path / "clients.csv"
    path.write_bytes(content)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_clients", str(path), "--no-progress", stdout=io.StringIO(), stderr=err)
    assert "Line 3: Имя: Remove the control or invisible character U+001B" in err.getvalue()
    assert not Client.objects.exists()


@pytest.fixture
def stored_control_characters(db):
    """Rows written before control characters were refused (a raw update skips the validators)."""
    client = ClientFactory(email="old@example.com")
    Client.objects.filter(pk=client.pk).update(first_name="Ив\x01ан\x1b", middle_name="\u202eвонави")
    order = OrderFactory(client=client)
    Order.objects.filter(pk=order.pk).update(product="Товар\x0b", description="\x1b[31mкрасный\x7f")
    return client


@pytest.mark.parametrize("url_name", ["admin:crm_client_export", "admin:crm_order_export"])
def test_admin_exports_of_rows_holding_control_characters_succeed(client, manager, stored_control_characters, url_name):
    client.force_login(manager)

    xlsx = client.post(reverse(url_name), {"resource": "0", "format": XLSX})
    text = b"".join(client.post(reverse(url_name), {"resource": "0", "format": CSV}).streaming_content).decode()
    records = json.loads(client.post(reverse(url_name), {"resource": "0", "format": JSON}).content)

    assert xlsx.status_code == 200
    cells = [cell for row in openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.values for cell in row]
    if url_name == "admin:crm_client_export":
        assert "Ив\ufffdан\ufffd" in cells and "\u202eвонави" in cells  # XML cannot hold \x01; bidi marks it can
        assert "Ив\x01ан\x1b" in text and records[0]["Имя"] == "Ив\x01ан\x1b"
    else:
        assert "Товар\ufffd" in cells and "\ufffd[31mкрасный\x7f" in cells
        assert "Товар\x0b" in text and records[0]["Описание"] == "\x1b[31mкрасный\x7f"


@pytest.mark.parametrize("ext", ["xlsx", "csv", "json"])
def test_export_clients_command_writes_rows_holding_control_characters(stored_control_characters, tmp_path, ext):
    path = tmp_path / f"clients.{ext}"

    call_command("export_clients", "-o", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    call_command("export_orders", "-o", str(tmp_path / f"orders.{ext}"), stdout=io.StringIO(), stderr=io.StringIO())

    if ext == "xlsx":
        names = [row[2] for row in openpyxl.load_workbook(path).active.iter_rows(min_row=2, values_only=True)]
        assert names == ["Ив\ufffdан\ufffd"]
    else:
        assert "Ив\x01ан\x1b" in path.read_text("utf-8") or "Ив\\u0001ан\\u001b" in path.read_text("utf-8")


def test_refusals_speak_russian_by_default(manager, zip_bomb):
    from django.test import Client as BrowserClient

    russian = BrowserClient()  # no language cookie: the admin's default language
    russian.force_login(manager)

    response = upload(russian, "admin:crm_client_import", zip_bomb, "bomb.xlsx", XLSX)
    done = russian.post(reverse("admin:crm_client_process_import"), {"import_file_name": "../../etc/passwd"}, follow=True)

    (error,) = response.context["form"].errors["import_file"]
    assert re.fullmatch(r"Книга отклонена: одна из её частей распаковывается в \d+ раз больше сжатого размера \(«zip-бомба»\)\.", error)
    assert "Это подтверждение импорта недействительно; загрузите файл снова." in page_messages(done)
