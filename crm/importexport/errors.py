"""Why a file as a whole cannot be imported; shown next to the admin's file field and by the commands."""


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, wrong encoding, missing columns, too big)."""


class UnknownFormatError(ImportFileError):
    """The format named (or the file's extension) is none of csv, xlsx and json."""


class ImportLimitError(ImportFileError):
    """The file passes one of the limits of crm/importexport/limits.py."""
