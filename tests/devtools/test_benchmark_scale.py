"""benchmark --scale and --throughput: the growth table, server settings, the kept-alive load generator."""

import http.server
import threading

import pytest
from django.core.management import CommandError, call_command

from crm.devtools import benchmark, loadgen
from crm.devtools.server import HOST, Workers, scaled_url
from crm.devtools.table import format_scale_table


def _summary(clients, orders, medians, per_second):
    return {
        "database": "SQLite 3.40.1", "clients": clients, "orders": orders, "date": "2026-11-30 04:00 UTC",
        "machine": "test machine", "workers": "2 gthread workers × 4 threads",
        "rows": [{"operation": name, "median_ms": median, "p95_ms": median, "samples": 4}
                 for name, median in medians.items()],
        "rate": {"per_second": per_second, "requests": 100, "errors": 0, "seconds": 1.0, "first_error": ""},
    }


def _row(table, operation):
    return next(line for line in table.splitlines() if line.startswith(f"| {operation} |"))


def test_the_scale_table_shows_growth_and_checks_each_target_at_the_big_set():
    small = _summary(20_000, 200_000, {"order list": 5.0, "edit client": 6.0, "report month": 15.0,
                                       "report year": 40.0, "admin dashboard": 100.0}, 1200)
    big = _summary(200_000, 2_000_000, {"order list": 5.5, "edit client": 8.0, "report month": 231.6,
                                        "report year": 45.0, "admin dashboard": 280.0}, 1100)
    table = format_scale_table(small, big, repeat=4)
    assert "| operation | small median ms | big median ms | growth (big/small) | target (big) | result |" in table
    assert "20,000 clients / 200,000 orders → 200,000 clients / 2,000,000 orders" in table
    assert _row(table, "order list").endswith("| 5.0 | 5.5 | 1.10× | ≤ 10 ms, growth ≤ 1.2× | pass |")
    # Under 10 ms, but a third slower with ten times the clients: the growth fails it.
    assert _row(table, "edit client").endswith("| 1.33× | ≤ 10 ms, growth ≤ 1.2× | **FAIL** |")
    assert _row(table, "report month").endswith("| ≤ 30 ms | **FAIL** |")
    assert _row(table, "report year").endswith("| ≤ 50 ms | pass |")
    assert _row(table, "admin dashboard").endswith("| 2.80× | ≤ 300 ms | pass |")
    assert "| 1,200 | 1,100 |" in table and "≥ 1,000 req/s | pass |" in table


def test_an_operation_missing_on_one_server_is_shown_without_a_verdict():
    small = _summary(10, 10, {"order list": 5.0}, 900)
    big = _summary(20, 20, {}, 800)
    big["rows"] = [{"operation": "order list", "error": "n/a"}]
    table = format_scale_table(small, big, repeat=4)
    assert _row(table, "order list").endswith("| 5.0 | n/a | — | ≤ 10 ms, growth ≤ 1.2× | — |")
    assert "≥ 1,000 req/s | **FAIL** |" in table


@pytest.mark.parametrize(("text", "arguments"), [
    ("4:sync", ["--workers=4", "--worker-class=sync", "--keep-alive=5"]),
    ("3:gthread:8", ["--workers=3", "--worker-class=gthread", "--keep-alive=5", "--threads=8"]),
    ("2:gthread", ["--workers=2", "--worker-class=gthread", "--keep-alive=5", "--threads=4"]),
])
def test_gunicorn_settings_parse_into_its_arguments(text, arguments):
    command = Workers.parse(text).command(8000)
    assert command[0].endswith("/gunicorn") and f"--bind={HOST}:8000" in command
    assert [argument for argument in command if argument.split("=")[0] in (
        "--workers", "--worker-class", "--keep-alive", "--threads")] == arguments


