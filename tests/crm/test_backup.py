"""manage.py backup and restore: a consistent snapshot under writes, restores that check the whole file first.

The end-to-end tests run manage.py in subprocesses against their own SQLite files (and PostgreSQL databases), as
a server would be backed up: the test database of pytest-django lives in memory.
"""

import gzip
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.utils import translation

from crm.backups import BackupError, backup_file_kind, backup_prune
from crm.backups import sqlite as backups_sqlite
from crm.backups.common import write_atomically
from crm.backups.postgresql import tool

ROOT = Path(__file__).resolve().parents[2]

SEED = """
import django
django.setup()
from django.contrib.auth.models import User
from crm.services import client_create, order_create, order_delete
from reports.services import report_generate
User.objects.create_user(username="owner", password="secret-pass-1")
for n in range(5):
    client = client_create(first_name="Анна", last_name=f"Сидорова{n}", email=f"seed{n}@example.com")
    for m in range(3):
        order = order_create(client=client, product="Ноутбук", price="1500.50", quantity=m + 1)
order_delete(order=order)  # a deleted order lives on in crm_historicalorder only
report_generate(period="month")
"""

# Takes orders one by one until the stop file appears, printing each id once it is committed.
WRITER = """
import os, sys, django
django.setup()
from crm.services import client_create, order_create
client = client_create(first_name="Пётр", last_name="Писатель", email="writer@example.com")
while not os.path.exists(sys.argv[1]):
    order = order_create(client=client, product="Товар", price="10.00", quantity=2)
    print(order.pk, flush=True)
"""


def environment(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings", "DJANGO_DEBUG": "1", "DJANGO_ENV_FILE": "",
            "LANGUAGE_CODE": "en", "SQLITE_BUSY_TIMEOUT": "60", "DATABASE_URL": database_url, **extra}


def manage(database_url: str, *arguments: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=environment(database_url, **extra),
                          capture_output=True, text=True, timeout=600)


def python(database_url: str, code: str) -> None:
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment(database_url),
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as database:
        return {table: database.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("crm_client", "crm_order", "crm_historicalorder", "reports_report", "auth_user")}


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """One migrated SQLite database, copied by the tests that need one (migrate takes seconds)."""
    path = tmp_path_factory.mktemp("backup-template") / "migrated.sqlite3"
    completed = manage(sqlite_url(path), "migrate", "--no-input", "-v0")
    assert completed.returncode == 0, completed.stderr
    return path


def copy_database(template: Path, path: Path) -> Path:
    with sqlite3.connect(template) as source, sqlite3.connect(path) as destination:
        source.backup(destination)
    source.close()
    destination.close()
    return path


def take_backup(database_url: str, folder: Path) -> Path:
    completed = manage(database_url, "backup", "--output", f"{folder}/")
    assert completed.returncode == 0, completed.stderr
    (path,) = folder.iterdir()
    return path


@pytest.fixture(scope="module")
def seeded_source(migrated_template, tmp_path_factory) -> Path:
    """A database with clients, orders, a deleted order, a report and a user; tests copy it before changing it."""
    path = copy_database(migrated_template, tmp_path_factory.mktemp("backup-source") / "source.sqlite3")
    python(sqlite_url(path), SEED)
    return path


@pytest.fixture(scope="module")
def seeded_backup(seeded_source, tmp_path_factory) -> Path:
    return take_backup(sqlite_url(seeded_source), tmp_path_factory.mktemp("backup-files"))


@pytest.fixture
def seeded_sqlite(seeded_source, tmp_path) -> Path:
    return copy_database(seeded_source, tmp_path / "source.sqlite3")


