"""PostgreSQL: pg_dump's custom format; restored by pg_restore through psql, in one transaction."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.db import connections, transaction
from django.db.backends.postgresql.client import DatabaseClient
from django.utils.translation import gettext as _

from crm.backups.common import COPY_CHUNK, COUNTED_TABLES, BackupError, damaged, migrations_missing, write_atomically

PG_DUMP_MAGIC = b"PGDMP"

# Empties the backup's schemas inside the restore's transaction, so that tables, functions and sequences of a
# newer schema (or of a plain `migrate`) cannot clash with the backup's. Objects of extensions (pg_trgm) stay:
# the archive creates its extensions only if they are missing. The schemas themselves, their owner and their
# privileges stay as they are.
EMPTY_SCHEMAS = """
DO $empty$
DECLARE item record;
BEGIN
    FOR item IN
        SELECT format('DROP %s IF EXISTS %I.%I CASCADE', CASE c.relkind WHEN 'v' THEN 'VIEW'
                      WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE'
                      ELSE 'TABLE' END, n.nspname, c.relname) AS statement
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY (%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype IN ('e', 'a', 'i'))
        UNION ALL
        SELECT format('DROP %s IF EXISTS %s CASCADE', CASE p.prokind WHEN 'p' THEN 'PROCEDURE'
                      WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, p.oid::regprocedure)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY (%(schemas)s)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                          AND d.deptype = 'e')
    LOOP
        EXECUTE item.statement;
    END LOOP;
