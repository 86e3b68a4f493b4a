"""The CSV file a background import reads a row at a time gives the resources the same rows as the in-memory
Dataset: encodings, separators, blank rows, formula escaping, widths, line numbers and the limits."""

import pytest

from crm.importexport.errors import ImportFileError
from crm.importexport.formats import CsvFormat
from crm.importexport.streamed import CsvFileDataset

SAMPLES = {
    "utf-8 with commas": "Фамилия,Имя,E-mail\nИванов,Иван,a@example.com\n\n,,\nПетров,\"Пётр, младший\",b@example.com,\n".encode(),
    "utf-8 BOM": "\ufeffФамилия;Имя;E-mail\r\nИванов;Иван;a@example.com\r\n".encode(),
    "cp1251 semicolons": "Фамилия;Имя;E-mail\nИванов;'=1+2;a@example.com\nПетров\n".encode("cp1251"),
    "quoted line break": 'Фамилия,Имя,E-mail\n"Ива\nнов",Иван,a@example.com\nПетров,Пётр,b@example.com\n'.encode(),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_the_streamed_file_holds_the_same_rows_as_the_dataset(tmp_path, name):
    path = tmp_path / "file.csv"
    path.write_bytes(SAMPLES[name])

    expected = CsvFormat().create_dataset(SAMPLES[name])
    streamed = CsvFileDataset(path)

    assert streamed.headers == expected.headers
    assert len(streamed) == len(expected)
    assert [list(row) for row in streamed] == [list(row) for row in expected]
    assert list(streamed.line_numbers) == expected.line_numbers
    assert streamed["E-mail"] == list(expected["E-mail"])


def test_the_streamed_file_keeps_the_limits(tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 3
    path = tmp_path / "file.csv"
    path.write_bytes(("E-mail\n" + "a@example.com\n" * 4).encode())
    with pytest.raises(ImportFileError):
        CsvFileDataset(path)
    settings.IMPORT_MAX_ROWS = 100
    settings.IMPORT_MAX_COLUMNS = 3
    path.write_bytes(("E-mail\n" + "a" + "," * 10_000 + "\n").encode())
    with pytest.raises(ImportFileError):
        CsvFileDataset(path)


def test_a_file_in_neither_encoding_is_refused(tmp_path):
    path = tmp_path / "file.csv"
    path.write_bytes(b"E-mail\n\x98\x98\n")
    with pytest.raises(ImportFileError):
        CsvFileDataset(path)


def test_counting_a_large_csv_for_the_admin_stops_reading_rows_past_the_threshold_but_keeps_the_row_limit(settings):
    from crm.importexport.formats import count_rows

    data = ("Фамилия,E-mail\n" + "".join(f"Иванов,c{n}@example.com\n" for n in range(30))).encode()
    assert count_rows(CsvFormat(), data) == (["Фамилия", "E-mail"], 30)
    assert count_rows(CsvFormat(), data, enough=10) == (["Фамилия", "E-mail"], 30)
    settings.IMPORT_MAX_ROWS = 20
    with pytest.raises(ImportFileError):
        count_rows(CsvFormat(), data, enough=10)
