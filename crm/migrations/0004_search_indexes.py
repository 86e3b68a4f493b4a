"""Indexes that let search find a substring of `search_text` without reading every row.

SQLite: an FTS5 table with the trigram tokenizer per searchable table, holding only the index
(external content), kept in step with the rows by triggers. PostgreSQL: pg_trgm GIN indexes,
which serve the plain `LIKE '%term%'` that `contains` produces. Other databases get nothing
and search keeps scanning. crm/search.py and crm/selectors.py use them.
"""

from django.db import migrations

SEARCHED_TABLES = ("crm_client", "crm_order")


def fts_table(table: str) -> str:
    return f"{table}_search"


def sqlite_create(table: str) -> list[str]:
    fts = fts_table(table)
    return [
        # case_sensitive 1: search_text is already lower-cased (Unicode-aware) by crm.search,
        # so matching is byte-exact, exactly like the `contains` lookup it replaces.
        f"CREATE VIRTUAL TABLE {fts} USING fts5("
        f"search_text, content='{table}', content_rowid='id', tokenize='trigram case_sensitive 1')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def sqlite_drop(table: str) -> list[str]:
    fts = fts_table(table)
    return [f"DROP TRIGGER IF EXISTS {fts}_{suffix}" for suffix in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {fts}"]


def create_search_indexes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = [sql for table in SEARCHED_TABLES for sql in sqlite_create(table)]
    elif vendor == "postgresql":
        statements = ["CREATE EXTENSION IF NOT EXISTS pg_trgm"] + [
            f"CREATE INDEX IF NOT EXISTS {table}_search_trgm ON {table} USING gin (search_text gin_trgm_ops)"
            for table in SEARCHED_TABLES
        ]
    else:
        return
    for sql in statements:
        schema_editor.execute(sql)


def drop_search_indexes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = [sql for table in SEARCHED_TABLES for sql in sqlite_drop(table)]
    elif vendor == "postgresql":
        statements = [f"DROP INDEX IF EXISTS {table}_search_trgm" for table in SEARCHED_TABLES]
    else:
        return
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_performance_indexes"),
    ]

    operations = [
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
