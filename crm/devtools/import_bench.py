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


# ---------------------------------------------------------------------------
# Through the admin: a real server, a real worker, every request timed (`bench_import --admin ROWS`)
# ---------------------------------------------------------------------------
REQUEST_LIMIT_SECONDS = 1.0


class WorkerMemory:
    """The worker process's peak RSS (VmHWM, as the kernel keeps it) and peak private memory (RssAnon,
    sampled): RSS also counts the pages of the SQLite file it maps (mmap_size), which are shared and
    reclaimable, RssAnon does not."""

    def __init__(self, pid: int):
        import threading

        self.pid = pid
        self.peak_rss_kb = 0
        self.peak_anon_kb = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def read(self) -> dict[str, int]:
        try:
            with open(f"/proc/{self.pid}/status") as status:
                return {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith(("VmHWM", "RssAnon"))}
        except (OSError, ValueError, IndexError):
            return {}

    def watch(self):
        while not self.stopped.wait(0.2):
            values = self.read()
            self.peak_rss_kb = max(self.peak_rss_kb, values.get("VmHWM", 0))
            self.peak_anon_kb = max(self.peak_anon_kb, values.get("RssAnon", 0))

    def cpu_seconds(self) -> float:
        """The worker's CPU time so far (user + system): the job's cost whatever else loads the machine."""
        import os

        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def stop(self):
        values = self.read()
        self.peak_rss_kb = max(self.peak_rss_kb, values.get("VmHWM", 0))
        self.stopped.set()
        self.thread.join()


class TimedSession:
    """An HTTP session of a staff member in the admin; remembers how long each request took."""

    def __init__(self, base_url: str):
        import requests

        self.base_url = base_url
        self.session = requests.Session()
        self.timings: list[tuple[str, float]] = []

    def request(self, step: str, method: str, path: str, **kwargs):
        started = time.perf_counter()
        response = self.session.request(method, self.base_url + path, allow_redirects=False, timeout=120, **kwargs)
        self.timings.append((step, time.perf_counter() - started))
        if response.status_code >= 400:
            raise ImportFailed(f"{step}: HTTP {response.status_code}")
        return response

    def csrf(self) -> str:
        return self.session.cookies.get("csrftoken", "")


def hidden_fields(html: str) -> dict[str, str]:
    import re
    from html import unescape

    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[unescape(name.group(1))] = unescape(value.group(1)) if value else ""
    return fields


