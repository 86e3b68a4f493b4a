"""The benchmark behind `manage.py benchmark`: build a data set, serve it with granian, time the operations.

Only loopback is used. Every loop is bounded, so a run ends by itself. An operation whose
endpoint answers 404 (not built yet) is shown as "n/a" instead of stopping the run.
"""

import json
from dataclasses import replace
from pathlib import Path

from crm.devtools.loadgen import (
    Session, bench_token, generator_ceiling, keep_alive_rate, orders_list_request, orders_rate,
)
from crm.devtools.operations import run_operations
from crm.devtools.server import HOST, Workers, WorkerMemory, prepare_server, scaled_url, sqlite_scratch_url
from crm.devtools.table import (
    format_scale_table, format_table, format_throughput_table, machine_description, summarize, utc_now,
)


def run(*, database_url: str | None, clients: int, orders: int, days: int, reuse: bool, repeat: int,
        concurrent_requests: int, log, json_path: str | None = None, baseline_path: str | None = None,
        compare_sqlite: bool = False, workers: Workers = Workers()) -> str:
    """Build (or reuse) the data set, serve it, measure, and return the table (Markdown).

    With compare_sqlite, a SQLite copy of the data set is served beside `database_url` and every
    operation's requests alternate between the two servers: both tables come from the same minutes
    of the same machine, so the ratio column does not depend on how busy the machine was in each run.
    """
    baseline = json.loads(Path(baseline_path).read_text()) if baseline_path else None
    servers = []
    if compare_sqlite:
        servers.append(prepare_server(sqlite_scratch_url(reuse), clients=clients, orders=orders, days=days,
                                      reuse=reuse, log=log))
    servers.append(prepare_server(database_url or sqlite_scratch_url(reuse), clients=clients, orders=orders,
                                  days=days, reuse=reuse, log=log))
    servers = [replace(server, workers=workers) for server in servers]
    memories = []
    try:
        for server in servers:
            server.start()
            memories.append(WorkerMemory(server.process.pid).__enter__())
        log(f"{workers} on {', '.join(f'{HOST}:{server.port}' for server in servers)}; measuring ...")
        results = run_operations([server.port for server in servers], repeat=repeat, log=log)
        rates = [orders_rate(server.port, concurrent_requests=concurrent_requests, log=log) for server in servers]
    finally:
        for memory in memories:
            memory.__exit__(None, None, None)
        for server in servers:
            server.stop()
    date, machine = utc_now(), machine_description()
    summaries = []
    for server, server_results, rate, memory in zip(servers, results, rates, memories):
        summary = summarize(server_results, rate=rate, rss=memory.peak_mb, private=memory.private_peak_mb)
        summary.update(database=server.database, clients=server.clients, orders=server.orders, date=date,
                       machine=machine, interleaved=compare_sqlite, workers=str(workers))
        summaries.append(summary)
    if compare_sqlite:
        baseline = summaries[0]
    if json_path:
        Path(json_path).write_text(json.dumps(summaries[-1], ensure_ascii=False, indent=2))
    tables = [format_table(summary, database=summary["database"], clients=summary["clients"],
                           orders=summary["orders"], repeat=repeat, baseline=baseline if summary is summaries[-1]
                           else None) for summary in summaries]
    return "\n\n".join(tables)


def run_scale(*, database_urls: list[str | None], small: tuple[int, int], big: tuple[int, int], days: int,
              reuse: bool, repeat: int, rate_seconds: float, log, workers: Workers = Workers(),
              json_path: str | None = None) -> str:
    """Two data sets per database (None: a scratch SQLite file), every server measured in the same run with
    the requests of each operation taking turns; one table per database with the growth from small to big."""
    servers = []
    for url in database_urls:
        for clients, orders in (small, big):
            target = scaled_url(url, clients=clients, orders=orders, reuse=reuse) if (clients, orders) == big \
                else (url or sqlite_scratch_url(reuse))
            server = prepare_server(target, clients=clients, orders=orders, days=days, reuse=reuse, log=log)
            servers.append(replace(server, workers=workers))
    try:
        for server in servers:
            server.start()
        log(f"{workers} on {', '.join(f'{HOST}:{server.port}' for server in servers)}; measuring ...")
        results = run_operations([server.port for server in servers], repeat=repeat, log=log, export=False)
        rates = []
        for server in servers:
            log(f"8 kept-alive connections on the orders list for {rate_seconds:.0f} s (port {server.port}) ...")
            rates.append(keep_alive_rate(server.port, orders_list_request(bench_token(server.port)), connections=8,
                                         seconds=rate_seconds))
    finally:
        for server in servers:
            server.stop()
    log("The load generator's own ceiling (a trivial loopback server) ...")
    ceiling = generator_ceiling(seconds=min(rate_seconds, 5.0))
    date, machine = utc_now(), machine_description()
    summaries = []
    for server, server_results, rate in zip(servers, results, rates):
        summary = summarize(server_results, rate=rate, rss=None)
        summary.update(database=server.database, clients=server.clients, orders=server.orders, date=date,
                       machine=machine, workers=str(workers))
        summaries.append(summary)
    if json_path:
        Path(json_path).write_text(json.dumps(summaries, ensure_ascii=False, indent=2))
    tables = [format_scale_table(summaries[index], summaries[index + 1], repeat=repeat, ceiling=ceiling,
                                 rate_seconds=rate_seconds) for index in range(0, len(summaries), 2)]
    return "\n\n".join(tables)


def run_throughput(*, database_url: str | None, clients: int, orders: int, days: int, reuse: bool,
                   settings: list[Workers], seconds: float, log) -> str:
    """Requests per second on the orders list with 8 concurrent connections, kept alive and new per request,
    under each server setting in turn, on one data set; plus the load generator's own ceiling."""
    server = prepare_server(database_url or sqlite_scratch_url(reuse), clients=clients, orders=orders, days=days,
                            reuse=reuse, log=log)
    rows = []
    for workers in settings:
        candidate = replace(server, workers=workers)
        candidate.start()
        try:
            token = bench_token(candidate.port)
            Session(candidate.port, token=token).request("POST", "/api/orders/get/", {})  # warm-up
            log(f"{workers}: kept-alive connections ...")
            kept = keep_alive_rate(candidate.port, orders_list_request(token), connections=8, seconds=seconds)
            log(f"{workers}: a new connection per request ...")
            fresh = keep_alive_rate(candidate.port, orders_list_request(token, keep_alive=False), connections=8,
                                    seconds=seconds)
        finally:
            candidate.stop()
        rows.append((str(workers), kept, fresh))
    ceiling = generator_ceiling(seconds=min(seconds, 5.0))
    return format_throughput_table(server.database, server.clients, server.orders, rows, ceiling=ceiling,
                                   seconds=seconds)
