"""File formats shared by the admin and the management commands, and the escaping of formula cells.

django-import-export's own CSV/XLSX/JSON formats are subclassed here because:
- Excel in a Russian locale writes CSV as Windows-1251 with `;` between cells, and the admin would
  otherwise refuse anything but UTF-8 with commas;
- its IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips a leading `=` (not `+ - @`), changes the data
  and turns every XLSX cell into text (even an empty one into "None"). We escape with an apostrophe
  instead, which the import of the same format removes again, so an export re-imports unchanged;
- every file is read within the limits of crm/importexport/limits.py (size, rows, columns, zip bombs).

Formula escaping, the rule (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT):
- A spreadsheet runs a cell as a formula when its text starts with one of `= + - @` (tab and carriage
  return too, in some). Such a text gets an apostrophe in front; so does a text already starting with an
  apostrophe, so that the import can tell the two apart and remove exactly the apostrophes we added.
- XLSX: only the start of a cell counts (a workbook's cells are never split); escape_formula().
- CSV: a reader that splits lines on `,` or `;` (Russian Excel uses `;`) without honouring quotes, or a
  script that splits on lines or tabs, sees a new cell after every `,`, `;`, tab and line break. So the
  rule applies to every such segment: at the start of the text and after each of these characters
  (and any spaces or double quotes following it), a trigger or an apostrophe gets an apostrophe in front:
  `Товар;=HYPERLINK(…)` is written `Товар;'=HYPERLINK(…)`, `- один\n- два` as `'- один\n'- два`.
  A cell holding the separator is quoted; in a `,`-separated export a cell holding `;` is quoted too, so
  Russian Excel keeps it one cell.
  escape_csv_cell() / unescape_csv_cell(): the import removes an apostrophe exactly where the export
  put one (a segment start followed by a trigger or an apostrophe), so every text round-trips.
- JSON is never escaped on export nor unescaped on import: no spreadsheet opens it.
The import undoes the escaping of its own format only, on every text cell, before the widgets see it.
"""

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import tablib
from django.conf import settings
from django.utils.translation import gettext as _
from import_export.formats import base_formats

from crm.importexport.errors import ImportFileError, UnknownFormatError
from crm.importexport.limits import ImportLimits

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE_PREFIX = "'"
# A segment start in CSV text: the start, or after `,` `;` tab or a line break, then any spaces or quotes.
_CSV_ESCAPE = re.compile(r"""(?:^|(?<=[,;\t\r\n]))([ "]*)(?=[=+\-@\t\r'])""")
_CSV_UNESCAPE = re.compile(r"""(?:^|(?<=[,;\t\r\n]))([ "]*)'(?=[=+\-@\t\r'])""")
# Characters XML 1.0 (so XLSX) cannot hold: C0 controls but tab and line breaks, lone surrogates, U+FFFE/F.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape_formula(value):
    """Prefix an apostrophe to a text cell a spreadsheet would run as a formula (XLSX: the start only)."""
    if isinstance(value, str) and value[:1] in (*FORMULA_TRIGGERS, ESCAPE_PREFIX):
        # A value already starting with an apostrophe is escaped too, so unescaping is exact.
        return ESCAPE_PREFIX + value
    return value


def unescape_formula(value: str) -> str:
    """Undo escape_formula() on an imported text cell."""
    if value[:1] == ESCAPE_PREFIX and value[1:2] in (*FORMULA_TRIGGERS, ESCAPE_PREFIX) and value[1:2]:
        return value[1:]
    return value


def escape_csv_cell(value):
    """escape_formula() at every segment start a reader splitting on `,` `;` tabs or lines would see."""
    if isinstance(value, str):
        return _CSV_ESCAPE.sub(r"\1'", value)
    return value


def unescape_csv_cell(value: str) -> str:
    """Undo escape_csv_cell() on an imported text cell."""
    return _CSV_UNESCAPE.sub(r"\1", value) if "'" in value else value


