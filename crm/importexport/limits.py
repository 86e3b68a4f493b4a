"""How big an import file may be, checked before and while it is read, so that a hostile file is refused
in a fraction of a second instead of holding a worker (and gigabytes of memory) for minutes.

Every format: at most IMPORT_MAX_FILE_MB bytes, IMPORT_MAX_ROWS rows after the header (blank rows count: a
million empty lines costs as much to read as a million rows), no value beyond column IMPORT_MAX_COLUMNS,
and no more cells in all than a full file of that many rows and columns would hold.

A workbook (XLSX is a zip of XML parts) is inspected before openpyxl opens it: its parts may unpack to at
most IMPORT_MAX_UNPACKED_MB in all, none may unpack to more than MAX_COMPRESSION_RATIO times its packed size
(a zip bomb), and every part is scanned, unpacked a piece at a time, for its rows and cells. Python's zipfile
never unpacks more than a part's declared size, so a part lying about its size fails its CRC check instead.
"""

import io
import re
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from crm.importexport.errors import ImportLimitError

MEGABYTE = 1024 * 1024
# Apache POI's default: genuine workbooks stay well below it (an export of ours packs about 12 to 1).
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM = MEGABYTE  # small parts may pack well without unpacking to much
MAX_WORKBOOK_PARTS = 10_000
MAX_ZIP_DIRECTORY = MEGABYTE  # zipfile reads its whole directory at once: ~50 bytes an entry at least
EXCEL_MAX_CELLS_PER_ROW = 16_384  # column XFD: no genuine row has more cells, even empty styled ones
SCAN_PIECE = MEGABYTE
MAX_TAG_NAME = MEGABYTE

# The start of a row or cell element, with any namespace prefix. Comments or CDATA may hold look-alikes:
# they are counted too, which can only make the count larger, never hide a row.
ROW_OR_CELL = re.compile(rb"<(?:[^\s<>/:]+:)?(row|c)[\s/>]")
NAME_END = re.compile(rb"[\s/>]")