@pytest.mark.parametrize(("text", "workers", "threads"), [("2", 2, 2), ("2:granian", 2, 2), ("3:granian:4", 3, 4)])
def test_granian_is_the_default_server(text, workers, threads):
    command = Workers.parse(text).command(8000)
    assert command[0].endswith("/granian")
    assert {"--interface=wsgi", f"--host={HOST}", "--port=8000", f"--workers={workers}",
            f"--blocking-threads={threads}"} <= set(command)
    assert str(Workers.parse(text)) == f"granian, {workers} workers × {threads} threads"


@pytest.mark.parametrize("text", ["", "two", "0", "2:eventlet", "2:gthread:0", "2:gthread:x", "2:sync:4",
                                  "2:granian:2:1"])
def test_a_bad_worker_setting_is_refused(text):
    with pytest.raises(ValueError, match="not a worker setting"):
        Workers.parse(text)


def test_the_big_data_set_lives_beside_the_small_one(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_SQLITE_FILE", str(tmp_path / "bench.sqlite3"))
    assert scaled_url(None, clients=200000, orders=2000000, reuse=True) == (
        f"sqlite:///{tmp_path / 'bench_200000x2000000.sqlite3'}")
    assert scaled_url("postgres://postgres@127.0.0.1:5432/crm_bench", clients=2, orders=3, reuse=True) == (
        "postgres://postgres@127.0.0.1:5432/crm_bench_2x3")


@pytest.mark.parametrize(("arguments", "message"), [
    (["--scale", "200000"], "КЛИЕНТЫ:ЗАКАЗЫ"),  # Russian, the default language
    (["--scale", "0:5"], "КЛИЕНТЫ:ЗАКАЗЫ"),
    (["--scale", "20000:200000"], "должен отличаться"),
    (["--scale", "2:3", "--workers", "2:fast"], "not a worker setting"),
])
def test_the_command_refuses_bad_options_before_building_anything(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("benchmark", *arguments)


class _KeptAliveStub:
    """A loopback HTTP/1.1 server that keeps connections open (or, with `close`, closes after each answer)."""

    def __init__(self, *, close=False):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = b'{"orders":[]}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                if close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("close", [False, True])
def test_kept_alive_clients_reuse_their_connection_unless_the_server_closes_it(close):
    stub = _KeptAliveStub(close=close)
    try:
        result = loadgen.keep_alive_rate(stub.port, loadgen.orders_list_request("t"), connections=3, seconds=0.5)
    finally:
        stub.close()
    assert result.requests > 3 and result.errors == 0
    assert result.connects == (result.requests if close else 3)


def test_the_load_generator_measures_its_own_ceiling():
    result = loadgen.generator_ceiling(connections=2, seconds=0.5)
    assert result.errors == 0 and result.per_second > 100


@pytest.mark.slow
def test_scale_and_throughput_runs_measure_two_real_servers(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_SQLITE_FILE", str(tmp_path / "bench.sqlite3"))
    table = benchmark.run_scale(database_urls=[None], small=(20, 60), big=(40, 120), days=30, reuse=False,
                                repeat=2, rate_seconds=0.5, log=lambda message: None)
    assert "20 clients / 60 orders → 40 clients / 120 orders" in table
    rows = [line for line in table.splitlines() if line.startswith("| ")][2:]
    for operation in ("order list", "add client", "edit client", "delete client", "delete order", "report month",
                      "admin order list", "orders list, 8 kept-alive connections"):
        assert any(row.startswith(f"| {operation}") for row in rows), operation
    assert not [row for row in rows if "error" in row or "n/a" in row]
    # --reuse serves the same two files again, and the throughput mode tries each gunicorn setting.
    table = benchmark.run_throughput(database_url=None, clients=20, orders=60, days=30, reuse=True,
                                     settings=[Workers.parse("1:sync"), Workers.parse("1:granian:1")], seconds=0.5,
                                     log=lambda message: None)
    assert "| gunicorn, 1 sync workers |" in table and "| granian, 1 workers × 1 threads |" in table
    assert "failed" not in table
