"""A large synthetic data set, inserted fast, for benchmarks and load tests (`manage.py generate_data`).

Rows are plain tuples, never model instances, and go in through the driver directly: executemany of one
prepared INSERT on SQLite, COPY on PostgreSQL. The order table's secondary indexes (and SQLite's full-text
index) are dropped for the load and built once at the end, inside the same transaction, so a failed run
leaves the database as it was. The stored values are those the domain stores (normalize_fields): the
e-mail, the phone and the search text come from the same functions, and a test compares them row by row.
"""

import bisect
import itertools
import random
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from tqdm import tqdm

from crm.devtools import demo_data
from crm.models import Client, Order, normalize_email, normalize_phone
from crm.search import search_document
from reports.rollups import rollups_rebuilt_after

CHUNK_ROWS = 50_000  # rows per driver call: the unit of the progress bar
# demo_data.STATUS_WEIGHTS as cumulative fractions: one rng.random() and a bisect pick an order's status.
STATUS_NAMES = [name for name, _weight in demo_data.STATUS_WEIGHTS]
STATUS_CUTS = list(itertools.accumulate(weight / sum(w for _n, w in demo_data.STATUS_WEIGHTS)
                                        for _name, weight in demo_data.STATUS_WEIGHTS))[:-1]


def _as_utc_text(moment: datetime) -> str:
    """A naive UTC datetime as the backend stores it: Django's SQLite text form; with the offset on PostgreSQL."""
    return str(moment) if connection.vendor == "sqlite" else f"{moment}+00:00"


def _columns(model, produced: list[str]) -> tuple[list[str], tuple]:
    """The model's insertable columns: those the generator produces, then the rest with their constant
    defaults (a field added later gets its default without touching this module)."""
    fields = {f.attname: f for f in model._meta.concrete_fields if not f.generated}
    extra, defaults = [], []
    for attname, field in fields.items():
        if attname in produced or (field.primary_key and attname not in produced):
            continue
        if not field.has_default() or callable(field.default):
            raise RuntimeError(f"generate_data does not know how to fill {model.__name__}.{attname}")
        extra.append(attname)
        defaults.append(field.get_db_prep_save(field.get_default(), connection))
    columns = [fields[name].column for name in produced] + [fields[name].column for name in extra]
    return columns, tuple(defaults)


def load_rows(model, produced: list[str], rows, *, total: int, desc: str, progress: bool) -> None:
    """Insert tuples (values in the order of `produced`) through the driver: COPY on PostgreSQL,
    executemany of one prepared INSERT elsewhere."""
    columns, defaults = _columns(model, produced)
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(column) for column in columns)
    bar = tqdm(total=total, desc=desc, unit_scale=True, disable=not progress)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the driver's cursor: no Django wrapping per row
        if connection.vendor == "postgresql":
            with raw.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for count, row in enumerate(rows, 1):
                    copy.write_row(row + defaults)
                    if count % CHUNK_ROWS == 0:
                        bar.update(CHUNK_ROWS)
                bar.update(total - bar.n)
        else:
            placeholders = ", ".join(["?" if connection.vendor == "sqlite" else "%s"] * len(columns))
            statement = f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})"
            chunk = []
            for row in rows:
                chunk.append(row + defaults)
                if len(chunk) == CHUNK_ROWS:
                    raw.executemany(statement, chunk)
                    bar.update(len(chunk))
                    chunk = []
            if chunk:
                raw.executemany(statement, chunk)
                bar.update(len(chunk))
    bar.close()


