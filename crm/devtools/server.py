"""The benchmark's data set and server: build it with manage.py, serve it with granian (or gunicorn), watch its
memory."""

import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

HOST = "127.0.0.1"
BENCH_USER = "bench"
BENCH_PASSWORD = "bench-pass-12345"
BENCH_SECRET_KEY = "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def manage_command() -> list[str]:
    """This project's manage.py, run by the current interpreter."""
    return [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]


def server_env(database_url: str) -> dict[str, str]:
    """Production settings for the server and the data build, with throttling and lockouts out of the way."""
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
        [*manage_command(), *args], env=env, check=True, text=True,
        stdout=subprocess.PIPE if capture else sys.stderr, stderr=None if not capture else subprocess.PIPE,
    )
    return result.stdout if capture else ""


def count_rows(env: dict[str, str]) -> tuple[int, int]:
    code = "from crm.models import Client, Order; print(Client.objects.count(), Order.objects.count())"
    output = manage(env, "shell", "-c", code, capture=True)
    clients, orders = output.split()[-2:]
    return int(clients), int(orders)


def database_version(env: dict[str, str]) -> str:
    """The database the server uses, as the README should name it: "SQLite 3.40.1", "PostgreSQL 15.8"."""
    code = (
        "from django.db import connection\n"
        "if connection.vendor == 'sqlite':\n"
        "    print('SQLite', connection.Database.sqlite_version)\n"
        "else:\n"
        "    with connection.cursor() as cursor:\n"
        "        cursor.execute('SHOW server_version')\n"
        "        print('PostgreSQL', cursor.fetchone()[0].split()[0])\n"
    )
    try:
        return manage(env, "shell", "-c", code, capture=True).strip().splitlines()[-1]
    except (subprocess.CalledProcessError, IndexError):
        return "unknown database"


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


def sqlite_scratch_url(reuse: bool, suffix: str = "") -> str:
    """The scratch SQLite file (BENCH_SQLITE_FILE); a suffix names another data set beside it."""
    path = Path(os.environ.get("BENCH_SQLITE_FILE", "/tmp/crm_bench.sqlite3"))
    if suffix:
        path = path.with_name(f"{path.stem}_{suffix}{path.suffix}")
    if not reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def scaled_url(database_url: str | None, *, clients: int, orders: int, reuse: bool) -> str:
    """The database of a second data set of the given size: a scratch SQLite file beside the first, or a
    PostgreSQL database named after the first (crm_bench -> crm_bench_200000x2000000)."""
    suffix = f"{clients}x{orders}"
    if not database_url:
        return sqlite_scratch_url(reuse, suffix)
    base, _slash, name = database_url.rpartition("/")
    name, question, query = name.partition("?")
    return f"{base}/{name}_{suffix}{question}{query}"


# The benchmark's server, as the README's deployment section runs it (see there why): granian, 2 worker processes
# of 2 threads. gunicorn's settings stay available for comparison (--workers 2:gthread:4, 2:sync).
SERVER_WORKERS = 2
SERVER_CLASS = "granian"
DEFAULT_THREADS = {"granian": 2, "gthread": 4, "sync": 1}
GUNICORN_KEEP_ALIVE = 5
SERVER_CLASSES = tuple(DEFAULT_THREADS)


