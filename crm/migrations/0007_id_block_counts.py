"""PostgreSQL: row counts per block of ids, so a deep page does not step over every row before it.

`OFFSET 100000` on PostgreSQL walks 100,000 index entries (about 10 ms); SQLite walks them several
times faster. For pages ordered by id, crm/selectors.py instead sums these counts to find the block of
ids the page starts in and steps over at most one block. The counts are per table, status and block
of 2**11 ids, kept exact by statement-level triggers in the same transaction as the rows:

- every INSERT/UPDATE/DELETE statement appends its net changes to crm_id_block_change (no row locks,
  so concurrent writers never wait for each other, however long their transactions);
- the one writer that gets a transaction-level advisory lock folds the appended changes into
  crm_id_block (only it ever writes there; the others skip the fold and leave it to the next one);
- a reader sums both tables in the same snapshot as the rows it pages through.

SQLite needs none of this (its deep pages are fast enough) and other databases get nothing; without
counts the selector falls back to the plain OFFSET, so results never depend on this migration.
"""

from django.db import migrations

COUNTED_TABLES = ("crm_client", "crm_order")
BLOCK_BITS = 11  # crm.paging.ID_BLOCK_BITS must be the same.
FOLD_LOCK_KEY = 7_340_011  # pg_try_advisory_xact_lock key of the fold.

CREATE_SQL = [
    """
    CREATE TABLE crm_id_block (
        table_name text NOT NULL,
        status varchar(20) NOT NULL,
        block bigint NOT NULL,
        row_count bigint NOT NULL,
        PRIMARY KEY (table_name, status, block)
    )
    """,
    """
    CREATE TABLE crm_id_block_change (
        table_name text NOT NULL,
        status varchar(20) NOT NULL,
        block bigint NOT NULL,
        row_count bigint NOT NULL
    )
    """,
    f"""
    CREATE FUNCTION crm_id_block_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO crm_id_block_change (table_name, status, block, row_count)
            SELECT TG_TABLE_NAME, status, id >> {BLOCK_BITS}, count(*)
            FROM new_rows GROUP BY status, id >> {BLOCK_BITS};
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO crm_id_block_change (table_name, status, block, row_count)
            SELECT TG_TABLE_NAME, status, id >> {BLOCK_BITS}, -count(*)
            FROM old_rows GROUP BY status, id >> {BLOCK_BITS};
        ELSE
            INSERT INTO crm_id_block_change (table_name, status, block, row_count)
            SELECT TG_TABLE_NAME, status, block, sum(change)
            FROM (
                SELECT status, id >> {BLOCK_BITS} AS block, 1 AS change FROM new_rows
                UNION ALL
                SELECT status, id >> {BLOCK_BITS}, -1 FROM old_rows
            ) AS changed
            GROUP BY status, block HAVING sum(change) <> 0;
        END IF;
        IF pg_try_advisory_xact_lock({FOLD_LOCK_KEY}) THEN
            WITH moved AS (
                DELETE FROM crm_id_block_change RETURNING table_name, status, block, row_count
            )
            INSERT INTO crm_id_block AS counted (table_name, status, block, row_count)
            SELECT table_name, status, block, sum(row_count) FROM moved GROUP BY table_name, status, block
            ON CONFLICT (table_name, status, block)
            DO UPDATE SET row_count = counted.row_count + EXCLUDED.row_count;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE FUNCTION crm_id_block_forget() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM crm_id_block WHERE table_name = TG_TABLE_NAME;
        DELETE FROM crm_id_block_change WHERE table_name = TG_TABLE_NAME;
        RETURN NULL;
    END
    $$
    """,
]


def table_sql(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_id_block_insert AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION crm_id_block_track()",
        f"CREATE TRIGGER {table}_id_block_update AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION crm_id_block_track()",
        f"CREATE TRIGGER {table}_id_block_delete AFTER DELETE ON {table} "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION crm_id_block_track()",
        f"CREATE TRIGGER {table}_id_block_truncate AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION crm_id_block_forget()",
        f"INSERT INTO crm_id_block (table_name, status, block, row_count) "
        f"SELECT '{table}', status, id >> {BLOCK_BITS}, count(*) FROM {table} GROUP BY status, id >> {BLOCK_BITS}",
    ]


def create_block_counts(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in CREATE_SQL + [sql for table in COUNTED_TABLES for sql in table_sql(table)]:
        schema_editor.execute(sql)


def drop_block_counts(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in COUNTED_TABLES:
        for event in ("insert", "update", "delete", "truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_id_block_{event} ON {table}")
    for sql in ("DROP FUNCTION IF EXISTS crm_id_block_track()", "DROP FUNCTION IF EXISTS crm_id_block_forget()",
                "DROP TABLE IF EXISTS crm_id_block_change", "DROP TABLE IF EXISTS crm_id_block"):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0006_refuse_nul_characters"),
    ]

    operations = [
        migrations.RunPython(create_block_counts, drop_block_counts, elidable=False),
    ]
