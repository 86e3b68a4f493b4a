"""File formats shared by the admin and the management commands, and the escaping of formula cells.

django-import-export's own CSV/XLSX/JSON formats are subclassed here because:
- Excel in a Russian locale writes CSV as Windows-1251 with `;` between cells, and the admin would
  otherwise refuse anything but UTF-8 with commas;
- its IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips a leading `=` (not `+ - @`), changes the data
  and turns every XLSX cell into text (even an empty one into "None"). We escape with a leading
  apostrophe instead, which the import removes again, so an export re-imports unchanged.
"""

import codecs
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import tablib
from django.conf import settings
from django.utils.translation import gettext as _
from import_export.formats import base_formats

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE_PREFIX = "'"


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, wrong encoding, missing columns)."""


class UnknownFormatError(ImportFileError):
    """The format named (or the file's extension) is none of csv, xlsx and json."""


def escape_formula(value):
    """Prefix an apostrophe to a text cell a spreadsheet would run as a formula."""
    if isinstance(value, str) and value[:1] in (*FORMULA_TRIGGERS, ESCAPE_PREFIX):
        # A value already starting with an apostrophe is escaped too, so unescaping is exact.
        return ESCAPE_PREFIX + value
    return value


def unescape_formula(value: str) -> str:
    """Undo escape_formula() on an imported text cell."""
    if value[:1] == ESCAPE_PREFIX and value[1:2] in (*FORMULA_TRIGGERS, ESCAPE_PREFIX) and value[1:2]:
        return value[1:]
    return value


def escape_formulae_enabled() -> bool:
    return getattr(settings, "IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT", False) is True


def _is_blank(values) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _dataset(headers, rows_with_lines) -> tablib.Dataset:
    """A Dataset of the non-blank rows, remembering each row's line in the file (the header is line 1)."""
    headers = ["" if header is None else str(header).strip() for header in headers]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise ImportFileError(_("The file is empty: the first line must hold the column names."))
    dataset = tablib.Dataset(headers=headers)
    line_numbers = []
    width = len(headers)
    for line, values in rows_with_lines:
        values = list(values)[:width]
        if _is_blank(values):
            continue
        values += [None] * (width - len(values))
        dataset.append(values)
        line_numbers.append(line)
    dataset.line_numbers = line_numbers
    return dataset


def decode_text(data: bytes | str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or else Windows-1251 as Russian Excel saves it."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file is neither UTF-8 nor Windows-1251 text. Save it as “CSV UTF-8” and import it again.")
        ) from None


def detect_delimiter(text: str) -> str:
    """`;` (Russian Excel), tab or `,`: whichever the header line uses most."""
    header_line = text.split("\n", 1)[0]
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


class CsvFormat(base_formats.CSV):
    """CSV in UTF-8 (BOM or not) or Windows-1251, separated by `,`, `;` or tabs."""

    CONTENT_TYPE = "text/csv; charset=utf-8"

    # Read as bytes so we choose the encoding, not the admin (which assumes UTF-8).
    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        text = decode_text(in_stream)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text))
        try:
            rows = list(reader)
        except csv.Error as error:
            raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": error}) from None
        if not rows:
            raise ImportFileError(_("The file is empty: the first line must hold the column names."))
        return _dataset(rows[0], ((line, row) for line, row in enumerate(rows[1:], start=2)))

    def export_data(self, dataset, **kwargs):
        stream = io.StringIO()
        # The BOM makes Excel read the file as UTF-8 rather than in the system code page.
        stream.write("\ufeff")
        write_csv(stream, dataset.headers, dataset)
        return stream.getvalue()


class XlsxFormat(base_formats.XLSX):
    """Excel workbooks: the first sheet, the first row holds the column names."""

    def create_dataset(self, in_stream, **kwargs):
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
        except Exception:
            raise ImportFileError(_("The file is not a valid Excel (XLSX) workbook.")) from None
        try:
            rows = book.active.iter_rows(values_only=True)
            headers = next(rows, None)
            if headers is None:
                raise ImportFileError(_("The file is empty: the first line must hold the column names."))
            return _dataset(headers, ((line, row) for line, row in enumerate(rows, start=2)))
        finally:
            book.close()

    def export_data(self, dataset, **kwargs):
        stream = io.BytesIO()
        write_xlsx(stream, dataset.headers, dataset)
        return stream.getvalue()


class JsonFormat(base_formats.JSON):
    """A JSON list of objects keyed by column name; never formula-escaped (no spreadsheet opens it)."""

    CONTENT_TYPE = "application/json; charset=utf-8"

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        try:
            records = json.loads(decode_text(in_stream))
        except ValueError:
            raise ImportFileError(_("The file is not valid JSON.")) from None
        if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
            raise ImportFileError(_("The JSON file must hold a list of objects, one per row."))
        headers = list(dict.fromkeys(key for record in records for key in record))
        if not headers:
            raise ImportFileError(_("The file holds no rows to import."))
        return _dataset(headers, ((line, [record.get(h) for h in headers]) for line, record in enumerate(records, 1)))

    def export_data(self, dataset, **kwargs):
        stream = io.StringIO()
        write_json(stream, dataset.headers, dataset)
        return stream.getvalue()


CSV_ROWS_PER_CHUNK = 500  # rows per piece of a streamed CSV download


def csv_chunks(headers, rows, *, rows_per_chunk: int = CSV_ROWS_PER_CHUNK) -> Iterator[str]:
    """CSV text, the header line first, in pieces of a few hundred rows (formulae escaped if configured)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    escape = escape_formulae_enabled()
    for index, row in enumerate(rows, start=1):
        writer.writerow([escape_formula(cell) if escape else cell for cell in row])
        if index % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def write_csv(stream, headers, rows) -> None:
    for piece in csv_chunks(headers, rows):
        stream.write(piece)


def write_xlsx(stream, headers, rows) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    escape = escape_formulae_enabled()
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=escape_formula(value) if escape else value)
            if isinstance(value, str):
                # openpyxl stores any string starting with "=" as a formula; a text cell is text.
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    book.save(stream)


def write_json(stream, headers, rows) -> None:
    stream.write("[")
    for index, row in enumerate(rows):
        stream.write(",\n " if index else "\n ")
        stream.write(json.dumps(dict(zip(headers, row)), ensure_ascii=False, default=str))
    stream.write("\n]\n")


FORMATS = [CsvFormat, XlsxFormat, JsonFormat]
FORMATS_BY_NAME = {"csv": CsvFormat, "xlsx": XlsxFormat, "json": JsonFormat}


def format_for(path: str | Path | None, name: str | None = None):
    """The format named, or the one matching the file's extension."""
    if not name:
        name = Path(path).suffix.lstrip(".").lower() if path else ""
    try:
        return FORMATS_BY_NAME[name.lower()]()
    except KeyError:
        raise UnknownFormatError(_("Unknown format “%(name)s”; use csv, xlsx or json.") % {"name": name}) from None
