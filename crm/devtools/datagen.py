"""A large synthetic data set, inserted fast, for benchmarks and load tests (`manage.py generate_data`)."""

import bisect
import random
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from tqdm import tqdm

from crm.devtools import demo_data
from crm.models import Client, Order
from reports.rollups import rollups_rebuilt_after

BATCH_SIZE = 5000


def insert_rows(objs: list) -> None:
    """INSERT the rows with multi-row INSERT statements: faster than bulk_create (no model
    machinery, no ids returned), and one statement per batch for the statement-level triggers."""
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
    for field in fields:
        if getattr(field, "auto_now", False):
            for obj in objs:
                setattr(obj, field.attname, timezone.now())
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row_placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = connection.ops.quote_name(model._meta.db_table)
    # Django's limit where the database has one (SQLite's parameters); statements of 1,000 rows elsewhere.
    batch_size = min(1000, connection.ops.bulk_batch_size(fields, objs))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            values = ", ".join([row_placeholders] * len(batch))
            params = [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in batch for field in fields]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {values}", params)


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


def generate_data(*, clients: int, orders: int, days: int, seed: int | None, progress: bool) -> None:
    """Add `clients` clients and `orders` orders dated over the last `days` days, without history rows."""
    # The report rollups: no trigger per row during the load, one GROUP BY per rollup at its end.
    with rollups_rebuilt_after():
        _insert_data(clients=clients, orders=orders, days=days, seed=seed, progress=progress)
    refresh_planner_statistics()


def _insert_data(*, clients: int, orders: int, days: int, seed: int | None, progress: bool) -> None:
    rng = random.Random(seed)
    now = timezone.now()
    start = now - timedelta(days=days)
    span = (now - start).total_seconds()

    # Clients join over the whole period, a quarter of them right at its start, oldest first.
    join_offsets = sorted(0.0 if rng.random() < 0.25 else rng.random() * span for _ in range(clients))
    first_number = (Client.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    client_rows = []
    for number, offset in enumerate(join_offsets, start=first_number):
        person = demo_data.random_person(rng)
        client = Client(
            **person,
            mobile_phone=demo_data.random_phone(rng) if rng.random() < 0.92 else "",
            email=demo_data.email_for(person, number, rng),
            status=Client.Status.ARCHIVED if rng.random() < 0.05 else Client.Status.ACTIVE,
            added_at=start + timedelta(seconds=offset),
        )
        client.normalize_fields()
        client_rows.append(client)
    with transaction.atomic():
        for batch_start in tqdm(
            range(0, len(client_rows), BATCH_SIZE), desc=_("Clients"), unit_scale=BATCH_SIZE, disable=not progress
        ):
            Client.objects.bulk_create(client_rows[batch_start : batch_start + BATCH_SIZE])
    client_ids = [client.pk for client in client_rows]

    # Orders in time order, each by a client who had already joined; recent ones are often still pending.
    order_offsets = sorted(rng.random() * span for _ in range(orders))
    with transaction.atomic(), sqlite_search_index_rebuilt_after(Order._meta.db_table):
        for batch_start in tqdm(
            range(0, orders, BATCH_SIZE), desc=_("Orders"), unit_scale=BATCH_SIZE, disable=not progress
        ):
            batch = []
            for offset in order_offsets[batch_start : batch_start + BATCH_SIZE]:
                joined = max(1, bisect.bisect_right(join_offsets, offset))
                fields = demo_data.random_order_fields(rng)
                age_days = (span - offset) / 86400
                if age_days < 14 and rng.random() < 0.6:
                    fields["status"] = Order.Status.PENDING
                order = Order(
                    client_id=client_ids[rng.randrange(joined)],
                    created_at=start + timedelta(seconds=offset),
                    **fields,
                )
                order.normalize_fields()
                batch.append(order)
            insert_rows(batch)
