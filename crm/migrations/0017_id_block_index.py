"""PostgreSQL: the per-block row counts (migration 0007) by table and block, whatever the status.

A deep page of every status sums the counts of the blocks nearest its end of the table first
(crm.paging.DeepPageQuerySet._counted_page); this index reads just those blocks, and the first or last block
of a table, instead of every count row (the primary key starts with the status)."""

from django.db import migrations

CREATE_SQL = "CREATE INDEX crm_id_block_table_block ON crm_id_block (table_name, block)"
DROP_SQL = "DROP INDEX IF EXISTS crm_id_block_table_block"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_SQL)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0016_client_search_statistics"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
