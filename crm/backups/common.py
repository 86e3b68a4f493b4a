"""What the SQLite and PostgreSQL backups share: errors, row counts, the schema check and atomic writes."""

import os
import tempfile
from pathlib import Path

from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# What a database holds, for the backup's summary and for refusing to overwrite a database in use.
COUNTED_TABLES = (
    ("crm_client", gettext_lazy("clients")),
    ("crm_order", gettext_lazy("orders")),
    ("crm_historicalorder", gettext_lazy("order history records")),
    ("reports_report", gettext_lazy("reports")),
    ("auth_user", gettext_lazy("users")),
)
COPY_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that was refused or failed; the message says why and what to do."""


def counts_text(counts: dict[str, int]) -> str:
    """'clients: 3, orders: 10, …' in the active language."""
    return ", ".join(f"{label}: {counts[table]}" for table, label in COUNTED_TABLES if table in counts)


def damaged(path: Path, error) -> BackupError:
    return BackupError(
        _("The backup %(path)s is damaged or incomplete (%(error)s); nothing was changed.")
        % {"path": path, "error": str(error).strip() or error.__class__.__name__}
    )


def migrations_missing(applied: set[tuple[str, str]], path: Path) -> list[tuple[str, str]]:
    """The code's migrations the backup lacks (to apply after the restore); refuse a backup from a newer schema."""
    if not applied:
        raise BackupError(
            _("%(path)s holds no django_migrations rows: it is not a backup of this CRM; nothing was changed.")
            % {"path": path}
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    known_apps = {app for app, _name in known}
    # Rows of apps the code no longer has are left alone; an unknown migration of a known app is a newer schema.
    newer = sorted(migration for migration in applied if migration[0] in known_apps and migration not in known)
    if newer:
        raise BackupError(
            _("The backup %(path)s comes from a newer version of the CRM: it has migrations this code does not "
              "know (%(migrations)s). Update the code to that version, then restore; nothing was changed.")
            % {"path": path, "migrations": ", ".join(f"{app}.{name}" for app, name in newer)}
        )
    return sorted(known - applied)


def write_atomically(path: Path, write) -> None:
    """Write a file through a temporary one beside it: `path` is either the old file or the whole new one."""
    # mkstemp creates the file readable by its owner only: a backup holds every client's personal data.
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if os.name == "posix":  # The rename itself survives a power cut only once the folder is flushed.
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