# ---------------------------------------------------------------------------
# SQLite, end to end
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_backup_taken_while_another_process_writes_keeps_every_order_committed_before_it(seeded_sqlite, tmp_path):
    url = sqlite_url(seeded_sqlite)
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(stop)], cwd=ROOT, env=environment(url),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    written: list[int] = []
    reader = threading.Thread(target=lambda: written.extend(int(line) for line in writer.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while len(written) < 20 and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        committed_before = set(written)
        assert len(committed_before) >= 20, writer.stderr.read() if writer.poll() is not None else "writer too slow"
        backup = take_backup(url, tmp_path / "backups")
        written_during = len(written) - len(committed_before)
    finally:
        stop.touch()
        writer.wait(timeout=120)
        reader.join(timeout=10)
    assert writer.returncode == 0, writer.stderr.read()
    assert written_during > 0  # the writer went on while the backup ran

    restored = tmp_path / "restored.sqlite3"
    completed = manage(sqlite_url(restored), "restore", str(backup))
    assert completed.returncode == 0, completed.stderr
    assert "Restored" in completed.stdout

    with sqlite3.connect(restored) as database:
        assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        orders = {row[0] for row in database.execute("SELECT id FROM crm_order")}
        created = {row[0] for row in database.execute("SELECT id FROM crm_historicalorder WHERE history_type = '+'")}
        deleted = {row[0] for row in database.execute("SELECT id FROM crm_historicalorder WHERE history_type = '-'")}
        reports = database.execute("SELECT COUNT(*) FROM reports_report").fetchone()[0]
    database.close()
    assert committed_before <= orders
    # One snapshot: each order came with the history record committed in its transaction, the deleted one too.
    assert created == orders | deleted and len(deleted) == 1
    assert reports == 1


@pytest.mark.slow
def test_restore_refuses_a_non_empty_database_then_replaces_it_with_force(seeded_backup, seeded_source,
                                                                          migrated_template, tmp_path):
    backup = seeded_backup
    target = copy_database(migrated_template, tmp_path / "target.sqlite3")
    python(sqlite_url(target), SEED.replace("range(3)", "range(1)"))
    before = sqlite_counts(target)

    refused = manage(sqlite_url(target), "restore", str(backup))
    assert refused.returncode == 1
    assert "The database is not empty (clients: 5, orders: 4, order history records: 6, reports: 1, users: 1)" \
        in refused.stderr
    assert "--force" in refused.stderr
    assert sqlite_counts(target) == before

    forced = manage(sqlite_url(target), "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert "Replacing the database's current contents (clients: 5, orders: 4," in forced.stdout
    assert sqlite_counts(target) == sqlite_counts(seeded_source)


def corrupt_the_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    noise = random.Random(7).randbytes(4096)
    return data[:middle] + noise + data[middle + len(noise):]


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated gzip", "corrupt gzip", "corrupt database", "truncated database"])
def test_restore_refuses_a_damaged_backup_and_changes_nothing(damage, seeded_backup, seeded_sqlite, tmp_path):
    packed = seeded_backup.read_bytes()
    unpacked = gzip.decompress(packed)
    damaged = tmp_path / "damaged.sqlite3.gz"
    damaged.write_bytes({
        "truncated gzip": lambda: packed[: len(packed) // 2],
        "corrupt gzip": lambda: corrupt_the_middle(packed),
        "corrupt database": lambda: gzip.compress(corrupt_the_middle(unpacked)),
        "truncated database": lambda: gzip.compress(unpacked[: len(unpacked) // 2]),
    }[damage]())
    target = seeded_sqlite
    before = sqlite_counts(target)

    completed = manage(sqlite_url(target), "restore", "--force", str(damaged))

    assert completed.returncode == 1
    assert f"The backup {damaged} is damaged or incomplete" in completed.stderr
    assert "nothing was changed" in completed.stderr
    assert sqlite_counts(target) == before


@pytest.mark.slow
def test_backup_from_a_newer_schema_is_refused(seeded_backup, tmp_path):
    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes(gzip.decompress(seeded_backup.read_bytes()))
    with sqlite3.connect(newer) as database:
        database.execute("INSERT INTO django_migrations (app, name, applied) "
                         "VALUES ('crm', '9999_future', '2030-01-01')")
    database.close()
    target = tmp_path / "target.sqlite3"

    completed = manage(sqlite_url(target), "restore", str(newer))

    assert completed.returncode == 1
    assert "comes from a newer version of the CRM" in completed.stderr
    assert "(crm.9999_future)" in completed.stderr
    assert not target.exists()


@pytest.mark.slow
def test_backup_from_an_older_schema_is_restored_then_migrated(seeded_sqlite, tmp_path):
    url = sqlite_url(seeded_sqlite)
    assert manage(url, "migrate", "crm", "0008", "--no-input", "-v0").returncode == 0
    backup = take_backup(url, tmp_path / "backups")
    target = tmp_path / "target.sqlite3"

    completed = manage(sqlite_url(target), "restore", str(backup))

    assert completed.returncode == 0, completed.stderr
    assert "Applied the migrations the backup lacked: crm.0009_report_product_status_index, " in completed.stdout
    with sqlite3.connect(target) as database:
        applied = database.execute("SELECT name FROM django_migrations"
                                   " WHERE app = 'crm' AND name LIKE '0009_%'").fetchall()
    database.close()
    assert applied == [("0009_report_product_status_index",)]
    assert sqlite_counts(target) == sqlite_counts(seeded_sqlite)
    assert "[X] 0009_report_product_status_index" in manage(sqlite_url(target), "showmigrations", "crm").stdout


@pytest.mark.slow
def test_backup_prints_what_it_saved_and_keep_removes_all_but_the_newest(seeded_source, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    older = [folder / f"crm-sqlite-2025010{day}-031500Z.sqlite3.gz" for day in (1, 2, 3)]
    others = [folder / "crm-postgresql-20250101-031500Z.dump", folder / "notes.txt",
              folder / "crm-sqlite-by-hand.sqlite3.gz"]
    for path in older + others:
        path.write_bytes(b"")

    completed = manage(sqlite_url(seeded_source), "backup", "--output", str(folder), "--keep", "2")

    assert completed.returncode == 0, completed.stderr
    (newest,) = set(folder.iterdir()) - set(older) - set(others)
    assert newest.name.startswith("crm-sqlite-") and newest.name.endswith("Z.sqlite3.gz")
    assert sorted(folder.iterdir()) == sorted([older[2], newest, *others])
    assert f"Backup written: {newest} (" in completed.stdout
    assert "clients: 5, orders: 14, order history records: 16, reports: 1, users: 1" in completed.stdout
    assert f"Removed an older backup: {older[0]}" in completed.stdout
    assert newest.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only


@pytest.mark.slow
def test_backup_goes_to_backup_dir_by_default_and_refuses_a_missing_database(seeded_source, tmp_path):
    folder = tmp_path / "default-folder"
    completed = manage(sqlite_url(seeded_source), "backup", BACKUP_DIR=str(folder))
    assert completed.returncode == 0, completed.stderr
    assert [path.name[:11] for path in folder.iterdir()] == ["crm-sqlite-"]

    missing = manage(sqlite_url(tmp_path / "nowhere.sqlite3"), "backup", "--output", str(tmp_path / "x.gz"))
    assert missing.returncode == 1
    assert "does not exist: there is nothing to back up" in missing.stderr
    assert not (tmp_path / "nowhere.sqlite3").exists()


@pytest.mark.slow
def test_restore_refuses_a_backup_of_the_other_database_kind(seeded_backup, tmp_path):
    backup = seeded_backup
    # Refused before any connection: the PostgreSQL server named here does not even exist.
    completed = manage("postgres://nobody@127.0.0.1:9/nothing", "restore", str(backup))
    assert completed.returncode == 1
    assert "This is a SQLite backup, and the configured database is PostgreSQL" in completed.stderr

    dump = tmp_path / "crm.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(100))
    completed = manage(sqlite_url(tmp_path / "target.sqlite3"), "restore", str(dump))
    assert completed.returncode == 1
    assert "This is a PostgreSQL backup, and the configured database is SQLite" in completed.stderr
    assert not (tmp_path / "target.sqlite3").exists()


@pytest.mark.slow
def test_postgresql_backup_without_pg_dump_names_the_package_to_install(tmp_path):
    completed = manage("postgres://nobody@127.0.0.1:9/nothing", "backup", "--output", str(tmp_path / "x.dump"),
                       PATH=str(tmp_path))
    assert completed.returncode == 1
    assert "pg_dump is not installed" in completed.stderr
    assert "apt install postgresql-client" in completed.stderr


# ---------------------------------------------------------------------------
# The pieces, in this process
# ---------------------------------------------------------------------------
@pytest.fixture
def english():
    with translation.override("en"):
        yield


def test_a_backup_is_known_by_its_first_bytes_not_its_name(tmp_path, english):
    sqlite_file = tmp_path / "a.dump"
    with sqlite3.connect(sqlite_file) as database:
        database.execute("CREATE TABLE t (id INTEGER)")
    database.close()
    packed = tmp_path / "b.bin"
    packed.write_bytes(gzip.compress(sqlite_file.read_bytes()))
    dump = tmp_path / "c.sqlite3.gz"
    dump.write_bytes(b"PGDMP" + bytes(20))
    assert backup_file_kind(sqlite_file) == "sqlite"
    assert backup_file_kind(packed) == "sqlite"
    assert backup_file_kind(dump) == "postgresql"

    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(BackupError, match="is not a backup made by manage.py backup"):
        backup_file_kind(other)
    empty = tmp_path / "empty.gz"
    empty.write_bytes(b"")
    with pytest.raises(BackupError, match="damaged or incomplete"):
        backup_file_kind(empty)
    with pytest.raises(BackupError, match="Cannot read"):
        backup_file_kind(tmp_path / "missing.gz")


def test_keep_leaves_the_newest_backups_of_the_kind_and_every_other_file(tmp_path, english):
    names = ["crm-sqlite-20260101-000000Z.sqlite3.gz", "crm-sqlite-20261130-031500Z.sqlite3.gz",
             "crm-sqlite-20260615-120000Z.sqlite3.gz", "crm-postgresql-20200101-000000Z.dump", "db.sqlite3",
             "crm-sqlite-20200101-000000Z.sqlite3.gz.partial"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")

    removed = backup_prune(directory=tmp_path, kind="sqlite", keep=2)

    assert [path.name for path in removed] == ["crm-sqlite-20260101-000000Z.sqlite3.gz"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(set(names) - {removed[0].name})
    with pytest.raises(BackupError, match="at least 1"):
        backup_prune(directory=tmp_path, kind="sqlite", keep=0)


def test_the_snapshot_reads_one_state_while_another_connection_keeps_committing(tmp_path, monkeypatch):
    source = tmp_path / "live.sqlite3"
    with sqlite3.connect(source) as database:
        database.execute("PRAGMA journal_mode=WAL")
        database.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, note BLOB)")
        database.executemany("INSERT INTO orders (note) VALUES (randomblob(1000))", [()] * 2000)
    database.close()
    monkeypatch.setattr(backups_sqlite, "BACKUP_STEP_PAGES", 16)
    stop, committed = threading.Event(), []

    def write():
        writer = sqlite3.connect(source, timeout=30, isolation_level=None)
        while not stop.is_set():
            writer.execute("INSERT INTO orders (note) VALUES (randomblob(100))")
            committed.append(1)
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    steps = []
    try:
        while len(committed) < 10:
            time.sleep(0.01)
        rows_before = 2000 + len(committed)
        backups_sqlite.snapshot(source, tmp_path / "copy.sqlite3", timeout=30,
                                progress=lambda remaining, total: steps.append(total))
        rows_after = 2000 + len(committed)
    finally:
        stop.set()
        thread.join()

    # Without its one read transaction SQLite would restart the copy at each of those commits.
    assert len(steps) <= steps[0] // 16 + 2
    with sqlite3.connect(tmp_path / "copy.sqlite3") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert rows_before <= copy.execute("SELECT COUNT(*) FROM orders").fetchone()[0] <= rows_after
    copy.close()


def test_a_failed_write_leaves_neither_the_file_nor_a_partial_one(tmp_path):
    path = tmp_path / "backup.gz"

    def fail_half_way(stream):
        stream.write(b"half")
        raise OSError("No space left on device")

    with pytest.raises(OSError):
        write_atomically(path, fail_half_way)
    assert list(tmp_path.iterdir()) == []

    path.write_bytes(b"yesterday")
    with pytest.raises(OSError):
        write_atomically(path, fail_half_way)
    assert list(tmp_path.iterdir()) == [path] and path.read_bytes() == b"yesterday"


def test_a_missing_postgresql_tool_is_named_with_its_package(tmp_path, monkeypatch, english):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match=r"pg_restore is not installed.*apt install postgresql-client"):
        tool("pg_restore")


# ---------------------------------------------------------------------------
# PostgreSQL, end to end
# ---------------------------------------------------------------------------
def postgresql_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("The PostgreSQL backup tests run with DATABASE_URL=postgres://… (CI's PostgreSQL leg).")
    for program in ("pg_dump", "pg_restore", "psql"):
        if shutil.which(program) is None:
            pytest.skip(f"SKIPPED LOUDLY: {program} is missing; install postgresql-client to test PostgreSQL backups.")
    return url


def recreate_database(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgresql_counts(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as connection:
        counts = {table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                  for table in ("crm_client", "crm_order", "crm_historicalorder", "reports_report", "auth_user")}
        counts["orders"] = connection.execute("SELECT id, client_id, total_price FROM crm_order ORDER BY id").fetchall()
    return counts


@pytest.fixture
def postgresql_pair():
    """A seeded source database and an empty target, named after DATABASE_URL (so parallel legs never share them)."""
    url = postgresql_url()
    source, target = f"{url}_backups_src", f"{url}_backups_dst"
    recreate_database(source)
    recreate_database(target)
    try:
        completed = manage(source, "migrate", "--no-input", "-v0")
        assert completed.returncode == 0, completed.stderr
        python(source, SEED)
        yield source, target
    finally:
        drop_database(source)
        drop_database(target)


@pytest.mark.slow
def test_postgresql_round_trip_refusals_and_a_rolled_back_failure(postgresql_pair, tmp_path):
    source, target = postgresql_pair
    backup = take_backup(source, tmp_path / "backups")
    assert backup.name.startswith("crm-postgresql-") and backup.read_bytes()[:5] == b"PGDMP"

    # A migrated but empty database is empty: the backup replaces its tables.
    assert manage(target, "migrate", "--no-input", "-v0").returncode == 0
    completed = manage(target, "restore", str(backup))
    assert completed.returncode == 0, completed.stderr
    assert postgresql_counts(target) == postgresql_counts(source)
    # The sequences came along: new rows do not collide with restored ones.
    python(target, "import django; django.setup()\nfrom crm.services import order_create\n"
                   "order_create(client=1, product='После', price='1.00')")

    before = postgresql_counts(target)
    refused = manage(target, "restore", str(backup))
    assert refused.returncode == 1 and "The database is not empty" in refused.stderr

    data = backup.read_bytes()
    for name, damaged in (("truncated", data[: len(data) // 2]), ("corrupt", corrupt_the_middle(data))):
        path = tmp_path / f"{name}.dump"
        path.write_bytes(damaged)
        completed = manage(target, "restore", "--force", str(path))
        assert completed.returncode == 1, name
        assert f"The backup {path} is damaged or incomplete" in completed.stderr
        assert postgresql_counts(target) == before

    # pg_restore dying half-way through the SQL it streams to psql: psql never commits, nothing changes.
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    failing = bin_folder / "pg_restore"
    failing.write_text(f'#!/bin/sh\nif [ "$1" = "--no-owner" ]; then "{shutil.which("pg_restore")}" "$@" '
                       f"| head -c 200000; exit 1; fi\nexec \"{shutil.which('pg_restore')}\" \"$@\"\n")
    failing.chmod(0o755)
    completed = manage(target, "restore", "--force", str(backup), PATH=f"{bin_folder}:{os.environ['PATH']}")
    assert completed.returncode == 1
    assert "The restore failed and was rolled back; nothing was changed" in completed.stderr
    assert postgresql_counts(target) == before

    forced = manage(target, "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert postgresql_counts(target) == postgresql_counts(source)

    # A backup from an older schema over the current one: emptied first, then migrated up to date.
    assert manage(source, "migrate", "crm", "0008", "--no-input", "-v0").returncode == 0
    older = take_backup(source, tmp_path / "older")
    completed = manage(target, "restore", "--force", str(older))
    assert completed.returncode == 0, completed.stderr
    assert "Applied the migrations the backup lacked: crm.0009_report_product_status_index, " in completed.stdout
    assert "[X] 0009_report_product_status_index" in manage(target, "showmigrations", "crm").stdout
    assert postgresql_counts(target) == postgresql_counts(source)