def refresh_planner_statistics() -> None:
    """After a bulk load, let the query planner see the new sizes (and PostgreSQL mark pages all-visible)."""
    tables = [Client._meta.db_table, Order._meta.db_table]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # VACUUM cannot run inside a transaction (e.g. in a test); ANALYZE alone can.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            for table in tables:
                cursor.execute(f"{command} {connection.ops.quote_name(table)}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


@contextmanager
def sqlite_search_index_rebuilt_after(table: str):
    """On SQLite, fill the FTS search index once at the end instead of row by row through its triggers."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s AND name LIKE %s",
            [table, f"{table}_search_%"],
        )
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, sql in triggers:
            cursor.execute(sql)
        if triggers:
            fts = connection.ops.quote_name(f"{table}_search")
            cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the table's indexes that no constraint owns (SQLite, PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [table, connection.ops.quote_name(table)],
            )
        else:
            return []
        return cursor.fetchall()


@contextmanager
def indexes_built_after(table: str):
    """Drop the table's secondary indexes and build them again after the load: one sort per index instead of
    millions of random B-tree inserts. Inside the caller's transaction, so a failure restores them."""
    indexes = secondary_indexes(table)
    with connection.cursor() as cursor:
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The deferred foreign-key checks of the loaded rows run now: CREATE INDEX refuses pending ones.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, sql in indexes:
            cursor.execute(sql)


@contextmanager
def sqlite_bulk_load_settings():
    """For the load's own connection on SQLite: a large page cache and memory map (the index builds sort in
    memory), two sorter threads, no fsync (synthetic data: a crash during the load means running it again),
    and a rollback journal instead of the WAL when no one else has the file open, so the pages are written
    once instead of to the WAL and again at its checkpoint."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:  # e.g. in a test: leave it as it is
        yield
        return
    wanted = {"cache_size": -1048576, "mmap_size": 4 * 1024**3, "threads": 2, "synchronous": 0}
    with connection.cursor() as cursor:
        previous = {}
        for name, value in wanted.items():
            cursor.execute(f"PRAGMA {name}")
            row = cursor.fetchone()
            if row is None:  # not offered by this build or database (e.g. mmap_size in memory)
                continue
            previous[name] = row[0]
            cursor.execute(f"PRAGMA {name} = {value}")
        cursor.execute("PRAGMA journal_mode")
        previous_journal_mode = cursor.fetchone()[0]
        cursor.execute("PRAGMA journal_mode = DELETE")  # stays WAL (and says so) while others have it open
        journal_mode = cursor.fetchone()[0]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in previous.items():
                cursor.execute(f"PRAGMA {name} = {int(value)}")
            if journal_mode != previous_journal_mode:
                cursor.execute(f"PRAGMA journal_mode = {previous_journal_mode}")


def client_rows(rng, *, first_id: int, join_offsets: list[float], start: datetime, now_text: str):
    """(id, names, phone, e-mail, status, added_at, updated_at, search_text) per client, normalised as
    Client.normalize_fields() would store them."""
    archived, active = Client.Status.ARCHIVED.value, Client.Status.ACTIVE.value
    for number, offset in enumerate(join_offsets, start=first_id):
        person = demo_data.random_person(rng)
        first_name, last_name, middle_name = person["first_name"], person["last_name"], person["middle_name"]
        phone = normalize_phone(demo_data.random_phone(rng) if rng.random() < 0.92 else "")
        email = normalize_email(demo_data.email_for(person, number, rng))
        status = archived if rng.random() < 0.05 else active
        yield (
            number, first_name, last_name, middle_name, phone, email, status,
            _as_utc_text(start + timedelta(seconds=offset)), now_text,
            search_document(last_name, first_name, middle_name, email, phone=phone),
        )


CLIENT_FIELDS = ["id", "first_name", "last_name", "middle_name", "mobile_phone", "email", "status", "added_at",
                 "updated_at", "search_text"]
ORDER_FIELDS = ["client_id", "product", "quantity", "price", "description", "status", "created_at", "updated_at",
                "search_text"]


def order_rows(rng, *, orders: int, span: float, join_offsets: list[float], client_ids: range, start: datetime,
               now_text: str):
    """(client, product, quantity, price, description, status, created_at, updated_at, search_text) per order,
    in time order, each by a client who had already joined; recent ones are often still pending."""
    products, descriptions = demo_data.PRODUCTS, demo_data.DESCRIPTIONS
    product_count, description_count = len(products), len(descriptions)
    search_texts: dict[tuple[str, str], str] = {}  # normalize_fields() of each (product, description) pair
    pending = Order.Status.PENDING.value
    recent = span - 14 * 86400
    utc_suffix = "" if connection.vendor == "sqlite" else "+00:00"
    random, bisect_right, int_ = rng.random, bisect.bisect_right, int  # int(random() * n): randrange's job, faster
    first_client = client_ids.start
    status_names = STATUS_NAMES
    for offset in sorted(random() * span for _ in range(orders)):
        joined = max(1, bisect_right(join_offsets, offset))
        product, low, high = products[int_(random() * product_count)]
        # Whole roubles ending in 0 (or 90 below the round price), at least 100: a shop's price list.
        price = max(int_(low + random() * (high - low + 1)) // 10 * 10 - (10 if random() < 0.5 else 0), 100)
        quantity = 1 if random() < 0.75 else 2 + int_(random() * 4)
        description = descriptions[int_(random() * description_count)]
        status = status_names[bisect_right(STATUS_CUTS, random())]
        if offset > recent and random() < 0.6:
            status = pending
        key = (product, description)
        search_text = search_texts.get(key)
        if search_text is None:
            search_text = search_texts[key] = search_document(product.strip(), description.strip())
        yield (
            first_client + int_(random() * joined), product, quantity, f"{price}.00", description, status,
            f"{start + timedelta(seconds=offset)}{utc_suffix}", now_text, search_text,
        )


def reset_id_sequence(model) -> None:
    """After rows with explicit ids, let the database's next id follow them (PostgreSQL's sequences)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [model])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def generate_data(*, clients: int, orders: int, days: int, seed: int | None, progress: bool) -> dict[str, float]:
    """Add `clients` clients and `orders` orders dated over the last `days` days, without history rows;
    return the seconds each phase took."""
    timings: dict[str, float] = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    start = now - timedelta(days=days)
    span = (now - start).total_seconds()
    now_text = _as_utc_text(now)

    # Clients join over the whole period, a quarter of them right at its start, oldest first.
    join_offsets = sorted(0.0 if rng.random() < 0.25 else rng.random() * span for _ in range(clients))
    # The report rollups: no trigger per row during the load, one GROUP BY per rollup at its end.
    with sqlite_bulk_load_settings(), transaction.atomic(), rollups_rebuilt_after():
        first_id = (Client.objects.aggregate(last=Max("id"))["last"] or 0) + 1
        with sqlite_search_index_rebuilt_after(Client._meta.db_table):
            load_rows(Client, CLIENT_FIELDS,
                      client_rows(rng, first_id=first_id, join_offsets=join_offsets, start=start, now_text=now_text),
                      total=clients, desc=_("Clients"), progress=progress)
        reset_id_sequence(Client)
        timings["clients"] = time.perf_counter() - started

        table = Order._meta.db_table
        with sqlite_search_index_rebuilt_after(table), indexes_built_after(table):
            load_rows(Order, ORDER_FIELDS,
                      order_rows(rng, orders=orders, span=span, join_offsets=join_offsets,
                                 client_ids=range(first_id, first_id + clients), start=start, now_text=now_text),
                      total=orders, desc=_("Orders"), progress=progress)
            timings["orders"] = time.perf_counter() - started - timings["clients"]
        timings["indexes"] = time.perf_counter() - started - timings["clients"] - timings["orders"]
        mark = time.perf_counter()
    timings["rollups"] = time.perf_counter() - mark

    mark = time.perf_counter()
    refresh_planner_statistics()
    timings["statistics"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    # This process's CPU time (SQLite works in it; PostgreSQL's server does not count): on a busy machine,
    # the figure that says what the load costs.
    timings["cpu"] = time.process_time() - cpu_started
    return timings
