"""The benchmark prints a Markdown table the README can take as it is: targets and pass/fail per row."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.devtools.table import format_table


def _summary(**overrides):
    summary = {
        "rows": [
            {"operation": "token", "median_ms": 400.0, "p95_ms": 500.0, "samples": 40},
            {"operation": "order list", "median_ms": 8.0, "p95_ms": 12.0, "samples": 40},
            {"operation": "order search 'ноутбук'", "median_ms": 19.9, "p95_ms": 26.5, "samples": 40},
            {"operation": "report year", "median_ms": 140.0, "p95_ms": 160.0, "samples": 10},
            {"operation": "admin dashboard", "median_ms": 310.0, "p95_ms": 320.0, "samples": 10},
            {"operation": "export all orders (CSV)", "median_ms": 19_943.0, "p95_ms": 19_943.0, "samples": 1},
            {"operation": "client page start_id=10000", "error": "n/a"},
        ],
        "rate": {"per_second": 217.0, "requests": 800, "errors": 0, "seconds": 3.7, "first_error": ""},
        "worker_peak_rss_mb": 150.0,
        "database": "SQLite 3.40.1",
        "date": "2026-11-28 20:00 UTC",
    }
    summary.update(overrides)
    return summary


def _row(table, operation):
    return next(line for line in table.splitlines() if line.startswith(f"| {operation}"))


def test_table_is_markdown_with_machine_date_and_a_verdict_per_row():
    table = format_table(_summary(), database="SQLite 3.40.1", clients=20000, orders=200000, repeat=40)
    assert table.startswith("### Benchmark: SQLite 3.40.1, 20,000 clients, 200,000 orders")
    assert "2026-11-28 20:00 UTC" in table and "cores" in table and "Python 3." in table
    assert "| operation | median ms | p95 ms | target | result |" in table
    assert _row(table, "order list |").endswith("| pass |")
    assert _row(table, "order search").endswith("| **FAIL** |")
    assert _row(table, "report year").endswith("| pass |")  # the yearly report: median <= 150 ms
    assert _row(table, "admin dashboard").endswith("| **FAIL** |")
    assert _row(table, "export all orders").endswith("| pass |")
    assert _row(table, "token").endswith("| — |")
    assert "| n/a |" in _row(table, "client page")
    assert "217 req/s" in _row(table, "orders list, 8 concurrent") and "**FAIL**" in _row(table, "orders list, 8")
    assert _row(table, "peak RSS").endswith("| pass |")
    # Every table row has the same number of cells as the header.
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert len({line.count(" | ") for line in rows if not line.startswith("|--")}) == 1


def test_postgresql_table_compares_each_operation_with_the_sqlite_run():
    sqlite = _summary()
    postgresql = _summary(database="PostgreSQL 15.8", rows=[
        {"operation": "order list", "median_ms": 11.0, "p95_ms": 14.0, "samples": 40},
        {"operation": "order search 'ноутбук'", "median_ms": 40.0, "p95_ms": 45.0, "samples": 40},
    ], rate={"per_second": 153.0, "requests": 800, "errors": 0, "seconds": 5.2, "first_error": ""})
    table = format_table(postgresql, database="PostgreSQL 15.8", clients=20000, orders=200000,
                         repeat=40, baseline=sqlite)
    assert "vs SQLite (≤ 1.5×)" in table and "within 1.5× of the SQLite run" in table
    assert _row(table, "order list").endswith("| 8.0 | 1.38× pass |")
    assert _row(table, "order search").endswith("| 19.9 | 2.01× **FAIL** |")
    assert _row(table, "orders list, 8 concurrent").endswith("| 217 req/s | 1.42× pass |")


def test_rate_with_failed_requests_fails_and_says_why():
    summary = _summary(rate={"per_second": 400.0, "requests": 790, "errors": 10, "seconds": 2.0,
                             "first_error": "RuntimeError: HTTP 503"})
    table = format_table(summary, database="SQLite", clients=1, orders=1, repeat=5)
    row = _row(table, "orders list, 8 concurrent")
    assert "10 failed: RuntimeError: HTTP 503" in row and row.endswith("| **FAIL** |")


def test_memory_target_is_judged_on_the_workers_private_memory_when_known():
    table = format_table(_summary(worker_peak_rss_mb=240.0, worker_peak_private_mb=90.0),
                         database="SQLite 3.40.1", clients=20000, orders=200000, repeat=40)
    assert _row(table, "peak private memory").endswith("| 90 MB |  | < 200 MB | pass |")
    assert _row(table, "peak RSS of a worker, incl.").endswith("| — |")
    failing = format_table(_summary(worker_peak_private_mb=250.0),
                           database="SQLite 3.40.1", clients=20000, orders=200000, repeat=40)
    assert _row(failing, "peak private memory").endswith("| **FAIL** |")


def test_a_table_compared_in_the_same_run_says_so():
    sqlite = _summary(interleaved=True)
    postgresql = _summary(database="PostgreSQL 15.8", interleaved=True)
    table = format_table(postgresql, database="PostgreSQL 15.8", clients=20000, orders=200000,
                         repeat=40, baseline=sqlite)
    assert "SQLite 3.40.1 served beside it in the same run" in table
    assert _row(table, "order list |").endswith("| 8.0 | 1.00× pass |")


def test_compare_sqlite_needs_a_database_to_compare():
    with pytest.raises(CommandError, match="--compare-sqlite"):
        call_command("benchmark", "--compare-sqlite")
