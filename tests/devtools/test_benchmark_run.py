"""The benchmark end to end on a tiny data set: gunicorn really serves it and every operation is timed."""

import os

import psycopg
import pytest

from crm.devtools import benchmark

OPERATIONS = ("token", "client list", "client search 'анатолий'", "client page start_id=10000", "order list",
              "order page start_id=100000", "order search 'ноутбук'", "orders of one client", "add order",
              "get order", "edit order", "report week", "report year", "admin client list", "admin order list",
              "admin dashboard", "export all orders (CSV)", "orders list, 8 concurrent connections")


def _drop_database(database_url: str) -> None:
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.mark.slow
def test_the_benchmark_times_every_operation_against_a_real_server(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_SQLITE_FILE", str(tmp_path / "bench.sqlite3"))
    database_url = os.environ.get("DATABASE_URL", "")
    compare = database_url.startswith("postgres")
    if compare:  # The PostgreSQL leg of CI: both servers, their requests taking turns.
        database_url += "_benchmark"  # Named after DATABASE_URL: runs on other databases never drop it.
        _drop_database(database_url)
    try:
        table = benchmark.run(database_url=database_url or None, clients=40, orders=200, days=30, reuse=False,
                              repeat=2, concurrent_requests=2, log=lambda message: None, compare_sqlite=compare)
    finally:
        if compare:
            _drop_database(database_url)
    tables = table.split("### Benchmark: ")[1:]
    assert len(tables) == (2 if compare else 1)
    for one_table in tables:
        rows = [line for line in one_table.splitlines() if line.startswith("| ")]
        for operation in OPERATIONS:
            assert any(row.startswith(f"| {operation}") for row in rows), operation
        assert not [row for row in rows if "error" in row or "n/a" in row]
    if compare:
        assert tables[1].startswith("PostgreSQL") and "served beside it in the same run" in tables[1]
