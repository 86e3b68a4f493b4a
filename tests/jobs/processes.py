"""Workers as real processes, on a database they share with the test (a SQLite file, or the PostgreSQL test database)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path, jobs_dir):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings_test", "TASKS_BACKEND": "database",
           "JOBS_DIR": str(jobs_dir), "DJANGO_DEBUG": "0"}
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":  # the suite's SQLite database is in memory: use a file of our own
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        manage(env, "migrate", "-v0")
    else:  # the test database itself (committed rows, flushed after the test)
        env["DATABASE_URL"] = (
            f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
        )
    return env


def manage(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True, capture_output=True,
        text=True, timeout=120, **kwargs,
    )


def shell(env, code: str) -> str:
    return manage(env, "shell", "--no-imports", "-c", code).stdout.strip()


