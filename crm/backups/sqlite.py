"""SQLite: a snapshot through the online backup API, gzip-compressed; restored through the same API."""

import gzip
import shutil
import sqlite3
import tempfile
import zlib
from pathlib import Path

from django.db import connections
from django.utils.translation import gettext as _

from crm.backups.common import (
    COPY_CHUNK,
    COUNTED_TABLES,
    BackupError,
    damaged,
    migrations_missing,
    write_atomically,
)

GZIP_MAGIC = b"\x1f\x8b"
SQLITE_MAGIC = b"SQLite format 3\x00"
# Pages copied per step (4 MiB at the default 4 KiB page). Every step reads the same snapshot (see snapshot()),
# so the step size only sets how often the copy pauses between reads: writers never wait for it.
BACKUP_STEP_PAGES = 1024
# Level 1: 2,000,000 orders compress three times faster than at gzip's default 6, into a file 13% larger
# (docs/performance.md, "Backups").
GZIP_LEVEL = 1


def database_file(settings_dict: dict) -> Path:
    name = str(settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        raise BackupError(_("The database is in memory: there is no file to back up or restore."))
    return Path(name)


def sqlite_backup(*, using: str, path: Path) -> dict[str, int]:
    """Write a gzip-compressed snapshot of the live database to `path`; return its row counts."""
    settings_dict = connections[using].settings_dict
    source = database_file(settings_dict)
    if not source.is_file():
        raise BackupError(_("The SQLite database %(path)s does not exist: there is nothing to back up.")
                          % {"path": source})
    timeout = settings_dict.get("OPTIONS", {}).get("timeout", 20)
    with tempfile.TemporaryDirectory(prefix=".crm-backup-", dir=path.parent) as scratch:
        snapshot_path = Path(scratch) / "snapshot.sqlite3"
        snapshot(source, snapshot_path, timeout=timeout)
        database = sqlite3.connect(snapshot_path)
        try:
            if not _table_exists(database, "django_migrations"):
                raise BackupError(_("The database %(path)s has no tables of this CRM yet (run manage.py migrate): "
                                    "there is nothing to back up.") % {"path": source})
            counts = row_counts(database)
        finally:
            database.close()

        def compress(stream):
            with open(snapshot_path, "rb") as unpacked, \
                    gzip.GzipFile(filename="", fileobj=stream, mode="wb", compresslevel=GZIP_LEVEL) as packed:
                shutil.copyfileobj(unpacked, packed, COPY_CHUNK)

        write_atomically(path, compress)
    return counts


def snapshot(source: Path, destination: Path, *, timeout: float, progress=None) -> None:
    """Copy one consistent state of the live database to `destination` with SQLite's online backup API.

    The copy runs inside one read transaction. In WAL mode (the app's setting) a reader never blocks writers:
    they go on committing to the WAL, which only stops being folded back into the main file until the copy ends.
    Without that transaction SQLite restarts a stepwise backup from the first page whenever another connection
    commits, and under steady writes a large copy might never finish. `progress(remaining, total)` follows
    each step, in pages.
    """
    source_db = sqlite3.connect(source, timeout=timeout, isolation_level=None)
    try:
        source_db.execute("PRAGMA journal_mode=WAL")  # as every connection of the app sets it (settings.py)
        source_db.execute("BEGIN")
        source_db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # the read snapshot starts here
        destination_db = sqlite3.connect(destination, isolation_level=None)
        try:
            step_done = (lambda status, remaining, total: progress(remaining, total)) if progress else None
            source_db.backup(destination_db, pages=BACKUP_STEP_PAGES, progress=step_done)
            # The copy took over the source's WAL flag; a backup is one self-contained file.
            destination_db.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination_db.close()
        source_db.execute("COMMIT")
    except sqlite3.Error as error:
        raise BackupError(_("The SQLite backup failed: %(error)s") % {"error": error}) from None
    finally:
        source_db.close()


def sqlite_restore(*, path: Path, using: str, before_replacing) -> tuple[dict, list]:
    """Check the backup in a scratch copy, then copy it over the configured database in one transaction.

    Why the backup API into the database rather than a new file renamed over it: SQLite writes it as one
    transaction through its journal, so a crash or a full disk leaves the old database whole; no stale -wal
    or -shm file can ever be applied to the new one; a connection left open (a server that was not stopped)
    sees the old or the new database, never a deleted file; and the file keeps its owner and permissions.
    """
    settings_dict = connections[using].settings_dict
    target = database_file(settings_dict)
    if not target.parent.is_dir():
        raise BackupError(_("The folder %(path)s of the database does not exist.") % {"path": target.parent})
    timeout = settings_dict.get("OPTIONS", {}).get("timeout", 20)
    with tempfile.TemporaryDirectory(prefix=".crm-restore-", dir=target.parent) as scratch:
        snapshot_path = Path(scratch) / "snapshot.sqlite3"
        _unpack(path, snapshot_path)
        backup_db = sqlite3.connect(snapshot_path, isolation_level=None)
        try:
            applied = _check(backup_db, path)
            missing = migrations_missing(applied, path)
            replaced = before_replacing()
            target_db = sqlite3.connect(target, timeout=timeout, isolation_level=None)
            try:
                target_db.execute("PRAGMA synchronous=FULL")
                backup_db.backup(target_db)  # all pages in one step: one write transaction
            except sqlite3.Error as error:
                raise BackupError(_("The restore failed and was rolled back; nothing was changed: %(error)s")
                                  % {"error": error}) from None
            finally:
                target_db.close()
        finally:
            backup_db.close()
    return replaced, missing


def _unpack(path: Path, destination: Path) -> None:
    """Decompress (or copy) the backup to `destination`; a truncated or corrupt gzip stream is refused."""
    try:
        with open(path, "rb") as stream:
            packed = stream.read(2) == GZIP_MAGIC
        with (gzip.open(path, "rb") if packed else open(path, "rb")) as source, open(destination, "wb") as unpacked:
            shutil.copyfileobj(source, unpacked, COPY_CHUNK)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise damaged(path, error) from None


def _check(database: sqlite3.Connection, path: Path) -> set[tuple[str, str]]:
    """The backup's applied migrations, once PRAGMA integrity_check has found the whole file sound."""
    try:
        problems = [row[0] for row in database.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise damaged(path, "; ".join(problems[:3]))
        if not _table_exists(database, "django_migrations"):
            return set()
        return set(database.execute("SELECT app, name FROM django_migrations"))
    except sqlite3.DatabaseError as error:
        raise damaged(path, error) from None


def row_counts(database: sqlite3.Connection) -> dict[str, int]:
    return {
        table: database.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        for table, _label in COUNTED_TABLES if _table_exists(database, table)
    }


def _table_exists(database: sqlite3.Connection, table: str) -> bool:
    found = database.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    return found is not None