@dataclass(frozen=True)
class Workers:
    """How the server serves: worker processes, the server (granian) or gunicorn worker class, threads per
    worker (granian's blocking threads, gunicorn's gthread threads)."""

    workers: int = SERVER_WORKERS
    worker_class: str = SERVER_CLASS
    threads: int = DEFAULT_THREADS[SERVER_CLASS]

    def command(self, port: int) -> list[str]:
        """The server's command line on HOST:port."""
        bin_dir = Path(sys.executable).parent
        if self.worker_class == "granian":
            return [str(bin_dir / "granian"), "--interface=wsgi", "crm.wsgi:application", f"--host={HOST}",
                    f"--port={port}", f"--workers={self.workers}", f"--blocking-threads={self.threads}",
                    "--runtime-threads=1", "--http=1", "--no-ws", "--log-level=warning",
                    *os.environ.get("BENCH_GRANIAN_ARGS", "").split()]
        arguments = [f"--workers={self.workers}", f"--worker-class={self.worker_class}",
                     f"--keep-alive={GUNICORN_KEEP_ALIVE}"]
        if self.worker_class == "gthread":
            arguments.append(f"--threads={self.threads}")
        return [str(bin_dir / "gunicorn"), "crm.wsgi:application", f"--bind={HOST}:{port}", *arguments,
                "--timeout=120", "--log-level=warning", *os.environ.get("BENCH_GUNICORN_ARGS", "").split()]

    @property
    def server_name(self) -> str:
        return "granian" if self.worker_class == "granian" else "gunicorn"

    def __str__(self) -> str:
        if self.worker_class == "granian":
            return f"granian, {self.workers} workers × {self.threads} threads"
        threads = f" × {self.threads} threads" if self.worker_class == "gthread" else ""
        return f"gunicorn, {self.workers} {self.worker_class} workers{threads}"

    @classmethod
    def parse(cls, text: str) -> "Workers":
        """"2", "2:granian:2", "2:sync", "2:gthread:4" (workers, server or gunicorn class, threads)."""
        parts = text.split(":")
        error = f"not a worker setting: {text!r} (e.g. 2, 2:granian:2, 2:sync, 2:gthread:4)"
        try:
            workers = int(parts[0])
            worker_class = parts[1] if len(parts) > 1 else SERVER_CLASS
            if worker_class not in SERVER_CLASSES:
                raise ValueError(error)
            threads = int(parts[2]) if len(parts) > 2 else DEFAULT_THREADS[worker_class]
        except ValueError:
            raise ValueError(error)
        if len(parts) > 3 or workers < 1 or threads < 1 or (worker_class == "sync" and threads != 1):
            raise ValueError(error)
        return cls(workers, worker_class, threads)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(env, port: int, workers: "int | Workers") -> subprocess.Popen:
    """The server on loopback; `workers` as a number means that many gunicorn sync workers."""
    if isinstance(workers, int):
        workers = Workers(workers, "sync", 1)
    process = subprocess.Popen(workers.command(port), env=env, cwd=settings.BASE_DIR)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{workers.server_name} exited during start-up")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"{workers.server_name} did not start within 30 s")


@dataclass
class Server:
    """One database's data set served by its own server."""

    env: dict
    database: str
    clients: int
    orders: int
    process: subprocess.Popen | None = None
    port: int = 0
    workers: Workers = Workers()

    def start(self) -> None:
        self.port = free_port()
        self.process = start_server(self.env, self.port, self.workers)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def prepare_server(database_url: str, *, clients: int, orders: int, days: int, reuse: bool, log) -> Server:
    if database_url.startswith("postgres"):
        ensure_postgres_database(database_url)
    env = server_env(database_url)
    build_data(env, clients=clients, orders=orders, days=days, reuse=reuse, log=log)
    actual_clients, actual_orders = count_rows(env)
    return Server(env=env, database=database_version(env), clients=actual_clients, orders=actual_orders)


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


def memory_mb(pid: int, field: str = "VmHWM") -> float | None:
    """A memory figure of a process from /proc/<pid>/status, in MB (Linux only).

    VmHWM is the peak resident set, which also counts the pages of the SQLite file mapped
    into memory (mmap_size) — shared with the OS cache, not owned by the worker. RssAnon is
    the worker's own (private) memory right now.
    """
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return None
    return int(match.group(1)) / 1024 if match else None


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident memory (VmHWM) of a process, in MB (Linux only)."""
    return memory_mb(pid, "VmHWM")


class WorkerMemory:
    """The highest peak RSS of any server worker during the run, sampled in the background.

    VmHWM only grows while a process lives, but a worker that the server replaces (a timeout, a
    crash) takes its figure with it: sampling every few tenths of a second keeps it, and the
    workers alive at the end are read once more when the sampler stops.
    """

    def __init__(self, master_pid: int, interval: float = 0.25):
        self.master_pid = master_pid
        self.interval = interval
        self.peaks: dict[int, float] = {}
        self.private_peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        for pid in worker_pids(self.master_pid):
            value = peak_rss_mb(pid)
            if value:
                self.peaks[pid] = max(value, self.peaks.get(pid, 0.0))
            private = memory_mb(pid, "RssAnon")
            if private:
                self.private_peaks[pid] = max(private, self.private_peaks.get(pid, 0.0))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()

    @property
    def peak_mb(self) -> float | None:
        return max(self.peaks.values()) if self.peaks else None

    @property
    def private_peak_mb(self) -> float | None:
        return max(self.private_peaks.values()) if self.private_peaks else None
