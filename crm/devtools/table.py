"""The benchmark's result: targets (issue 7), the run as plain data, and the Markdown table for the README."""

import datetime
import importlib.metadata
import os
import platform
import re
import statistics
from pathlib import Path

from crm.devtools.loadgen import RateResult

API_MEDIAN_MS, API_P95_MS = 15.0, 40.0
REPORT_MS = 150.0
ADMIN_MS = 300.0
EXPORT_MS = 30_000.0
RATE_PER_SECOND = 300.0
WORKER_MB = 200.0
POSTGRESQL_FACTOR = 1.5


def latency_target(name: str) -> tuple[str, object]:
    """The target of one timed operation, as text and as a check of (median, p95); (—, None) if it has none."""
    if name == "token":
        return "—", None  # Password hashing is slow on purpose; the issue sets no bound.
    if name.startswith("report"):
        return f"median ≤ {REPORT_MS:.0f} ms", lambda median, p95: median <= REPORT_MS
    if name.startswith("admin"):
        return f"median ≤ {ADMIN_MS:.0f} ms", lambda median, p95: median <= ADMIN_MS
    if name.startswith("export"):
        return f"< {EXPORT_MS / 1000:.0f} s", lambda median, p95: median < EXPORT_MS
    return (f"median ≤ {API_MEDIAN_MS:.0f}, p95 ≤ {API_P95_MS:.0f} ms",
            lambda median, p95: median <= API_MEDIAN_MS and p95 <= API_P95_MS)


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("pass" if ok else "**FAIL**")


def summarize(results, *, rate, rss, private=None) -> dict:
    """The run as plain data (written with --json, read back with --baseline)."""
    rows = []
    for name, samples in results:
        if isinstance(samples, str):
            rows.append({"operation": name, "error": samples})
        else:
            rows.append({"operation": name, "median_ms": statistics.median(samples),
                         "p95_ms": percentile(samples, 0.95), "samples": len(samples)})
    if isinstance(rate, RateResult):
        rate_data = {"per_second": rate.per_second, "requests": rate.requests, "errors": rate.errors,
                     "seconds": rate.seconds, "first_error": rate.first_error}
    else:
        rate_data = {"error": rate}
    return {"rows": rows, "rate": rate_data, "worker_peak_rss_mb": rss, "worker_peak_private_mb": private}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def machine_description() -> str:
    """CPU model, cores, memory, OS, Python and the main packages: the line under the README's table."""
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = re.sub(r"\s+", " ", match.group(1)).strip() if match else cpu
        match = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        memory = f", {int(match.group(1)) / 1024 / 1024:.0f} GiB RAM" if match else ""
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    packages = []
    for name in ("Django", "djangorestframework", "granian", "gunicorn"):
        try:
            packages.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return (f"{cpu}, {cores} cores{memory}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; {', '.join(packages)}")