def xlsx_text(value: str) -> str:
    """Text an XLSX cell can hold: characters XML refuses (stored before they were refused) become U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", value)


def escape_formulae_enabled() -> bool:
    return getattr(settings, "IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT", False) is True


def csv_delimiter() -> str:
    """The separator of CSV exports (EXPORT_CSV_DELIMITER): `;` unless configured `,`."""
    return getattr(settings, "EXPORT_CSV_DELIMITER", ";")


def export_options(file_format) -> dict:
    """How cells are written for a format (the widgets' render() arguments). XLSX keeps numbers and dates as
    such; a `;`-separated CSV writes amounts with a decimal comma (1500,50), which Russian Excel reads as a
    number (a point it would take for text, or for a date: 12.05 is 12 May)."""
    return {
        "force_native_type": isinstance(file_format, XlsxFormat),
        "decimal_comma": isinstance(file_format, CsvFormat) and csv_delimiter() == ";",
    }


def _is_blank(values) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def _within_columns(line: int, values, limits: ImportLimits) -> list:
    """The row's first IMPORT_MAX_COLUMNS cells; a value further right refuses the file (empty cells there are
    only formatting, as Excel leaves them)."""
    values = list(values)
    if len(values) > limits.max_columns:
        for index in range(limits.max_columns, len(values)):
            if not _is_blank((values[index],)):
                limits.check_column(line, index + 1)
        del values[limits.max_columns :]
    return values


def _dataset(headers, rows_with_lines, *, limits: ImportLimits, unescape=None) -> tablib.Dataset:
    """A Dataset of the non-blank rows, remembering each row's line in the file (the header is line 1).

    Every line counts towards the row limit, blank or not. `unescape` undoes the format's formula escaping.
    """
    headers = ["" if header is None else str(header).strip() for header in _within_columns(1, headers, limits)]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise ImportFileError(_("The file is empty: the first line must hold the column names."))
    dataset = tablib.Dataset(headers=headers)
    line_numbers = []
    width = len(headers)
    for line, values in rows_with_lines:
        limits.check_line(line)
        values = _within_columns(line, values, limits)[:width]
        if _is_blank(values):
            continue
        if unescape is not None:
            values = [unescape(value) if isinstance(value, str) else value for value in values]
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


class TextFileMixin:
    """A text format read as bytes, so that we choose the encoding, not the admin (which assumes UTF-8)."""

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    @staticmethod
    def limited_text(in_stream) -> tuple[str, ImportLimits]:
        """The file's text once it is known to be within the size limit, and the limits for the rest."""
        limits = ImportLimits.from_settings()
        limits.check_size(len(in_stream))
        return decode_text(in_stream), limits


class CsvFormat(TextFileMixin, base_formats.CSV):
    """CSV in UTF-8 (BOM or not) or Windows-1251, separated by `,`, `;` or tabs, amounts with a decimal comma or
    point. Exported as Russian Excel opens it in columns: UTF-8 with a BOM, `;` (EXPORT_CSV_DELIMITER), with
    the amounts' decimal comma (export_options)."""

    CONTENT_TYPE = "text/csv; charset=utf-8"

    def create_dataset(self, in_stream, **kwargs):
        text, limits = self.limited_text(in_stream)
        delimiter = detect_delimiter(text)
        # Counted before parsing: a line of a million commas would otherwise be a million cells.
        limits.check_cells(text.count(delimiter))
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            headers = next(reader, None)
            if headers is None:
                raise ImportFileError(_("The file is empty: the first line must hold the column names."))
            return _dataset(headers, enumerate(reader, start=2), limits=limits, unescape=unescape_csv_cell)
        except csv.Error as error:
            raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": error}) from None

    def count_rows(self, in_stream, *, enough: int | None = None) -> tuple[list[str], int]:
        """The headers and the number of non-blank rows, within the limits, without building the rows.

        With `enough`, rows are read only until more than `enough` are found; the count is then the file's
        number of lines after the header (counted at C speed), an upper bound the job replaces by its own.
        """
        text, limits = self.limited_text(in_stream)
        delimiter = detect_delimiter(text)
        limits.check_cells(text.count(delimiter))
        lines = text.count("\n") + (0 if text.endswith("\n") else 1) - 1
        if lines + 1 <= limits.max_lines and enough is not None:
            limits = None  # within the row limit whatever the quoting: no need to read every row
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        checks = limits or ImportLimits.from_settings()
        try:
            headers = next(reader, None)
            if headers is None:
                raise ImportFileError(_("The file is empty: the first line must hold the column names."))
            headers = _within_columns(1, headers, checks)
            count = 0
            for line, values in enumerate(reader, start=2):
                if len(values) > checks.max_columns:
                    _within_columns(line, values, checks)
                if not _is_blank(values):
                    count += 1
                    if limits is None and count > enough:
                        return [str(header).strip() for header in headers], max(count, lines)
                if limits is not None:
                    limits.check_line(line)
        except csv.Error as error:
            raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": error}) from None
        return [str(header).strip() for header in headers], count

    def export_data(self, dataset, **kwargs):
        stream = io.StringIO()
        # The BOM makes Excel read the file as UTF-8 rather than in the system code page.
        stream.write("\ufeff")
        write_csv(stream, dataset.headers, dataset)
        return stream.getvalue()


