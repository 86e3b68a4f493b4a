"""Export many orders as a background job, in a real worker process, and measure it (`manage.py bench_export`).

A scratch database (the backend's test database, as `bench_import` uses) is filled by the data generator; an
admin export of the whole order list is queued as a job of a superuser and run by `run_worker --batch` in a
child process (crm/devtools/measured_worker.py), which reports its private memory (RssAnon) before the job and at
its peak, and its peak resident set (VmHWM). The real data is not touched.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test.utils import override_settings

from crm.devtools.datagen import generate_data
from crm.devtools.import_bench import scratch_database

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def database_url() -> str:
    """The scratch database as DATABASE_URL, for the worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def run(*, clients: int, orders: int, fmt: str, log) -> str:
    with scratch_database(log):
        return time_export(clients=clients, orders=orders, fmt=fmt, log=log)


def time_export(*, clients: int, orders: int, fmt: str, log) -> str:
    from django.contrib.auth import get_user_model

    from crm.jobs.exports import export_job_create, export_storage
    from crm.jobs.models import Job

    log(f"Generating {clients} clients and {orders} orders…")
    started = time.perf_counter()
    generate_data(clients=clients, orders=orders, days=730, seed=1, progress=False)
    log(f"  {time.perf_counter() - started:.0f} s")
    owner = get_user_model().objects.create_superuser("bench-export", password=None)
    with tempfile.TemporaryDirectory() as jobs_dir, override_settings(TASKS=DATABASE_TASKS, JOBS_DIR=jobs_dir):
        job = export_job_create(
            kind=Job.Kind.EXPORT_ORDERS, owner=owner, source={"source": "admin", "query": ""}, format_name=fmt,
            file_name=f"заказы-bench.{fmt}", language="ru",
        )
        log("Running the export in a worker process…")
        started = time.perf_counter()
        memory = run_worker_process(jobs_dir)
        wall = time.perf_counter() - started
        job.refresh_from_db()
        if job.state != Job.State.DONE:
            raise RuntimeError(f"The export job ended {job.state}: {job.error}")
        size = export_storage().size(job.output_file)
    seconds = (job.finished_at - job.started_at).total_seconds()
    lines = [
        "",
        f"{'database':<12} {'format':<7} {'rows':>9} {'job s':>7} {'rows/s':>8} {'file MB':>8} "
        f"{'RssAnon idle':>13} {'RssAnon peak':>13} {'VmHWM':>7}",
        "-" * 94,
        f"{connection.vendor:<12} {fmt:<7} {job.total:>9} {seconds:>7.1f} {job.total / seconds:>8.0f} "
        f"{size / 2**20:>8.0f} {memory['idle_mb']:>10.0f} MB {memory['peak_anon_mb']:>10.0f} MB "
        f"{memory['peak_mb']:>4.0f} MB",
        "",
        f"The worker process took {wall:.1f} s from its start to its exit (Django's start-up included).",
        "RssAnon: the worker's private memory; VmHWM: its peak resident set, which also counts the pages of the",
        "database file SQLite maps into memory (PRAGMA mmap_size, shared with the OS cache).",
    ]
    return "\n".join(lines)


def run_worker_process(jobs_dir: str) -> dict:
    """Run `run_worker --batch` on the scratch database in a child process; its memory before and at the peak."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "JOBS_DIR": jobs_dir,
        "TASKS_BACKEND": "database",
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "crm.settings"),
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "1",
    }
    process = subprocess.run(
        [sys.executable, "-m", "crm.devtools.measured_worker"], env=environment, cwd=settings.BASE_DIR,
        capture_output=True, text=True,
    )
    if process.returncode:
        raise RuntimeError(f"The worker process failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])
