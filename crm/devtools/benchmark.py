"""The benchmark behind `manage.py benchmark`: build a data set, serve it with gunicorn, time the operations.

Only loopback is used. Every loop is bounded, so a run ends by itself. An operation whose
endpoint answers 404 (not built yet) is shown as "n/a" instead of stopping the run.
"""

import json
from pathlib import Path

from crm.devtools.loadgen import orders_rate
from crm.devtools.operations import run_operations
from crm.devtools.server import HOST, WorkerMemory, prepare_server, sqlite_scratch_url
from crm.devtools.table import format_table, machine_description, summarize, utc_now


def run(*, database_url: str | None, clients: int, orders: int, days: int, reuse: bool, repeat: int,
        concurrent_requests: int, log, json_path: str | None = None, baseline_path: str | None = None,
        compare_sqlite: bool = False) -> str:
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
    memories = []
    try:
        for server in servers:
            server.start()
            memories.append(WorkerMemory(server.process.pid).__enter__())
        log(f"gunicorn on {', '.join(f'{HOST}:{server.port}' for server in servers)}; measuring ...")
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
                       machine=machine, interleaved=compare_sqlite)
        summaries.append(summary)
    if compare_sqlite:
        baseline = summaries[0]
    if json_path:
        Path(json_path).write_text(json.dumps(summaries[-1], ensure_ascii=False, indent=2))
    tables = [format_table(summary, database=summary["database"], clients=summary["clients"],
                           orders=summary["orders"], repeat=repeat, baseline=baseline if summary is summaries[-1]
                           else None) for summary in summaries]
    return "\n\n".join(tables)
