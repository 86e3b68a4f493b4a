"""Import many clients and orders into a scratch database and time each step (`manage.py bench_import`).

The scratch database is the test database of the configured backend (`test_<name>` on PostgreSQL, a
temporary file on SQLite), created with migrations and dropped afterwards; the real data is not touched.
"""

import io
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from crm.importexport.exports import export_to_stream
from crm.importexport.formats import FORMATS_BY_NAME
from crm.importexport.resources import ClientResource, OrderResource
from crm.importexport.results import result_failed, result_problems
from crm.models import Client, Order

STATUSES = ("В ожидании", "Завершён", "Отменён", "Completed")


def clients_file(count: int) -> list[list]:
    rows = [["Фамилия", "Имя", "Отчество", "E-mail", "Мобильный телефон", "Статус"]]
    for i in range(count):
        rows.append([f"Иванов{i}", "Иван", "Иванович", f"client{i}@example.com", f"+7 900 {i:07d}", "Активен"])
    return rows


def orders_file(count: int, clients: int) -> list[list]:
    rows = [["E-mail клиента", "Товар", "Количество", "Цена", "Описание", "Статус", "Создан"]]
    for i in range(count):
        rows.append([
            f"CLIENT{i % clients}@example.com", f"Товар {i}", 1 + i % 5, f"{100 + i % 9000},50",
            "Заказ из таблицы", STATUSES[i % len(STATUSES)], f"{1 + i % 28:02d}.0{1 + i % 9}.2024 12:00",
        ])
    return rows


def encode(rows: list[list], fmt: str) -> bytes:
    if fmt == "xlsx":
        from crm.importexport.formats import write_xlsx

        stream = io.BytesIO()
        write_xlsx(stream, rows[0], rows[1:])
        return stream.getvalue()
    if fmt == "json":
        from crm.importexport.formats import write_json

        stream = io.StringIO()
        write_json(stream, rows[0], rows[1:])
        return stream.getvalue().encode()
    # As Russian Excel saves it: Windows-1251, semicolons.
    return "\r\n".join(";".join(str(cell) for cell in row) for row in rows).encode("cp1251")


class ImportFailed(Exception):
    """An import of the benchmark's own file reported errors: the first of them, one per line."""


@contextmanager
def scratch_database(log):
    """Create the backend's test database, with migrations, for the duration of the block; drop it after."""
    old_name = connection.settings_dict["NAME"]
    scratch_dir = None
    if connection.vendor == "sqlite":
        # A file (not the default in-memory test database) so the numbers match a real deployment.
        scratch_dir = tempfile.TemporaryDirectory()
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(Path(scratch_dir.name) / "bench.sqlite3")
    log("Creating the scratch database…")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        log(f"Scratch database: {connection.settings_dict['NAME']}")
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if scratch_dir:
            scratch_dir.cleanup()


def run(*, clients: int, orders: int, fmt: str, log) -> str:
    """Time the imports and exports in a scratch database; return the table of rows per second."""
    with scratch_database(log):
        return time_imports(clients, orders, fmt, log=log)


def time_imports(clients: int, orders: int, fmt: str, *, log) -> str:
    file_format = FORMATS_BY_NAME[fmt]()
    timings = []

    def measure(step, rows, work):
        started = time.perf_counter()
        value = work()
        seconds = time.perf_counter() - started
        timings.append((step, rows, seconds))
        log(f"  {step}: {seconds:.2f} s")
        return value

    def run_import(resource_class, data, dry_run):
        dataset = file_format.create_dataset(data)
        result = resource_class().import_data(dataset, dry_run=dry_run, file_name=f"bench.{fmt}")
        if result_failed(result):
            raise ImportFailed("\n".join(result_problems(result)[:20]))
        return result

    clients_data = encode(clients_file(clients), fmt)
    orders_data = encode(orders_file(orders, clients), fmt)
    measure(f"read {fmt} (clients)", clients, lambda: file_format.create_dataset(clients_data))
    measure("clients: preview (dry run)", clients, lambda: run_import(ClientResource, clients_data, True))
    measure("clients: import (new)", clients, lambda: run_import(ClientResource, clients_data, False))
    measure("clients: re-import (unchanged)", clients, lambda: run_import(ClientResource, clients_data, False))
    archived = clients_file(clients)
    archived[1:] = [row[:5] + ["В архиве"] for row in archived[1:]]
    changed = encode(archived, fmt)
    measure("clients: re-import (all changed)", clients, lambda: run_import(ClientResource, changed, False))
    measure("orders: preview (dry run)", orders, lambda: run_import(OrderResource, orders_data, True))
    measure("orders: import (new)", orders, lambda: run_import(OrderResource, orders_data, False))
    for name in ("csv", "xlsx"):
        export_format = FORMATS_BY_NAME[name]()
        stream = io.BytesIO() if name == "xlsx" else io.StringIO()
        measure(f"orders: export {name}", orders,
                lambda: export_to_stream(OrderResource(), Order.objects.order_by("id"), export_format, stream))

    assert Client.objects.count() == clients and Order.objects.count() == orders
    assert not Client.objects.filter(status="active").exists()
    assert Client.history.count() >= clients and Order.history.count() == orders

    lines = ["", f"{'step':<36} {'rows':>8} {'seconds':>9} {'rows/s':>9}", "-" * 65]
    for step, rows, seconds in timings:
        lines.append(f"{step:<36} {rows:>8} {seconds:>9.2f} {rows / seconds:>9.0f}")
    lines.append(f"\n{connection.vendor}, {fmt} files; the database holds {Client.objects.count()} clients "
                 f"and {Order.objects.count()} orders, with their history.")
    return "\n".join(lines)
