"""The benchmark behind `manage.py benchmark`: build a data set, serve it with gunicorn, time the operations.

Only loopback is used. Every loop is bounded, so a run ends by itself. An operation whose
endpoint answers 404 (not built yet) is shown as "n/a" instead of stopping the run.
"""

import http.client
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings

HOST = "127.0.0.1"
BENCH_USER = "bench"
BENCH_PASSWORD = "bench-pass-12345"
BENCH_SECRET_KEY = "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
MANAGE = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]


class NotAvailable(Exception):
    """The endpoint does not exist (yet)."""


# ---------------------------------------------------------------------------
# Data set and server
# ---------------------------------------------------------------------------
def server_env(database_url: str) -> dict[str, str]:
    """Production settings for gunicorn and the data build, with throttling and lockouts out of the way."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SECRET_KEY=BENCH_SECRET_KEY,
        DJANGO_DEBUG="0",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_ALLOWED_HOSTS=HOST,
        AXES_ENABLED="0",
        API_THROTTLE_USER="1000000/min",
        API_THROTTLE_TOKEN="1000000/min",
        DJANGO_LOG_LEVEL="ERROR",
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    # Without capture, the commands' own output goes to stderr: stdout carries only the table.
    result = subprocess.run(
        [*MANAGE, *args], env=env, check=True, text=True,
        stdout=subprocess.PIPE if capture else sys.stderr, stderr=None if not capture else subprocess.PIPE,
    )
    return result.stdout if capture else ""


def count_rows(env: dict[str, str]) -> tuple[int, int]:
    code = "from crm.models import Client, Order; print(Client.objects.count(), Order.objects.count())"
    output = manage(env, "shell", "-c", code, capture=True)
    clients, orders = output.split()[-2:]
    return int(clients), int(orders)


def ensure_postgres_database(database_url: str) -> None:
    """Create the PostgreSQL database named in the URL if it does not exist yet."""
    import environ
    import psycopg

    config = environ.Env.db_url_config(database_url)
    with psycopg.connect(
        dbname="postgres", user=config["USER"], password=config["PASSWORD"] or None,
        host=config["HOST"] or HOST, port=config["PORT"] or 5432, autocommit=True,
    ) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            connection.execute(f'CREATE DATABASE "{config["NAME"]}"')


def build_data(env, *, clients: int, orders: int, days: int, reuse: bool, log) -> None:
    manage(env, "migrate", "--noinput", "-v0")
    existing = count_rows(env)
    if reuse and existing[0] >= clients and existing[1] >= orders:
        log(f"Reusing the data set: {existing[0]} clients, {existing[1]} orders.")
    else:
        if existing != (0, 0):
            raise RuntimeError(
                f"The benchmark database already holds {existing[0]} clients and {existing[1]} orders; "
                "use --reuse-data or an empty database."
            )
        log(f"Generating {clients} clients and {orders} orders ...")
        started = time.perf_counter()
        manage(env, "generate_data", f"--clients={clients}", f"--orders={orders}", f"--days={days}", "--seed=7")
        log(f"  data generated in {time.perf_counter() - started:.1f} s")
    code = (
        "from django.contrib.auth.models import User\n"
        f"user = User.objects.filter(username='{BENCH_USER}').first() or User(username='{BENCH_USER}')\n"
        "user.is_staff = user.is_superuser = True\n"
        f"user.set_password('{BENCH_PASSWORD}')\n"
        "user.save()\n"
    )
    manage(env, "shell", "-c", code)
    manage(env, "collectstatic", "--noinput", "-v0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_gunicorn(env, port: int, workers: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "crm.wsgi:application", f"--bind={HOST}:{port}", f"--workers={workers}",
         "--worker-class=sync", "--timeout=120", "--log-level=warning",
         *os.environ.get("BENCH_GUNICORN_ARGS", "").split()],
        env=env, cwd=settings.BASE_DIR,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start within 30 s")


def worker_pids(master_pid: int) -> list[int]:
    pids = []
    for status_file in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status_file.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", text, re.M):
            pids.append(int(status_file.parent.name))
    return pids


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident memory (VmHWM) of a process, in MB (Linux only)."""
    try:
        match = re.search(r"^VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return None
    return int(match.group(1)) / 1024 if match else None


# ---------------------------------------------------------------------------
# HTTP, one new connection per request (like a mobile client on a bad network)
# ---------------------------------------------------------------------------
@dataclass
class Response:
    status: int
    body: bytes
    cookies: dict[str, str]


@dataclass
class Session:
    port: int
    token: str = ""
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, data: dict | None = None, *, as_json=False, auth=True) -> Response:
        headers = {"Host": HOST}
        body = None
        if data is not None:
            body = json.dumps(data) if as_json else urlencode(data)
            headers["Content-Type"] = "application/json" if as_json else "application/x-www-form-urlencoded"
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            if "csrftoken" in self.cookies and method == "POST":
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
                headers["Referer"] = f"http://{HOST}:{self.port}/admin/"
        connection = http.client.HTTPConnection(HOST, self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            cookies = {}
            for header in response.headers.get_all("Set-Cookie") or []:
                cookies.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
        finally:
            connection.close()
        self.cookies.update(cookies)
        if response.status == 404:
            raise NotAvailable(path)
        if response.status >= 400:
            raise RuntimeError(f"{method} {path} -> HTTP {response.status}: {payload[:200]!r}")
        return Response(response.status, payload, cookies)


class FormParser(HTMLParser):
    """The fields of the first form with a submit button: what a browser would send."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_value: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_value = name, None
        elif tag == "option" and self._select:
            label_value = attrs.get("value", "")
            if (self._select_value is None and label_value) or "selected" in attrs:
                self._select_value = label_value

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.fields.append((self._select, self._select_value or ""))
            self._select = None


def csv_format_value(html: str) -> str | None:
    """The value of the CSV option in import-export's format choice."""
    match = re.search(r'<option value="([^"]*)"[^>]*>\s*csv\s*</option>', html, re.I)
    return match.group(1) if match else None


# ---------------------------------------------------------------------------
# The operations
# ---------------------------------------------------------------------------
def timed(call, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def admin_login(session: Session) -> None:
    page = session.request("GET", "/admin/login/", auth=False)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if not token:
        raise RuntimeError("no CSRF token on the admin login page")
    session.request(
        "POST", "/admin/login/?next=/admin/", auth=False,
        data={"csrfmiddlewaretoken": token.group(1).decode(), "username": BENCH_USER,
              "password": BENCH_PASSWORD, "next": "/admin/"},
    )
    if "sessionid" not in session.cookies:
        raise RuntimeError("admin login failed")


def export_orders_csv(session: Session) -> int:
    page = session.request("GET", "/admin/crm/order/export/", auth=False)
    html = page.body.decode("utf-8", "replace")
    form = FormParser()
    form.feed(html)
    fields = dict(form.fields)
    csv_value = csv_format_value(html)
    if csv_value is not None:
        fields["format"] = csv_value
    response = session.request("POST", "/admin/crm/order/export/", data=fields, auth=False)
    return len(response.body)


def run_operations(port: int, *, repeat: int, log) -> list[tuple[str, list[float] | str]]:
    api = Session(port)
    results: list[tuple[str, list[float] | str]] = []

    def measure(name: str, call, times: int = repeat):
        try:
            call()  # warm-up, and a check that the endpoint exists
            results.append((name, timed(call, times)))
        except NotAvailable:
            results.append((name, "n/a"))
        except Exception as error:  # One broken operation must not stop the others.
            results.append((name, f"error: {str(error)[:60]}"))
        log(f"  {name}: done")

    def token():
        response = api.request("POST", "/api/token/", {"username": BENCH_USER, "password": BENCH_PASSWORD},
                               as_json=True, auth=False)
        api.token = json.loads(response.body)["access"]

    measure("token", token)
    if not api.token:
        log("No token: the API operations are n/a.")

    def post(path, data=None):
        return lambda: api.request("POST", path, data or {})

    first_clients = {}
    try:
        first_clients = json.loads(api.request("POST", "/api/clients/get/", {}).body)
    except Exception:
        pass
    clients = first_clients.get("clients") or [{}]
    phone = next((c.get("mobile_phone") for c in clients if c.get("mobile_phone")), "+79001234567")
    digits = re.sub(r"\D", "", phone)[-7:]
    client_id = clients[0].get("id", 1)

    measure("client list", post("/api/clients/get/"))
    measure("client search 'анатолий'", post("/api/clients/get/", {"search": "анатолий"}))
    measure(f"client search phone '{digits}'", post("/api/clients/get/", {"search": digits}))
    measure("client page start_id=10000", post("/api/clients/get/", {"start_id": 10000}))
    measure("order list", post("/api/orders/get/"))
    measure("order list status=Completed", post("/api/orders/get/", {"status": "Completed"}))
    measure("order list order_by=-total_price", post("/api/orders/get/", {"order_by": "-total_price"}))
    measure("order page start_id=100000", post("/api/orders/get/", {"start_id": 100000}))
    measure("order search 'ноутбук'", post("/api/orders/get/", {"search": "ноутбук"}))
    measure("orders of one client", post("/api/orders/get/", {"client_id": client_id}))

    order_ids = []

    def add_order():
        response = api.request("POST", "/api/orders/add/",
                               {"client": client_id, "product": "Ноутбук для теста", "quantity": "2", "price": "1500.00"})
        order_ids.append(json.loads(response.body)["id"])

    measure("add order", add_order)
    order_id = order_ids[0] if order_ids else 1
    measure("get order", post(f"/api/orders/get/{order_id}/"))
    measure("edit order", post(f"/api/orders/edit/{order_id}/", {"quantity": "3", "description": "Изменено"}))
    for period in ("week", "month", "year"):
        measure(f"report {period}", post("/api/reports/new/", {"period": period}), max(3, repeat // 4))

    admin = Session(port)
    try:
        admin_login(admin)
    except Exception as error:
        log(f"Admin login failed ({error}); the admin operations are n/a.")
        admin = None
    for name, path in (("admin client list", "/admin/crm/client/"), ("admin order list", "/admin/crm/order/"),
                       ("admin dashboard", "/admin/")):
        if admin is None:
            results.append((name, "n/a"))
        else:
            measure(name, lambda path=path: admin.request("GET", path, auth=False), max(3, repeat // 4))
    if admin is None:
        results.append(("export all orders (CSV)", "n/a"))
    else:
        measure("export all orders (CSV)", lambda: export_orders_csv(admin), 1)
    return results


def concurrent_rate(port: int, token: str, *, connections: int, requests_each: int) -> float | str:
    """Requests per second on the orders list with `connections` clients at once."""
    failures = []

    def client():
        session = Session(port, token=token)
        for _ in range(requests_each):
            try:
                session.request("POST", "/api/orders/get/", {})
            except Exception as error:
                failures.append(error)
                return

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        return "n/a" if isinstance(failures[0], NotAvailable) else f"error: {str(failures[0])[:60]}"
    return connections * requests_each / elapsed


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = match.group(1) if match else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def format_table(results, *, rate, rss, database: str, clients: int, orders: int) -> str:
    lines = [
        f"Benchmark: {database}, {clients} clients, {orders} orders; gunicorn 2 sync workers; "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"Machine: {machine_description()}",
        "",
        f"| {'operation':<34} | {'median ms':>9} | {'p95 ms':>8} |",
        f"|{'-' * 36}|{'-' * 10}:|{'-' * 9}:|",
    ]
    for name, samples in results:
        if isinstance(samples, str):
            lines.append(f"| {name:<34} | {samples:>9} | {'':>8} |")
        else:
            lines.append(f"| {name:<34} | {statistics.median(samples):9.1f} | {percentile(samples, 0.95):8.1f} |")
    rate_text = rate if isinstance(rate, str) else f"{rate:.0f} req/s"
    lines += ["", f"Orders list, 8 concurrent connections: {rate_text}",
              f"Peak RSS of a worker: {rss:.0f} MB" if rss else "Peak RSS of a worker: n/a"]
    return "\n".join(lines)


def run(*, database_url: str | None, clients: int, orders: int, days: int, reuse: bool, repeat: int,
        concurrent_requests: int, log) -> str:
    """Build (or reuse) the data set, serve it, measure, and return the table."""
    if database_url:
        if database_url.startswith("postgres"):
            ensure_postgres_database(database_url)
        database = database_url.split("://", 1)[0]
    else:
        path = Path(os.environ.get("BENCH_SQLITE_FILE", "/tmp/crm-benchmark.sqlite3"))
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        database_url = f"sqlite:///{path}"
        database = "sqlite"
    env = server_env(database_url)
    build_data(env, clients=clients, orders=orders, days=days, reuse=reuse, log=log)

    port = free_port()
    server = start_gunicorn(env, port, workers=2)
    try:
        log(f"gunicorn on {HOST}:{port}; measuring ...")
        results = run_operations(port, repeat=repeat, log=log)
        session = Session(port)
        token = json.loads(session.request("POST", "/api/token/", {"username": BENCH_USER, "password": BENCH_PASSWORD},
                                           as_json=True, auth=False).body)["access"]
        rate = concurrent_rate(port, token, connections=8, requests_each=concurrent_requests)
        rss_values = [value for value in map(peak_rss_mb, worker_pids(server.pid)) if value]
        rss = max(rss_values) if rss_values else None
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return format_table(results, rate=rate, rss=rss, database=database, clients=clients, orders=orders)
