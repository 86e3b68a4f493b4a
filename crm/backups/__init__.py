"""Backups of the whole database, taken while the app serves, and restores that check the file first.

SQLite (sqlite.py): the online backup API copies one read snapshot of the live file, gzip-compressed.
PostgreSQL (postgresql.py): pg_dump's custom format, restored by pg_restore through psql in one transaction.
A restore reads the whole file before it touches the database, and refuses a non-empty database (unless forced),
a backup of the other database kind and a backup from a newer schema; an older one is migrated after it.
"""

import gzip
import os
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connections
from django.utils.translation import gettext as _

from crm.backups.common import COUNTED_TABLES, BackupError, counts_text, damaged
from crm.backups.postgresql import PG_DUMP_MAGIC, postgresql_backup, postgresql_restore
from crm.backups.sqlite import GZIP_MAGIC, SQLITE_MAGIC, sqlite_backup, sqlite_restore

__all__ = ["Backup", "BackupError", "Restore", "backup_create", "backup_file_kind", "backup_prune",
           "backup_restore", "counts_text", "database_counts"]

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
KIND_NAMES = {SQLITE: "SQLite", POSTGRESQL: "PostgreSQL"}
EXTENSIONS = {SQLITE: "sqlite3.gz", POSTGRESQL: "dump"}
# crm-sqlite-20261130-031500Z.sqlite3.gz: the database kind, then the time in UTC, so that names sort by time.
BACKUP_NAME = re.compile(r"^crm-(?P<kind>sqlite|postgresql)-\d{8}-\d{6}Z\.(?:sqlite3\.gz|dump)$")


@dataclass
class Backup:
    path: Path
    size: int
    counts: dict[str, int]
    removed: list[Path] = field(default_factory=list)


@dataclass
class Restore:
    counts: dict[str, int]
    replaced: dict[str, int]
    migrated: list[str]


def database_kind(using: str = "default") -> str:
    vendor = connections[using].vendor
    if vendor not in KIND_NAMES:
        raise BackupError(_("Backups support SQLite and PostgreSQL databases, not %(vendor)s.") % {"vendor": vendor})
    return vendor


def backup_create(*, output: str | Path | None = None, keep: int | None = None, using: str = "default") -> Backup:
    """Write a consistent backup of the live database to `output` (a file, or a folder: one that exists or a
    path ending in a slash; default BACKUP_DIR)."""
    kind = database_kind(using)
    path = _backup_path(kind, output)
    try:
        if kind == SQLITE:
            counts = sqlite_backup(using=using, path=path)
        else:
            counts = postgresql_backup(using=using, path=path)
    except OSError as error:
        raise _cannot_write(path, error) from None
    except DatabaseError as error:
        raise BackupError(_("Cannot read the database: %(error)s") % {"error": str(error).strip()}) from None
    removed = backup_prune(directory=path.parent, kind=kind, keep=keep) if keep else []
    return Backup(path=path, size=path.stat().st_size, counts=counts, removed=removed)


def _cannot_write(path: Path, error: OSError) -> BackupError:
    return BackupError(_("Cannot write the backup to %(path)s: %(error)s") % {"path": path, "error": error})


def backup_prune(*, directory: Path, kind: str, keep: int) -> list[Path]:
    """Remove all but the newest `keep` backups of this database kind in `directory`; other files stay."""
    if keep < 1:
        raise BackupError(_("--keep must be at least 1."))
    ours = sorted(
        path for path in directory.iterdir()
        if (match := BACKUP_NAME.match(path.name)) and match["kind"] == kind and path.is_file()
    )
    old = ours[:-keep]
    for path in old:
        path.unlink()
    return old


def _backup_path(kind: str, output: str | Path | None) -> Path:
    name = f"crm-{kind}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}Z.{EXTENSIONS[kind]}"
    if output is None:
        path = Path(settings.BACKUP_DIR) / name
    elif Path(output).is_dir() or str(output).endswith(("/", os.sep)):
        path = Path(output) / name
    else:
        path = Path(output)
    try:
        # Backups hold every client's personal data: a folder made here is its owner's only.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise _cannot_write(path, error) from None
    if path.name == name and path.exists():
        raise BackupError(_("%(path)s already exists; nothing was written.") % {"path": path})
    return path


def backup_restore(*, path: Path, force: bool = False, using: str = "default", log=lambda message: None) -> Restore:
    """Restore a backup into the database once the whole file is checked; a non-empty database only with `force`."""
    kind = database_kind(using)
    file_kind = backup_file_kind(path)
    if file_kind != kind:
        raise BackupError(
            _("This is a %(file_kind)s backup, and the configured database is %(kind)s: restore it into a "
              "%(file_kind)s database (set DATABASE_URL); nothing was changed.")
            % {"file_kind": KIND_NAMES[file_kind], "kind": KIND_NAMES[kind]}
        )

    def before_replacing() -> dict[str, int]:
        """The last step before the database changes: refuse to overwrite data unless forced."""
        present = database_counts(using)
        if any(present.values()):
            if not force:
                raise BackupError(
                    _("The database is not empty (%(counts)s). Restore into an empty database, or add --force to "
                      "replace all of its contents with the backup; nothing was changed.")
                    % {"counts": counts_text(present)}
                )
            log(_("Replacing the database's current contents (%(counts)s) with the backup.")
                % {"counts": counts_text(present)})
        connections[using].close()
        return present

    restore = sqlite_restore if kind == SQLITE else postgresql_restore
    try:
        replaced, missing = restore(path=path, using=using, before_replacing=before_replacing)
    except OSError as error:  # a scratch copy that does not fit on the disk, a folder that cannot be written
        raise BackupError(_("The restore failed and was rolled back; nothing was changed: %(error)s")
                          % {"error": error}) from None
    connections[using].close()
    if missing:
        call_command("migrate", database=using, interactive=False, verbosity=0)
    return Restore(counts=database_counts(using), replaced=replaced,
                   migrated=[f"{app}.{name}" for app, name in missing])


def backup_file_kind(path: Path) -> str:
    """SQLITE or POSTGRESQL, from the file's first bytes rather than its name; anything else is refused."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(len(SQLITE_MAGIC))
        if head.startswith(GZIP_MAGIC):
            with gzip.open(path, "rb") as stream:
                head = stream.read(len(SQLITE_MAGIC))
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise damaged(path, error) from None
    except OSError as error:
        raise BackupError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": error.strerror}) from None
    if head.startswith(SQLITE_MAGIC):
        return SQLITE
    if head.startswith(PG_DUMP_MAGIC):
        return POSTGRESQL
    if not head:
        raise damaged(path, _("the file is empty"))
    raise BackupError(
        _("%(path)s is not a backup made by manage.py backup (neither a SQLite database, compressed or not, nor "
          "a pg_dump custom-format archive); nothing was changed.") % {"path": path}
    )


def database_counts(using: str = "default") -> dict[str, int]:
    """Rows of the counted tables present in the database (a fresh database has none)."""
    connection = connections[using]
    try:
        tables = set(connection.introspection.table_names())
        counts = {}
        with connection.cursor() as cursor:
            for table, _label in COUNTED_TABLES:
                if table in tables:
                    cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
                    counts[table] = cursor.fetchone()[0]
        return counts
    except DatabaseError as error:
        raise BackupError(_("Cannot read the database: %(error)s") % {"error": str(error).strip()}) from None