def run_admin(*, rows: int, database_url: str | None, log, workers: int = 2) -> str:
    """Import `rows` new clients from one CSV through the admin of a real server (gunicorn) with a real worker
    (run_worker), on a scratch database; the table of request durations, the job's rate and the worker's memory."""
    import os
    import re
    import secrets
    import subprocess

    from crm.devtools.server import (
        BENCH_PASSWORD, BENCH_USER, HOST, ensure_postgres_database, free_port, manage, manage_command, server_env,
        start_server,
    )

    with tempfile.TemporaryDirectory(prefix="crm-import-bench-") as scratch:
        scratch = Path(scratch)
        if database_url:
            ensure_postgres_database(database_url)
        url = database_url or f"sqlite:///{scratch / 'bench.sqlite3'}"
        env = server_env(url)
        env.update(
            TASKS_BACKEND="database", JOBS_DIR=str(scratch / "jobs"), IMPORT_UPLOAD_DIR=str(scratch / "uploads"),
            IMPORT_MAX_ROWS=str(max(rows, int(env.get("IMPORT_MAX_ROWS", 0) or 0))), DJANGO_ENV_FILE="",
            # The default threshold (5,000), or below a smaller benchmark file so that it still goes to the worker.
            IMPORT_BACKGROUND_ROWS=str(min(int(env.get("IMPORT_BACKGROUND_ROWS", 5000) or 5000), max(rows - 1, 0))),
        )
        log(f"Scratch database: {url}")
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "shell", "-c", (
            "from django.contrib.auth.models import User\n"
            f"user = User.objects.filter(username='{BENCH_USER}').first() or User(username='{BENCH_USER}')\n"
            "user.is_staff = user.is_superuser = True\n"
            f"user.set_password('{BENCH_PASSWORD}')\n"
            "user.save()\n"
        ))
        manage(env, "collectstatic", "--noinput", "-v0")
        csv_path = scratch / "clients.csv"
        log(f"Writing {rows} clients to {csv_path.name} …")
        csv_path.write_bytes(encode(clients_file(rows), "csv"))
        size_mb = csv_path.stat().st_size / 1024 / 1024

        port = free_port()
        server = start_server(env, port, workers)
        worker = subprocess.Popen([*manage_command(), "run_worker", "--no-reload", "-v0"], env=env, cwd=settings_dir())
        memory = WorkerMemory(worker.pid)
        try:
            http = TimedSession(f"http://{HOST}:{port}")
            for _ in range(2 * workers):  # the server's workers load the app on their first request: not timed
                http.request("warm-up", "GET", "/admin/login/")
            http.request("log in", "POST", "/admin/login/", data={
                "username": BENCH_USER, "password": BENCH_PASSWORD, "csrfmiddlewaretoken": http.csrf(), "next": "/admin/",
            })
            http.timings.clear()  # the password hash's cost is the login's, not the import's
            cpu_before = memory.cpu_seconds()
            http.request("import page", "GET", "/admin/crm/client/import/")
            with csv_path.open("rb") as upload:
                page = http.request("upload (rows counted, nothing previewed)", "POST", "/admin/crm/client/import/", data={
                    "csrfmiddlewaretoken": http.csrf(), "resource": "0", "format": "0",
                }, files={"import_file": ("clients.csv", upload, "text/csv")})
            fields = hidden_fields(page.text)
            if "import_file_name" not in fields:
                raise ImportFailed("the upload did not lead to the background import's confirmation page")
            confirmed = http.request("confirm (job created)", "POST", "/admin/crm/client/process_import/", data=fields)
            job_path = confirmed.headers.get("Location", "")
            job_id = re.search(r"/jobs/job/(\d+)/", job_path)
            if not job_id:
                raise ImportFailed("the confirmation did not lead to a job page")
            job_id = job_id.group(1)
            http.request("job page", "GET", job_path)
            polls = 0
            while True:
                time.sleep(2)  # as the page's htmx does
                fragment = http.request("progress poll", "GET", f"/admin/jobs/job/{job_id}/progress/")
                polls += 1
                state = re.search(r'data-state="(\w+)"', fragment.text)
                if state and state.group(1) in ("done", "failed"):
                    break
            http.request("finished job page", "GET", job_path)
            job_cpu = memory.cpu_seconds() - cpu_before
        finally:
            memory.stop()
            worker.terminate()
            server.terminate()
            for process in (worker, server):
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        outcome = manage(env, "shell", "-c", (
            "from crm.jobs.models import Job; from crm.models import Client\n"
            f"job = Job.objects.get(pk={job_id})\n"
            "print(job.state, job.total, job.new, job.invalid, (job.finished_at - job.started_at).total_seconds(), "
            "Client.objects.count(), Client.history.count())\n"
        ), capture=True).split()
        vendor = "PostgreSQL" if url.startswith("postgres") else "SQLite"

    state, total, new, invalid, seconds, clients, history = outcome[-7:]
    if state != "done":
        raise ImportFailed(f"the job ended {state}: {invalid} invalid rows")
    seconds = float(seconds)
    by_step: dict[str, list[float]] = {}
    for step, duration in http.timings:
        by_step.setdefault(step, []).append(duration)
    slowest = max(duration for _step, duration in http.timings)
    lines = ["", f"{'request':<42} {'count':>5} {'max s':>7}", "-" * 56]
    for step, durations in by_step.items():
        lines.append(f"{step:<42} {len(durations):>5} {max(durations):>7.2f}")
    verdict = "pass" if slowest < REQUEST_LIMIT_SECONDS else "FAIL"
    lines += [
        "-" * 56,
        f"slowest request: {slowest:.2f} s (target < {REQUEST_LIMIT_SECONDS:.0f} s): {verdict}",
        f"job: {int(total)} rows, {int(new)} new, in {seconds:.1f} s = {int(total) / seconds:,.0f} rows/s "
        f"(started_at → finished_at; target ≥ 5,000 rows/s on SQLite)",
        f"the worker's CPU time for the job: {job_cpu:.1f} s = {int(total) / max(job_cpu, 0.001):,.0f} rows per CPU-second "
        f"(what the rate would be on an otherwise idle core)",
        f"worker peak RSS {memory.peak_rss_kb / 1024:.0f} MB (target < 300 MB), peak private memory (RssAnon) "
        f"{memory.peak_anon_kb / 1024:.0f} MB",
        f"{vendor}; {size_mb:.1f} MB CSV; the database holds {clients} clients and {history} history rows; "
        f"{polls} progress polls; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
    ]
    return "\n".join(lines)


def settings_dir():
    from django.conf import settings

    return settings.BASE_DIR