def format_table(summary: dict, *, database: str, clients: int, orders: int, repeat: int,
                 baseline: dict | None = None) -> str:
    """A Markdown block for the README: title, date and machine, then one row per operation with its
    target and pass/fail; with a baseline (the SQLite run's --json), also the ratio to it (≤ 1.5×)."""
    compare = baseline is not None
    baseline_rows = {row["operation"]: row for row in (baseline or {}).get("rows", [])}
    title = f"### Benchmark: {database}, {clients:,} clients, {orders:,} orders"
    lines = [
        title,
        "",
        f"{summary.get('date') or utc_now()}; {machine_description()}.  ",
        f"{summary.get('workers', 'gunicorn, 2 sync workers')}, production settings, loopback; one client opening a new "
        f"connection per request; {repeat} timed requests per operation after a warm-up (reports and admin "
        f"pages {max(3, repeat // 4)}, the export 1).",
        "",
    ]
    if compare:
        if baseline.get("interleaved"):
            source = (f"{baseline.get('database', 'SQLite')} served beside it in the same run, each operation's "
                      "requests alternating between the two servers")
        else:
            source = f"the SQLite run ({baseline.get('database', 'SQLite')}, {baseline.get('date', '')})"
        lines[-1:-1] = ["", f"The targets are set for SQLite; {database} must be within {POSTGRESQL_FACTOR}× of "
                        f"{source}, last column."]
    header = "| operation | median ms | p95 ms | target | result |"
    rule = "|---|--:|--:|---|:-:|"
    if compare:
        header += " SQLite median ms | vs SQLite (≤ 1.5×) |"
        rule += "--:|:-:|"
    lines += [header, rule]

    def add(name, median_text, p95_text, target_text, ok, ratio_cells=""):
        row = f"| {name} | {median_text} | {p95_text} | {target_text} | {verdict(ok)} |"
        lines.append(row + (ratio_cells if compare else ""))

    def ratio_cells(name, value, has_target=True):
        base = baseline_rows.get(name, {}).get("median_ms")
        if base is None or value is None:
            return " — | — |"
        ratio = value / base
        return f" {base:,.1f} | {ratio:.2f}× {verdict(ratio <= POSTGRESQL_FACTOR if has_target else None)} |"

    for row in summary["rows"]:
        name = row["operation"]
        target_text, check = latency_target(name)
        if "error" in row:
            add(name, row["error"], "", target_text, None, ratio_cells(name, None))
            continue
        median, p95 = row["median_ms"], row["p95_ms"]
        ok = check(median, p95) if check else None
        add(name, f"{median:,.1f}", f"{p95:,.1f}" if row["samples"] > 1 else "", target_text, ok,
            ratio_cells(name, median, check is not None))

    rate = summary["rate"]
    rate_name = "orders list, 8 concurrent connections"
    if "error" in rate:
        add(rate_name + " (req/s)", rate["error"], "", f"≥ {RATE_PER_SECOND:.0f} req/s", None, " — | — |")
    else:
        ok = rate["per_second"] >= RATE_PER_SECOND and not rate["errors"]
        note = f" ({rate['errors']} failed: {rate['first_error']})" if rate["errors"] else ""
        base_rate = (baseline or {}).get("rate", {}).get("per_second")
        cells = (f" {base_rate:,.0f} req/s | {base_rate / rate['per_second']:.2f}× "
                 f"{verdict(base_rate / rate['per_second'] <= POSTGRESQL_FACTOR)} |"
                 if base_rate and rate["per_second"] else " — | — |")
        add(rate_name + f" (req/s){note}", f"{rate['per_second']:,.0f} req/s", "",
            f"≥ {RATE_PER_SECOND:.0f} req/s", ok, cells)
    rss = summary["worker_peak_rss_mb"]
    private = summary.get("worker_peak_private_mb")
    if private:
        add("peak private memory (RssAnon) of a server worker (whole run, export included)",
            f"{private:,.0f} MB", "", f"< {WORKER_MB:.0f} MB", private < WORKER_MB, " — | — |")
        add("peak RSS of a worker, incl. the shared memory-mapped database file", f"{rss:,.0f} MB" if rss else "n/a",
            "", "", None, " — | — |")
    else:
        add("peak RSS of a server worker (whole run, export included)", f"{rss:,.0f} MB" if rss else "n/a", "",
            f"< {WORKER_MB:.0f} MB", (rss < WORKER_MB) if rss else None, " — | — |")
    return "\n".join(lines)


# Issue 16: the same speed at ten times the data (measured at the big data set, growth against the small one).
SCALE_API_MS, SCALE_GROWTH = 10.0, 1.2
SCALE_REPORT_MS = {"report week": 30.0, "report month": 30.0, "report year": 50.0}
SCALE_RATE_PER_SECOND = 1000.0


def scale_target(name: str) -> tuple[str, object]:
    """The issue-16 target of an operation as text and as a check of (big median, growth); (—, None) if none."""
    if name == "token":
        return "—", None
    if name in SCALE_REPORT_MS:
        limit = SCALE_REPORT_MS[name]
        return f"≤ {limit:.0f} ms", lambda median, growth: median <= limit
    if name.startswith("admin"):
        return f"≤ {ADMIN_MS:.0f} ms", lambda median, growth: median <= ADMIN_MS
    return (f"≤ {SCALE_API_MS:.0f} ms, growth ≤ {SCALE_GROWTH}×",
            lambda median, growth: median <= SCALE_API_MS and growth <= SCALE_GROWTH)