END
$empty$;
"""


def tool(program: str) -> str:
    """The path of a PostgreSQL client program, or a clear error naming the package to install."""
    found = shutil.which(program)
    if found is None:
        raise BackupError(
            _("%(program)s is not installed; PostgreSQL backups need it. Install the PostgreSQL client tools of "
              "the server's major version or newer (Debian, Ubuntu: apt install postgresql-client).")
            % {"program": program}
        )
    return found


def client_environment(settings_dict: dict) -> dict[str, str]:
    """The libpq variables that point pg_dump, pg_restore and psql at the configured database."""
    _arguments, environment = DatabaseClient.settings_to_cmd_args_env(settings_dict, [])
    environment = {**os.environ, **(environment or {})}
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGDATABASE", "NAME")):
        if settings_dict.get(key):
            environment[variable] = str(settings_dict[key])
    return environment


def postgresql_backup(*, using: str, path: Path) -> dict[str, int]:
    """Dump the database with pg_dump -Fc to `path`; return the row counts of the very snapshot it dumped."""
    pg_dump = tool("pg_dump")
    connection = connections[using]
    environment = client_environment(connection.settings_dict)
    tables = set(connection.introspection.table_names())
    if "django_migrations" not in tables:
        raise BackupError(_("The database %(path)s has no tables of this CRM yet (run manage.py migrate): "
                            "there is nothing to back up.") % {"path": connection.settings_dict["NAME"]})
    with transaction.atomic(using=using), connection.cursor() as cursor:
        # pg_dump reads the snapshot this transaction exports, so the counts printed are those of the file.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot_id = cursor.fetchone()[0]
        counts = {}
        for table, _label in COUNTED_TABLES:
            if table in tables:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
                counts[table] = cursor.fetchone()[0]

        def dump(stream):
            run([pg_dump, "--format=custom", f"--snapshot={snapshot_id}"], environment, stdout=stream)

        write_atomically(path, dump)
    return counts


def postgresql_restore(*, path: Path, using: str, before_replacing) -> tuple[dict, list]:
    """Read the whole archive (a truncated or corrupt one is refused), then replace the database in one transaction."""
    pg_restore, psql = tool("pg_restore"), tool("psql")
    environment = client_environment(connections[using].settings_dict)
    try:
        listing = run([pg_restore, "--list", str(path)], environment).stdout
        # --list reads only the table of contents; decompressing every block to nowhere finds the rest.
        run([pg_restore, "--file", os.devnull, str(path)], environment)
        migrations = run([pg_restore, "--data-only", "--table=django_migrations", "--file", "-", str(path)],
                         environment).stdout
    except BackupError as error:
        raise damaged(path, error) from None
    missing = migrations_missing(_copied_migrations(migrations), path)
    schemas = sorted(_archive_schemas(listing))
    replaced = before_replacing()
    _replace(path, schemas, pg_restore, psql, environment)
    with connections[using].cursor() as cursor:  # planner statistics are not part of a dump
        cursor.execute("ANALYZE")
    return replaced, missing


def _replace(path: Path, schemas: list[str], pg_restore: str, psql: str, environment: dict) -> None:
    """Empty the schemas and load the archive in one psql transaction, committed only after the whole archive."""
    schema_array = "ARRAY[" + ", ".join("'" + name.replace("'", "''") + "'" for name in schemas) + "]::name[]"
    prelude = "\\set ON_ERROR_STOP on\nBEGIN;\nSET client_min_messages = warning;\n"
    prelude += EMPTY_SCHEMAS.replace("%(schemas)s", schema_array)
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        # Comments are left out: COMMENT ON EXTENSION needs the extension's owner, often not the app's role.
        reader = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--no-comments", "--file", "-", str(path)],
            stdout=subprocess.PIPE, stderr=restore_errors, env=environment,
        )
        writer = subprocess.Popen([psql, "--no-psqlrc", "--quiet", "--output", os.devnull, "--file", "-"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors,
                                  env=environment)
        try:
            writer.stdin.write(prelude.encode())
            shutil.copyfileobj(reader.stdout, writer.stdin, COPY_CHUNK)
            # COMMIT only after pg_restore has produced the whole archive: if it stopped half-way, psql reaches
            # the end of its input inside the transaction and the server rolls it back.
            if reader.wait() == 0:
                writer.stdin.write(b"COMMIT;\n")
            writer.stdin.close()
        except BrokenPipeError:
            pass  # psql stopped at an error (ON_ERROR_STOP): its transaction is rolled back
        finally:
            if reader.poll() is None:
                reader.kill()
            reader.wait()
            writer.wait()
        if reader.returncode != 0 or writer.returncode != 0:
            restore_errors.seek(0)
            psql_errors.seek(0)
            error = _last_line(psql_errors.read()) or _last_line(restore_errors.read())
            raise BackupError(_("The restore failed and was rolled back; nothing was changed: %(error)s")
                              % {"error": error})


def run(arguments: list[str], environment: dict, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    completed = subprocess.run(arguments, env=environment, stdout=stdout, stderr=subprocess.PIPE)
    if completed.returncode != 0:
        program = Path(arguments[0]).name
        error = _last_line(completed.stderr).removeprefix(f"{program}: ").removeprefix("error: ")
        raise BackupError(_("%(program)s failed: %(error)s") % {"program": program, "error": error})
    if stdout is subprocess.PIPE:
        completed.stdout = completed.stdout.decode("utf-8", "replace")
    return completed


def _last_line(output: bytes) -> str:
    """The first error line of a program's messages (else the last line): the cause, not its consequences."""
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return errors[0] if errors else (lines[-1] if lines else "")


def _copied_migrations(script: str) -> set[tuple[str, str]]:
    """(app, name) rows of django_migrations from the COPY block of pg_restore's script."""
    rows, inside = set(), False
    for line in script.splitlines():
        if line.startswith("COPY ") and ".django_migrations " in line:
            inside = True
        elif inside and line == "\\.":
            inside = False
        elif inside:
            columns = line.split("\t")  # id, app, name, applied
            if len(columns) >= 3:
                rows.add((columns[1], columns[2]))
    return rows


def _archive_schemas(listing: str) -> set[str]:
    """Schemas holding the archive's tables, sequences, views and functions ('public')."""
    schemas = set()
    for line in listing.splitlines():
        if line.startswith(";") or "; " not in line:
            continue
        words = line.split("; ", 1)[1].split()  # tableoid oid TYPE schema name owner
        if len(words) >= 5 and words[2] in ("TABLE", "SEQUENCE", "VIEW", "FUNCTION") and words[3] != "-":
            schemas.add(words[3])
    return schemas or {"public"}
