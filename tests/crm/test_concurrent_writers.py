"""SQLite under several worker processes writing at once: writers wait, nothing is lost."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
CLIENTS_PER_WRITER = 40

WRITER = """
import os, sys, django
django.setup()
from crm.services import client_create, order_create
writer = int(sys.argv[1])
for n in range({count}):
    client = client_create(first_name="Иван", last_name=f"Писатель{{writer}}", email=f"w{{writer}}-{{n}}@example.com")
    order_create(client=client, product="Товар", price="10.00", quantity=2)
"""


@pytest.mark.slow
def test_concurrent_writer_processes_lose_nothing(tmp_path):
    database = tmp_path / "concurrent.sqlite3"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings", "DJANGO_DEBUG": "1", "DJANGO_ENV_FILE": "",
           "DATABASE_URL": f"sqlite:///{database}", "SQLITE_BUSY_TIMEOUT": "60"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)

    code = WRITER.format(count=CLIENTS_PER_WRITER)
    writers = [subprocess.Popen([sys.executable, "-c", code, str(i)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(WRITERS)]
    for writer in writers:
        _, stderr = writer.communicate(timeout=300)
        assert writer.returncode == 0, stderr

    import sqlite3

    with sqlite3.connect(database) as connection:
        clients = connection.execute("SELECT COUNT(*) FROM crm_client").fetchone()[0]
        orders = connection.execute("SELECT COUNT(*), SUM(total_price) FROM crm_order").fetchone()
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
    assert clients == WRITERS * CLIENTS_PER_WRITER
    assert orders == (WRITERS * CLIENTS_PER_WRITER, 20.0 * WRITERS * CLIENTS_PER_WRITER)
    assert journal == "wal"
