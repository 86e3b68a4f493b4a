"""The management commands: same validation, all or nothing, streamed exports."""

import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from crm.models import Client, Order
from tests.factories import make_user
from tests.importexport.conftest import client_rows, order_rows

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, "--no-progress", stdout=out, stderr=err) if args[0].startswith("import") else call_command(
        *args, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_sample_files_import_at_once(ext):
    make_user("importer")
    out, _ = run("import_clients", f"fixtures/sample_clients.{ext}", "--user", "importer")
    assert "8 new" in out
    out, _ = run("import_orders", f"fixtures/sample_orders.{ext}")
    assert "10 new" in out
    assert Client.objects.filter(status="archived").count() == 1
    assert Order.objects.filter(status="Completed").count() == 4
    assert Client.history.filter(history_user__username="importer").count() == 8


@pytest.mark.parametrize("ext", ["csv", "xlsx", "json"])
def test_export_then_import_commands_round_trip(sample_data, wipe, tmp_path, ext):
    clients_before, orders_before = client_rows(), order_rows()
    run("export_clients", "-o", str(tmp_path / f"c.{ext}"))
    run("export_orders", "-o", str(tmp_path / f"o.{ext}"))
    wipe()

    run("import_clients", str(tmp_path / f"c.{ext}"))
    run("import_orders", str(tmp_path / f"o.{ext}"))

    assert client_rows() == clients_before and order_rows() == orders_before


def test_import_command_reports_bad_rows_with_lines_and_writes_nothing(sample_data, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("E-mail клиента,Товар,Цена\nivanov@example.com,Чай,10\nnobody@example.com,Кофе,-1\n", "utf-8")
    before = order_rows()

    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_orders", str(path), "--no-progress", stdout=io.StringIO(), stderr=(err := io.StringIO()))

    assert "Line 3: E-mail клиента: No client with e-mail nobody@example.com." in err.getvalue()
    assert order_rows() == before


def test_dry_run_writes_nothing(tmp_path):
    out, _ = run("import_clients", "fixtures/sample_clients.csv", "--dry-run")

    assert "8 new" in out and "Dry run" in out
    assert not Client.objects.exists()


def test_export_respects_search_and_status_and_writes_to_stdout(sample_data):
    out, err = run("export_clients", "--search", "федорова", "--status", "archived")

    lines = out.strip("\ufeff").splitlines()
    assert len(lines) == 2 and "alena@example.com" in lines[1]
    assert "Exported 1 rows." in err
    out, _ = run("export_orders", "--format", "json", "--status", "Completed")
    assert '"Товар": "Ноутбук"' in out and "Монитор" not in out


def test_xlsx_export_to_file_streams_every_row(sample_data, tmp_path):
    path = tmp_path / "orders.xlsx"
    run("export_orders", "-o", str(path))

    sheet = openpyxl.load_workbook(path).active
    assert sheet.max_row == 5


def test_bad_status_filter_is_a_clear_command_error():
    with pytest.raises(CommandError, match="Unknown status"):
        run("export_orders", "--status", "Lost")
