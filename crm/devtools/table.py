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
    for name in ("Django", "djangorestframework", "gunicorn"):
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
        f"gunicorn with 2 sync workers and production settings on loopback; one client opening a new "
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
        add("peak private memory (RssAnon) of a gunicorn worker (whole run, export included)",
            f"{private:,.0f} MB", "", f"< {WORKER_MB:.0f} MB", private < WORKER_MB, " — | — |")
        add("peak RSS of a worker, incl. the shared memory-mapped database file", f"{rss:,.0f} MB" if rss else "n/a",
            "", "", None, " — | — |")
    else:
        add("peak RSS of a gunicorn worker (whole run, export included)", f"{rss:,.0f} MB" if rss else "n/a", "",
            f"< {WORKER_MB:.0f} MB", (rss < WORKER_MB) if rss else None, " — | — |")
    return "\n".join(lines)