class XlsxFormat(base_formats.XLSX):
    """Excel workbooks: the first sheet, the first row holds the column names."""

    def create_dataset(self, in_stream, **kwargs):
        limits = ImportLimits.from_settings()
        limits.check_size(len(in_stream))
        try:
            with limits.open_workbook(in_stream) as archive:
                # Before openpyxl reads a byte: it would unpack and parse whatever the zip holds.
                limits.check_workbook(archive)
            return self._read_first_sheet(in_stream, limits)
        except ImportFileError:
            raise
        except Exception:  # not a zip, a missing or malformed part, a bad CRC: all the same to people
            raise ImportFileError(_("The file is not a valid Excel (XLSX) workbook.")) from None

    @staticmethod
    def _read_first_sheet(data: bytes, limits: ImportLimits) -> tablib.Dataset:
        import openpyxl
        from openpyxl.worksheet._read_only import ReadOnlyWorksheet

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.active
            if not isinstance(sheet, ReadOnlyWorksheet):
                raise ImportFileError(_("The file is empty: the first line must hold the column names."))
            rows = _sheet_rows(book, sheet, limits)
            first = next(rows, None)
            if first is None or first[0] != 1:
                raise ImportFileError(_("The file is empty: the first line must hold the column names."))
            return _dataset(first[1], rows, limits=limits, unescape=unescape_formula)
        finally:
            book.close()

    def export_data(self, dataset, **kwargs):
        stream = io.BytesIO()
        write_xlsx(stream, dataset.headers, dataset)
        return stream.getvalue()


