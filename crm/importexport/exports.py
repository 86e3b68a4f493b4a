"""Exports read chunk by chunk and written row by row, so neither the admin nor the commands hold a whole export."""

import itertools
from collections.abc import Iterator

from crm.importexport.formats import (
    JsonFormat,
    XlsxFormat,
    csv_chunks,
    export_options,
    write_csv,
    write_json,
    write_xlsx,
)

EXPORT_CHUNK_SIZE = 2000  # rows read per query (queryset.iterator)


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


def export_to_stream(resource, queryset, file_format, stream, *, progress=None) -> int:
    """Write every row of the queryset, read in chunks, to a text (CSV, JSON) or binary (XLSX) stream;
    `progress(1)` is called after each row if given."""
    headers = resource.get_export_headers()
    queryset = resource.filter_export(queryset)
    count = 0

    def rows():
        nonlocal count
        for row in export_rows(resource, queryset, **export_options(file_format)):
            count += 1
            yield row
            if progress is not None:
                progress(1)

    if isinstance(file_format, XlsxFormat):
        write_xlsx(stream, headers, rows())
    elif isinstance(file_format, JsonFormat):
        write_json(stream, headers, rows())
    else:
        stream.write("\ufeff")
        write_csv(stream, headers, rows())
    return count