def format_scale_table(small: dict, big: dict, *, repeat: int, ceiling: RateResult | None = None,
                       rate_seconds: float = 0) -> str:
    """A Markdown block: one row per operation with its median on the small and the big data set, the growth
    and the target at the big one."""
    lines = [
        f"### Scale: {big['database']}, {small['clients']:,} clients / {small['orders']:,} orders → "
        f"{big['clients']:,} clients / {big['orders']:,} orders",
        "",
        f"{big.get('date') or utc_now()}; {big.get('machine') or machine_description()}.  ",
        f"{big.get('workers', '')}, production settings, loopback; both servers in one run, each "
        f"operation's requests taking turns between them; one client, a new connection per request; {repeat} "
        f"timed requests per operation after a warm-up (reports and admin pages {max(3, repeat // 4)}).",
        "",
        "| operation | small median ms | big median ms | growth (big/small) | target (big) | result |",
        "|---|--:|--:|--:|---|:-:|",
    ]
    small_rows = {row["operation"]: row for row in small["rows"]}
    for row in big["rows"]:
        name = row["operation"]
        target_text, check = scale_target(name)
        before = small_rows.get(name, {})
        if "error" in row or "median_ms" not in before:
            cells = [f"{side['median_ms']:,.1f}" if "median_ms" in side else side.get("error", "—")
                     for side in (before, row)]
            lines.append(f"| {name} | {cells[0]} | {cells[1]} | — | {target_text} | — |")
            continue
        growth = row["median_ms"] / before["median_ms"] if before["median_ms"] else float("inf")
        ok = check(row["median_ms"], growth) if check else None
        lines.append(f"| {name} | {before['median_ms']:,.1f} | {row['median_ms']:,.1f} | {growth:.2f}× | "
                     f"{target_text} | {verdict(ok)} |")
    small_rate, big_rate = small["rate"], big["rate"]
    name = f"orders list, 8 kept-alive connections, {rate_seconds:.0f} s (req/s)"
    if "error" in small_rate or "error" in big_rate:
        lines.append(f"| {name} | {small_rate.get('error', '')} | {big_rate.get('error', '')} | — | — | — |")
    else:
        failed = f" ({big_rate['errors']} failed: {big_rate['first_error']})" if big_rate["errors"] else ""
        ok = big_rate["per_second"] >= SCALE_RATE_PER_SECOND and not big_rate["errors"]
        growth = small_rate["per_second"] / big_rate["per_second"] if big_rate["per_second"] else float("inf")
        lines.append(f"| {name}{failed} | {small_rate['per_second']:,.0f} | {big_rate['per_second']:,.0f} | "
                     f"{growth:.2f}× | ≥ {SCALE_RATE_PER_SECOND:,.0f} req/s | {verdict(ok)} |")
    if ceiling is not None:
        lines += ["", f"The load generator's own ceiling (8 kept-alive connections to a loopback server that "
                      f"answers at once): {ceiling.per_second:,.0f} req/s."]
    return "\n".join(lines)


def format_throughput_table(database: str, clients: int, orders: int, rows, *, ceiling: RateResult,
                            seconds: float) -> str:
    """A Markdown block: req/s on the orders list with 8 connections under each server setting."""
    lines = [
        f"### Throughput: {database}, {clients:,} clients, {orders:,} orders",
        "",
        f"{utc_now()}; {machine_description()}.  ",
        f"The orders list (POST /api/orders/get/) with 8 concurrent connections for {seconds:.0f} s per cell; "
        f"the load generator (crm/devtools/loadgen.py) reaches {ceiling.per_second:,.0f} req/s against a loopback "
        "server that answers at once.",
        "",
        "| server | kept-alive connections (req/s) | a new connection per request (req/s) | target |",
        "|---|--:|--:|---|",
    ]
    for setting, kept, fresh in rows:
        cells = []
        for result in (kept, fresh):
            failed = f" ({result.errors} failed: {result.first_error})" if result.errors else ""
            cells.append(f"{result.per_second:,.0f}{failed}")
        lines.append(f"| {setting} | {cells[0]} | {cells[1]} | ≥ {SCALE_RATE_PER_SECOND:,.0f} req/s |")
    return "\n".join(lines)