def _sheet_rows(book, sheet, limits: ImportLimits) -> Iterator[tuple[int, list]]:
    """(line, values) of each row a sheet holds, its values up to its last one.

    openpyxl's own iter_rows() trusts the dimension the sheet declares and pads every row up to it (or up to
    the rightmost cell), so a few bytes (`A1:XFD1048576`, one cell in column XFD) would have it produce
    billions of empty cells; its row parser is used directly instead, and nothing is padded.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        for line, cells in parser.parse():
            limits.check_line(line)  # a row numbered 1,000,000 stands after as many lines
            values = {}
            for cell in cells:
                if cell["value"] is not None:
                    limits.check_column(line, cell["column"])
                    values[cell["column"]] = cell["value"]
            if values:
                yield line, [values.get(column) for column in range(1, max(values) + 1)]
            else:
                yield line, []


class JsonFormat(TextFileMixin, base_formats.JSON):
    """A JSON list of objects keyed by column name; never formula-escaped (no spreadsheet opens it)."""

    CONTENT_TYPE = "application/json; charset=utf-8"

    def create_dataset(self, in_stream, **kwargs):
        text, limits = self.limited_text(in_stream)
        # Counted before parsing: `[{},{},…]` or `[0,0,…]` would otherwise be millions of objects.
        limits.check_cells(text.count(","))
        try:
            records = json.loads(text)
        except (ValueError, RecursionError):
            raise ImportFileError(_("The file is not valid JSON.")) from None
        if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
            raise ImportFileError(_("The JSON file must hold a list of objects, one per row."))
        limits.check_line(len(records) + 1)
        headers = list(dict.fromkeys(key for record in records for key in record))
        if not headers:
            raise ImportFileError(_("The file holds no rows to import."))
        if len(headers) > limits.max_columns:
            limits.check_column(1, len(headers))
        return _dataset(
            headers, ((line, [record.get(h) for h in headers]) for line, record in enumerate(records, 1)), limits=limits
        )

    def export_data(self, dataset, **kwargs):
        stream = io.StringIO()
        write_json(stream, dataset.headers, dataset)
        return stream.getvalue()


CSV_ROWS_PER_CHUNK = 500  # rows per piece of a streamed CSV download


def csv_chunks(headers, rows, *, rows_per_chunk: int = CSV_ROWS_PER_CHUNK) -> Iterator[str]:
    """CSV text separated by csv_delimiter(), the header line first, in pieces of a few hundred rows (formulae
    escaped if configured)."""
    delimiter = csv_delimiter()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    # csv quotes a cell holding the separator; with `,` it would leave one holding `;`, which Russian Excel splits on.
    also_quoted = ";" if delimiter == "," else None
    quoting_writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(headers)
    escape = escape_formulae_enabled()
    for index, row in enumerate(rows, start=1):
        cells = [escape_csv_cell(cell) for cell in row] if escape else row
        if also_quoted and any(isinstance(cell, str) and also_quoted in cell for cell in cells):
            quoting_writer.writerow(cells)
        else:
            writer.writerow(cells)
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
        cell = WriteOnlyCell(sheet, value=xlsx_text(str(header)))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    escape = escape_formulae_enabled()
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):
                # Text stored before control characters were refused must not make the export fail.
                value = xlsx_text(escape_formula(value) if escape else value)
            cell = WriteOnlyCell(sheet, value=value)
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


def count_rows(file_format, data: bytes, *, enough: int | None = None) -> tuple[list[str], int]:
    """The headers and number of rows of an import file, as cheaply as its format allows (CSV: without
    building its rows, and past `enough` rows only its lines; XLSX and JSON: read whole, as the preview would)."""
    if hasattr(file_format, "count_rows"):
        return file_format.count_rows(data, enough=enough)
    dataset = file_format.create_dataset(data)
    return list(dataset.headers or []), len(dataset)


FORMATS = [CsvFormat, XlsxFormat, JsonFormat]
FORMATS_BY_NAME = {"csv": CsvFormat, "xlsx": XlsxFormat, "json": JsonFormat}


def format_name(file_format) -> str:
    """The name of a format (an instance or its class) in FORMATS_BY_NAME: "csv", "xlsx" or "json"."""
    format_class = file_format if isinstance(file_format, type) else type(file_format)
    return next(name for name, cls in FORMATS_BY_NAME.items() if cls is format_class)


def export_file_name(model, file_format) -> str:
    """`заказы-2026-11-30.csv`: the list's name in the active language and today's date where the staff are
    (TIME_ZONE), not in UTC, which at 02:00 in Moscow is still yesterday."""
    from django.utils import timezone
    from django.utils.text import slugify

    name = slugify(str(model._meta.verbose_name_plural), allow_unicode=True)
    return f"{name}-{timezone.localdate():%Y-%m-%d}.{file_format.get_extension()}"


def format_for(path: str | Path | None, name: str | None = None):
    """The format named, or the one matching the file's extension."""
    if not name:
        name = Path(path).suffix.lstrip(".").lower() if path else ""
    try:
        return FORMATS_BY_NAME[name.lower()]()
    except KeyError:
        raise UnknownFormatError(_("Unknown format “%(name)s”; use csv, xlsx or json.") % {"name": name}) from None