@dataclass(frozen=True)
class ImportLimits:
    max_bytes: int
    max_rows: int
    max_columns: int
    max_unpacked_bytes: int

    @classmethod
    def from_settings(cls) -> "ImportLimits":
        return cls(
            max_bytes=int(settings.IMPORT_MAX_FILE_MB * MEGABYTE),
            max_rows=settings.IMPORT_MAX_ROWS,
            max_columns=settings.IMPORT_MAX_COLUMNS,
            max_unpacked_bytes=int(settings.IMPORT_MAX_UNPACKED_MB * MEGABYTE),
        )

    @property
    def max_lines(self) -> int:
        """The header line and the rows."""
        return self.max_rows + 1

    @property
    def max_cells(self) -> int:
        return self.max_lines * self.max_columns

    # -- the checks, each raising ImportLimitError with the message people see ----------------------
    def check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise ImportLimitError(
                _("The file is %(size)s MB; at most %(limit)s MB can be imported. Split it into smaller files.")
                % {"size": _megabytes(size), "limit": _megabytes(self.max_bytes)}
            )

    def check_line(self, line: int) -> None:
        """Refuse a file once it reaches a line past the header and IMPORT_MAX_ROWS rows."""
        if line > self.max_lines:
            raise ImportLimitError(
                _("The file has more than %(limit)s rows (blank rows count too). Split it into smaller files.")
                % {"limit": self.max_rows}
            )

    def check_column(self, line: int, column: int) -> None:
        if column > self.max_columns:
            raise ImportLimitError(
                _("Line %(line)s has a value in column %(column)s; a file may have at most %(limit)s columns.")
                % {"line": line, "column": column, "limit": self.max_columns}
            )

    def check_cells(self, cells: int) -> None:
        if cells > self.max_cells:
            raise ImportLimitError(
                _("The file has more than %(limit)s cells (at most %(rows)s rows of %(columns)s columns).")
                % {"limit": self.max_cells, "rows": self.max_rows, "columns": self.max_columns}
            )

    def open_workbook(self, data: bytes) -> zipfile.ZipFile:
        """The zip of a workbook, once its directory is known to be of a sane size."""
        stream = io.BytesIO(data)
        # Private but long-standing: the end record, where the directory's size is, as ZipFile reads it.
        end = zipfile._EndRecData(stream)
        if end is None:
            raise zipfile.BadZipFile("no end of central directory")
        if end[zipfile._ECD_SIZE] > MAX_ZIP_DIRECTORY or end[zipfile._ECD_ENTRIES_TOTAL] > MAX_WORKBOOK_PARTS:
            raise ImportLimitError(_("The file is not a valid Excel (XLSX) workbook."))
        return zipfile.ZipFile(stream)

    def check_workbook(self, archive: zipfile.ZipFile) -> None:
        """The sizes the zip declares, then a scan of every part; before openpyxl reads any of it."""
        members = archive.infolist()
        if len(members) > MAX_WORKBOOK_PARTS:
            raise ImportLimitError(_("The file is not a valid Excel (XLSX) workbook."))
        unpacked = 0
        for member in members:
            unpacked += member.file_size
            if member.file_size > RATIO_CHECKED_FROM and member.file_size > MAX_COMPRESSION_RATIO * max(
                member.compress_size, 1
            ):
                raise ImportLimitError(
                    _("The workbook is refused: a part of it unpacks to %(ratio)s times its packed size (a “zip bomb”).")
                    % {"ratio": member.file_size // max(member.compress_size, 1)}
                )
        if unpacked > self.max_unpacked_bytes:
            raise ImportLimitError(
                _("The workbook unpacks to %(size)s MB; at most %(limit)s MB can be imported. Split it into smaller files.")
                % {"size": _megabytes(unpacked), "limit": _megabytes(self.max_unpacked_bytes)}
            )
        for member in members:
            self._scan_part(archive, member)

    def _scan_part(self, archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
        """Count the rows and cells of one part, a piece at a time, stopping at the first limit passed.

        openpyxl parses a sheet whole for its size when the sheet does not declare it, and a row whole
        before handing it over, so its rows and cells are counted here first, at the speed of a regex.
        """
        counter = _RowCounter(self)
        tail = b""
        with archive.open(member) as part:
            while piece := part.read(SCAN_PIECE):
                buffer = tail + piece
                cut = buffer.rfind(b"<")
                if cut != -1 and not NAME_END.search(buffer, cut + 1):
                    # The last tag's name may go on in the next piece: count it then.
                    counter.count(buffer[:cut])
                    tail = buffer[cut:]
                    if len(tail) > MAX_TAG_NAME:
                        raise ImportLimitError(_("The file is not a valid Excel (XLSX) workbook."))
                else:
                    counter.count(buffer)
                    tail = b""
        counter.count(tail)


class _RowCounter:
    def __init__(self, limits: ImportLimits):
        self.limits = limits
        self.rows = 0
        self.cells = 0
        self.cells_in_row = 0

    def count(self, data: bytes) -> None:
        # One letter per cell and "row" per row, split into the cells of each row: C speed, not a loop per cell.
        marks = b"".join(ROW_OR_CELL.findall(data))
        if not marks:
            return
        runs = marks.split(b"row")  # runs[0] goes on with the row the previous piece ended in
        new_rows = len(runs) - 1
        self.rows += new_rows
        self.limits.check_line(self.rows)
        self.cells += len(marks) - 3 * new_rows
        self.limits.check_cells(self.cells)
        longest = self.cells_in_row + len(runs[0])
        if new_rows:
            longest = max(longest, max(map(len, runs[1:])))
            self.cells_in_row = len(runs[-1])
        else:
            self.cells_in_row = longest
        if longest > EXCEL_MAX_CELLS_PER_ROW:
            raise ImportLimitError(_("The file is not a valid Excel (XLSX) workbook."))


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.1f}".rstrip("0").rstrip(".")
