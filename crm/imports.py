"""File formats and the import/export runners shared by the admin and the management commands.

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
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import tablib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.formats import base_formats
from import_export.results import RowResult

# A cell starting with one of these is run as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE_PREFIX = "'"
EXPORT_CHUNK_SIZE = 2000
CSV_ROWS_PER_CHUNK = 500  # rows per piece of a streamed CSV download


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, wrong encoding, missing columns)."""


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


def _escape_formulae_enabled() -> bool:
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


FORMATS = [CsvFormat, XlsxFormat, JsonFormat]
FORMATS_BY_NAME = {"csv": CsvFormat, "xlsx": XlsxFormat, "json": JsonFormat}


def format_for(path: str | Path | None, name: str | None = None):
    """The format named, or the one matching the file's extension."""
    if not name:
        name = Path(path).suffix.lstrip(".").lower() if path else ""
    try:
        return FORMATS_BY_NAME[name.lower()]()
    except KeyError:
        raise CommandError(
            _("Unknown format “%(name)s”; use csv, xlsx or json.") % {"name": name}
        ) from None


# ---------------------------------------------------------------------------
# Writers: streaming, row by row, used by both the admin's formats and the export commands
# ---------------------------------------------------------------------------
def csv_chunks(headers, rows, *, rows_per_chunk: int = CSV_ROWS_PER_CHUNK) -> Iterator[str]:
    """CSV text, the header line first, in pieces of a few hundred rows (formulae escaped if configured)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    escape = _escape_formulae_enabled()
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
    escape = _escape_formulae_enabled()
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


def export_rows(resource, queryset, *, selected_fields=None, **kwargs) -> Iterator[list]:
    """Each row as resource.export() makes it, read from the database EXPORT_CHUNK_SIZE rows at a time
    (`queryset.iterator()`), so no more than one chunk of objects is in memory."""
    cells = [_cell_exporter(resource, field, kwargs) for field in resource.get_export_fields(selected_fields)]
    for obj in queryset.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield [cell(obj) for cell in cells]


def _cell_exporter(resource, field, kwargs):
    """What resource.export_field(field, obj, **kwargs) does for one column, with the dehydrate method
    looked up once per column instead of once per cell (that lookup scans every field of the resource)."""
    dehydrate_method = field.get_dehydrate_method(resource.get_field_name(field))
    method = dehydrate_method if callable(dehydrate_method) else getattr(resource, dehydrate_method, None)
    if method is not None:
        return method
    return lambda obj: field.export(obj, **kwargs)


def csv_download(resource, queryset, *, selected_fields=None, **kwargs) -> Iterator[str]:
    """The CSV file resource.export() + CsvFormat.export_data() would build, as pieces to stream.

    The headers and the queryset are prepared before the first piece is asked for, so a bad column
    fails in the view rather than halfway through a download. (after_export() has no dataset to
    receive here; our resources do not use it.)
    """
    resource.before_export(queryset, **kwargs)
    queryset = resource.filter_export(queryset, **kwargs)
    headers = resource.get_export_headers(selected_fields=selected_fields)
    rows = export_rows(resource, queryset, selected_fields=selected_fields, **kwargs)
    # The BOM makes Excel read the file as UTF-8 rather than in the system code page.
    return itertools.chain(["\ufeff"], csv_chunks(headers, rows))


def export_to_stream(resource, queryset, file_format, stream) -> int:
    """Write every row of the queryset, read in chunks, to a text (CSV, JSON) or binary (XLSX) stream."""
    native = isinstance(file_format, XlsxFormat)
    headers = resource.get_export_headers()
    queryset = resource.filter_export(queryset)
    count = 0

    def rows():
        nonlocal count
        for row in export_rows(resource, queryset, force_native_type=native):
            count += 1
            yield row

    if isinstance(file_format, XlsxFormat):
        write_xlsx(stream, headers, rows())
    elif isinstance(file_format, JsonFormat):
        write_json(stream, headers, rows())
    else:
        stream.write("\ufeff")
        write_csv(stream, headers, rows())
    return count


# ---------------------------------------------------------------------------
# Reports of an import: the same wording in the admin and on the command line
# ---------------------------------------------------------------------------
def result_counts(result) -> dict[str, int]:
    totals = result.totals
    return {
        "total": result.total_rows,
        "new": totals[RowResult.IMPORT_TYPE_NEW],
        "changed": totals[RowResult.IMPORT_TYPE_UPDATE],
        "unchanged": totals[RowResult.IMPORT_TYPE_SKIP],
        "invalid": totals[RowResult.IMPORT_TYPE_INVALID] + totals[RowResult.IMPORT_TYPE_ERROR],
    }


def result_summary(result) -> str:
    return _("%(total)s rows: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, %(invalid)s invalid.") % (
        result_counts(result)
    )


def invalid_row_reasons(invalid_row) -> list[str]:
    """'Column: message' for each problem of an invalid row."""
    reasons = []
    for column, messages in invalid_row.error_dict.items():
        for message in messages:
            reasons.append(str(message) if column == "__all__" else f"{column}: {message}")
    return reasons


def result_problems(result) -> list[str]:
    """One line per problem: file-level errors, then each invalid row with its line number."""
    problems = [str(error.error) for error in result.base_errors]
    for invalid_row in result.invalid_rows:
        for reason in invalid_row_reasons(invalid_row):
            problems.append(_("Line %(line)s: %(reason)s") % {"line": invalid_row.number, "reason": reason})
    for error_row in result.error_rows:
        for error in error_row.errors:
            problems.append(_("Line %(line)s: %(reason)s") % {"line": error_row.number, "reason": error.error})
    return problems


def result_failed(result) -> bool:
    return result.has_errors() or result.has_validation_errors()


# ---------------------------------------------------------------------------
# Management commands
# ---------------------------------------------------------------------------
def read_dataset(path: Path, file_format) -> tablib.Dataset:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CommandError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": error.strerror}) from None
    return file_format.create_dataset(data)


class ImportCommand(BaseCommand):
    """Import one file with a resource: all rows or none, invalid rows listed with their line numbers."""

    resource_class = None

    def add_arguments(self, parser):
        parser.add_argument("path", help=gettext_lazy("CSV, XLSX or JSON file to import."))
        parser.add_argument("--format", choices=sorted(FORMATS_BY_NAME), help=gettext_lazy("Default: from the extension."))
        parser.add_argument("--dry-run", action="store_true", help=gettext_lazy("Check the file, write nothing."))
        parser.add_argument("--user", help=gettext_lazy("Username recorded in the history as the author."))
        parser.add_argument("--no-progress", action="store_true", help=gettext_lazy("Hide the progress bar."))

    def handle(self, *args, path, format, dry_run, user, no_progress, **options):
        from django.contrib.auth import get_user_model
        from tqdm import tqdm

        history_user = None
        if user:
            history_user = get_user_model().objects.filter(username=user).first()
            if history_user is None:
                raise CommandError(_("No user named %(username)s.") % {"username": user})
        path = Path(path)
        try:
            dataset = read_dataset(path, format_for(path, format))
        except ImportFileError as error:
            raise CommandError(str(error)) from None

        with tqdm(total=len(dataset), unit=_("rows"), disable=no_progress, file=sys.stderr) as bar:
            resource = self.resource_class(progress=bar.update)
            result = resource.import_data(
                dataset, dry_run=dry_run, file_name=path.name, user=history_user, raise_errors=False
            )

        self.stdout.write(result_summary(result))
        if result_failed(result):
            for problem in result_problems(result):
                self.stderr.write(problem)
            raise CommandError(_("Nothing was imported: fix the rows above and run the import again."))
        if dry_run:
            self.stdout.write(_("Dry run: nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(_("Imported.")))


class ExportCommand(BaseCommand):
    """Export rows, chunk by chunk, to a file or to standard output."""

    resource_class = None

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", default="-", help=gettext_lazy("File to write; '-' for standard output."))
        parser.add_argument("--format", choices=sorted(FORMATS_BY_NAME), help=gettext_lazy("Default: from the extension, else csv."))
        parser.add_argument("--search", default="", help=gettext_lazy("Only rows matching this search, as in the lists."))

    def get_queryset(self, options):
        raise NotImplementedError

    def handle(self, *args, output, format, **options):
        from django.core.exceptions import ValidationError

        to_stdout = output == "-"
        file_format = format_for(None if to_stdout else output, format or (None if not to_stdout else "csv"))
        try:
            queryset = self.get_queryset(options)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        resource = self.resource_class()
        binary = isinstance(file_format, XlsxFormat)
        if to_stdout:
            stream = sys.stdout.buffer if binary else self.stdout
            if binary:
                buffer = io.BytesIO()
                count = export_to_stream(resource, queryset, file_format, buffer)
                stream.write(buffer.getvalue())
                stream.flush()
            else:
                count = export_to_stream(resource, queryset, file_format, _NoNewline(self.stdout))
        else:
            mode = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8", "newline": ""}
            with open(output, **mode) as stream:
                count = export_to_stream(resource, queryset, file_format, stream)
        self.stderr.write(_("Exported %(count)s rows.") % {"count": count})


class _NoNewline:
    """Django's OutputWrapper adds a newline to every write(); the writers bring their own."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text):
        self.wrapper.write(text, ending="")

