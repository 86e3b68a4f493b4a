"""A CSV file read from disk a row at a time, for background imports of 100,000s of rows.

A tablib Dataset of 200,000 rows takes about 200 MB; this takes the size of its line numbers (an array of
ints). The resources need only what import-export's import loop uses: the headers (which they rename), the
number of rows, iteration, and a column's values (their prefetch); each iteration reads the file again.
Rows come out exactly as CsvFormat.create_dataset() makes them: same encodings, separators, limits,
blank rows skipped, formula escaping undone, each row cut or padded to the header's width.
"""

import codecs
import csv
from array import array
from pathlib import Path

from django.utils.translation import gettext as _

from crm.importexport.errors import ImportFileError
from crm.importexport.formats import _is_blank, _within_columns, unescape_csv_cell
from crm.importexport.limits import ImportLimits

PIECE = 1024 * 1024


def _encoding_and_separators(path: Path, limits: ImportLimits) -> tuple[str, str]:
    """The file's encoding (UTF-8 with or without BOM, else Windows-1251) and its separator, reading it once
    a piece at a time; the separators are counted on the way (a cell limit, before any row is built)."""
    with path.open("rb") as file:
        first_line = file.readline(PIECE)
    if first_line.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(_("The file is neither UTF-8 nor Windows-1251 text. Save it as “CSV UTF-8” and import it again."))
    counts = {delimiter: first_line.count(delimiter.encode()) for delimiter in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get) if max(counts.values()) else ","
    separator = delimiter.encode()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    cells = 0
    with path.open("rb") as file:
        while piece := file.read(PIECE):
            cells += piece.count(separator)
            limits.check_cells(cells)
            if utf8 is not None:
                try:
                    utf8.decode(piece)
                except UnicodeDecodeError:
                    utf8 = None
    if utf8 is not None:
        try:
            utf8.decode(b"", final=True)
            return "utf-8-sig", delimiter
        except UnicodeDecodeError:
            pass
    cp1251 = codecs.getincrementaldecoder("cp1251")()
    with path.open("rb") as file:
        try:
            while piece := file.read(PIECE):
                cp1251.decode(piece)
        except UnicodeDecodeError:
            raise ImportFileError(
                _("The file is neither UTF-8 nor Windows-1251 text. Save it as “CSV UTF-8” and import it again.")
            ) from None
    return "cp1251", delimiter


class CsvFileDataset:
    """The rows of a CSV import file, read from `path` each time they are iterated."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.limits = ImportLimits.from_settings()
        self.limits.check_size(self.path.stat().st_size)
        self.encoding, self.delimiter = _encoding_and_separators(self.path, self.limits)
        with self._reader() as reader:
            try:
                headers = next(reader, None)
            except csv.Error as error:
                raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": error}) from None
        if headers is None:
            raise ImportFileError(_("The file is empty: the first line must hold the column names."))
        headers = ["" if header is None else str(header).strip() for header in _within_columns(1, headers, self.limits)]
        while headers and not headers[-1]:
            headers.pop()
        if not headers:
            raise ImportFileError(_("The file is empty: the first line must hold the column names."))
        self.headers = headers
        self.width = len(headers)
        self.line_numbers = array("L", (line for line, _values in self._rows()))

    def _reader(self):
        return _Reader(self.path, self.encoding, self.delimiter)

    def _rows(self):
        """(line, values) of every non-blank row, as CsvFormat.create_dataset() would hold them."""
        with self._reader() as reader:
            try:
                next(reader, None)
                for line, values in enumerate(reader, start=2):
                    self.limits.check_line(line)
                    values = _within_columns(line, values, self.limits)[: self.width]
                    if _is_blank(values):
                        continue
                    values = [unescape_csv_cell(value) for value in values]
                    values += [None] * (self.width - len(values))
                    yield line, values
            except csv.Error as error:
                raise ImportFileError(_("The CSV file cannot be read: %(error)s") % {"error": error}) from None

    def __len__(self) -> int:
        return len(self.line_numbers)

    def __iter__(self):
        for _line, values in self._rows():
            yield values

    def __getitem__(self, column: str) -> list:
        index = self.headers.index(column)
        return [values[index] for values in self]


class _Reader:
    def __init__(self, path: Path, encoding: str, delimiter: str):
        self.file = path.open("r", encoding=encoding, newline="")
        self.reader = csv.reader(self.file, delimiter=delimiter)

    def __enter__(self):
        return self.reader

    def __exit__(self, *exc_info):
        self.file.close()
