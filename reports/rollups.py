"""Rollups of orders and clients, kept exact by database triggers, and the reads that reports make of them.

Why triggers: every way an order is written goes through the database — services, admin bulk actions,
history reverts, imports (bulk_create), raw-SQL inserts of the data generator and the demo loader, cascades
and hand-written SQL — and a trigger sees them all, in the same transaction, so a rollup cannot fall out of
step with the orders whatever code is added later. The data generator instead pauses the triggers and
rebuilds once at the end (`rollups_rebuilt_after`): one GROUP BY per table is much cheaper than a trigger
per row. `manage.py rebuild_rollups` recomputes everything from the orders.

Tables (reports/models.py): per UTC hour × status (count, sum); per UTC day, and per block of 32 UTC days, ×
status × product; clients added per UTC day; and per report period the (count, sum) of each client over the whole
UTC hours of the period's current window (RollupPeriod, moved by the first report of each hour: period_move).
Sums are whole cents written as hi × 10^7 + lo, 0 <= lo < 10^7: an order has at most 10^14 cents
(crm.models.MAX_ORDER_TOTAL; 10^16 for rows older than the bound), so hi grows by at most 10^9 per order and no
column overflows before 9·10^9 orders in one row.

SQLite runs row triggers (its writers are serialised anyway); PostgreSQL runs statement triggers over the
transition tables, so a bulk statement makes one grouped upsert per table. On PostgreSQL an order write
takes a shared transaction-level advisory lock before it reads the period windows, and moving a window
takes it exclusively: a window never moves between a writer reading it and committing (see period_move).
"""

from bisect import bisect_right
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction


SPLIT = 10_000_000  # hi × SPLIT + lo
# Day rollups also come in blocks of this many UTC days (counted from 1970-01-01): a year reads 11 blocks and
# at most 2 × 31 single days instead of 365 days.
BLOCK_DAYS = 32
PERIOD_DAYS = {"week": 7, "month": 30, "year": 365}
# pg_advisory_xact_lock key guarding the period windows (shared: writers and readers; exclusive: a move).
PERIOD_LOCK_KEY = 7_340_016

HOUR = "reports_rollup_hour"
DAY = "reports_rollup_day"
CLIENT_DAY = "reports_rollup_client_day"
PERIOD = "reports_rollup_period"
PERIOD_CLIENT = "reports_rollup_period_client"

ORDER_TRIGGERS = ("insert", "update", "delete")
CLIENT_TRIGGERS = ("insert", "update", "delete")


# -- SQL pieces per database -------------------------------------------------------------------------


def _epoch(column: str, vendor: str) -> str:
    if vendor == "sqlite":
        # Stored as UTC text; dates before 1970 do not occur.
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"floor(extract(epoch FROM {column}))::bigint"


def hour_sql(column: str, vendor: str | None = None) -> str:
    vendor = vendor or connection.vendor
    if vendor == "sqlite":
        return f"({_epoch(column, vendor)} / 3600)"
    return f"floor(extract(epoch FROM {column}) / 3600)::bigint"


def day_sql(column: str, vendor: str | None = None) -> str:
    vendor = vendor or connection.vendor
    if vendor == "sqlite":
        return f"({_epoch(column, vendor)} / 86400)"
    return f"floor(extract(epoch FROM {column}) / 86400)::integer"


def cents_sql(column: str, vendor: str | None = None) -> str:
    vendor = vendor or connection.vendor
    if vendor == "sqlite":
        # A stored total is a double within 0.03 cents of the exact one (crm/money.py).
        return f"CAST(ROUND({column} * 100) AS INTEGER)"
    return f"({column} * 100)::bigint"


def span_start(day: str, span: int) -> str:
    return day if span == 1 else f"(({day}) / {span}) * {span}"


def _upsert_set(table: str) -> str:
    """Add a normalised delta (excluded.hi, 0 <= excluded.lo < SPLIT) to a normalised row."""
    return (
        f"count = {table}.count + excluded.count, "
        f"hi = {table}.hi + excluded.hi + ({table}.lo + excluded.lo) / {SPLIT}, "
        f"lo = ({table}.lo + excluded.lo) % {SPLIT}"
    )


def _grouped_delta(count: str, quotient: str, remainder: str) -> tuple[str, str, str]:
    """(count, hi, lo) of a signed sum given as count, SUM(sign × (cents / SPLIT)), SUM(sign × (cents % SPLIT)).

    The sign is that of the whole group (all additions or all subtractions), so the parts have one sign.
    """
    # value = quotient × SPLIT + remainder; normalise to hi × SPLIT + lo with 0 <= lo < SPLIT.
    hi = (
        f"(CASE WHEN ({remainder}) >= 0 THEN ({quotient}) + ({remainder}) / {SPLIT} "
        f"ELSE ({quotient}) - ((-({remainder}) + {SPLIT - 1}) / {SPLIT}) END)"
    )
    lo = f"(CASE WHEN ({remainder}) >= 0 THEN ({remainder}) % {SPLIT} ELSE ({SPLIT} - (-({remainder}) % {SPLIT})) % {SPLIT} END)"
    return count, hi, lo


# -- SQLite row triggers ---------------------------------------------------------------------------------


def _sqlite_apply(row: str, sign: int) -> list[str]:
    """Statements adding (sign 1) or subtracting (sign -1) one order row (NEW or OLD) to every rollup."""
    cents = cents_sql(f"{row}.total_price", "sqlite")
    count, hi, lo = _grouped_delta(str(sign), f"{sign} * ({cents} / {SPLIT})", f"{sign} * ({cents} % {SPLIT})")
    hour = hour_sql(f"{row}.created_at", "sqlite")
    day = day_sql(f"{row}.created_at", "sqlite")
    return [
        f"INSERT INTO {HOUR} (hour, status, count, hi, lo) SELECT {hour}, {row}.status, {count}, {hi}, {lo} WHERE true "
        f"ON CONFLICT (hour, status) DO UPDATE SET {_upsert_set(HOUR)};",
        *(
            f"INSERT INTO {DAY} (span, day, status, product, count, hi, lo) "
            f"SELECT {span}, {span_start(day, span)}, {row}.status, {row}.product, {count}, {hi}, {lo} WHERE true "
            f"ON CONFLICT (span, day, status, product) DO UPDATE SET {_upsert_set(DAY)};"
            for span in (1, BLOCK_DAYS)
        ),
        f"INSERT INTO {PERIOD_CLIENT} (period, client_id, count, hi, lo) "
        f"SELECT period, {row}.client_id, {count}, {hi}, {lo} FROM {PERIOD} "
        f"WHERE first_hour <= {hour} AND {hour} < end_hour "
        f"ON CONFLICT (period, client_id) DO UPDATE SET {_upsert_set(PERIOD_CLIENT)};",
    ]


def _sqlite_client_apply(row: str, sign: int) -> str:
    return (
        f"INSERT INTO {CLIENT_DAY} (day, count) SELECT {day_sql(f'{row}.added_at', 'sqlite')}, {sign} WHERE true "
        f"ON CONFLICT (day) DO UPDATE SET count = {CLIENT_DAY}.count + excluded.count;"
    )


ORDER_CHANGED = (
    "OLD.client_id IS NOT NEW.client_id OR OLD.product IS NOT NEW.product OR OLD.status IS NOT NEW.status "
    "OR OLD.total_price IS NOT NEW.total_price OR OLD.created_at IS NOT NEW.created_at"
)


def sqlite_trigger_sql() -> list[str]:
    plus, minus = _sqlite_apply("NEW", 1), _sqlite_apply("OLD", -1)
    client_plus, client_minus = _sqlite_client_apply("NEW", 1), _sqlite_client_apply("OLD", -1)
    return [
        "CREATE TRIGGER reports_rollup_order_insert AFTER INSERT ON crm_order BEGIN " + " ".join(plus) + " END",
        "CREATE TRIGGER reports_rollup_order_delete AFTER DELETE ON crm_order BEGIN " + " ".join(minus) + " END",
        f"CREATE TRIGGER reports_rollup_order_update AFTER UPDATE ON crm_order WHEN {ORDER_CHANGED} BEGIN "
        + " ".join(minus + plus) + " END",
        f"CREATE TRIGGER reports_rollup_client_insert AFTER INSERT ON crm_client BEGIN {client_plus} END",
        f"CREATE TRIGGER reports_rollup_client_delete AFTER DELETE ON crm_client BEGIN {client_minus} END",
        "CREATE TRIGGER reports_rollup_client_update AFTER UPDATE OF added_at ON crm_client "
        f"WHEN OLD.added_at IS NOT NEW.added_at BEGIN {client_minus} {client_plus} END",
    ]


# -- PostgreSQL statement triggers -----------------------------------------------------------------------


def _pg_changed(sources: list[tuple[str, int]]) -> str:
    """The changed orders with a sign: new rows +1, old rows -1."""
    parts = [
        f"SELECT client_id, product, status, created_at, {cents_sql('total_price', 'postgresql')} AS cents, "
        f"{sign} AS sign FROM {table}"
        for table, sign in sources
    ]
    return " UNION ALL ".join(parts)


def _pg_apply(sources: list[tuple[str, int]]) -> str:
    changed = _pg_changed(sources)
    # numeric: a statement may change any number of rows.
    total = "sum(sign * cents::numeric)"
    hi = f"floor({total} / {SPLIT})::bigint"
    lo = f"({total} - floor({total} / {SPLIT}) * {SPLIT})::bigint"
    having = f"HAVING sum(sign) <> 0 OR {total} <> 0"
    hour = hour_sql("created_at", "postgresql")
    day = day_sql("created_at", "postgresql")
    return f"""
        INSERT INTO {HOUR} AS t (hour, status, count, hi, lo)
        SELECT {hour}, status, sum(sign), {hi}, {lo} FROM ({changed}) AS c GROUP BY 1, 2 {having}
        ORDER BY 1, 2
        ON CONFLICT (hour, status) DO UPDATE SET {_upsert_set('t')};
        INSERT INTO {DAY} AS t (span, day, status, product, count, hi, lo)
        SELECT 1, {day}, status, product, sum(sign), {hi}, {lo} FROM ({changed}) AS c GROUP BY 2, 3, 4 {having}
        ORDER BY 2, 3, 4
        ON CONFLICT (span, day, status, product) DO UPDATE SET {_upsert_set('t')};
        INSERT INTO {DAY} AS t (span, day, status, product, count, hi, lo)
        SELECT {BLOCK_DAYS}, {span_start(day, BLOCK_DAYS)}, status, product, sum(sign), {hi}, {lo} FROM ({changed}) AS c
        GROUP BY 2, 3, 4 {having}
        ORDER BY 2, 3, 4
        ON CONFLICT (span, day, status, product) DO UPDATE SET {_upsert_set('t')};
        PERFORM pg_advisory_xact_lock_shared({PERIOD_LOCK_KEY});
        INSERT INTO {PERIOD_CLIENT} AS t (period, client_id, count, hi, lo)
        SELECT p.period, c.client_id, sum(sign), {hi}, {lo}
        FROM ({changed}) AS c JOIN {PERIOD} AS p ON p.first_hour <= {hour} AND {hour} < p.end_hour
        GROUP BY 1, 2 {having}
        ORDER BY 1, 2
        ON CONFLICT (period, client_id) DO UPDATE SET {_upsert_set('t')};
    """


def pg_trigger_sql() -> list[str]:
    new, old = ("new_rows", 1), ("old_rows", -1)
    order_function = f"""
        CREATE FUNCTION reports_rollup_orders() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_pg_apply([new])}
            ELSIF TG_OP = 'DELETE' THEN
                {_pg_apply([old])}
            ELSE
                {_pg_apply([new, old])}
            END IF;
            RETURN NULL;
        END
        $$
    """
    client_delta = "SELECT {day} AS day, count(*) * {sign} AS count FROM {table} GROUP BY 1"
    client_upsert = (
        f"INSERT INTO {CLIENT_DAY} AS t (day, count) SELECT day, sum(count) FROM ({{changed}}) AS c "
        f"GROUP BY day HAVING sum(count) <> 0 ORDER BY day "
        f"ON CONFLICT (day) DO UPDATE SET count = t.count + excluded.count;"
    )
    day = day_sql("added_at", "postgresql")
    plus = client_delta.format(day=day, sign=1, table="new_rows")
    minus = client_delta.format(day=day, sign=-1, table="old_rows")
    client_function = f"""
        CREATE FUNCTION reports_rollup_clients() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {client_upsert.format(changed=plus)}
            ELSIF TG_OP = 'DELETE' THEN
                {client_upsert.format(changed=minus)}
            ELSE
                {client_upsert.format(changed=plus + ' UNION ALL ' + minus)}
            END IF;
            RETURN NULL;
        END
        $$
    """
    statements = [order_function, client_function]
    for table, function in (("crm_order", "reports_rollup_orders"), ("crm_client", "reports_rollup_clients")):
        name = "order" if table == "crm_order" else "client"
        statements += [
            f"CREATE TRIGGER reports_rollup_{name}_insert AFTER INSERT ON {table} "
            f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER reports_rollup_{name}_update AFTER UPDATE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER reports_rollup_{name}_delete AFTER DELETE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    return statements


def _trigger_names() -> list[tuple[str, str]]:
    return [(f"reports_rollup_order_{event}", "crm_order") for event in ORDER_TRIGGERS] + [
        (f"reports_rollup_client_{event}", "crm_client") for event in CLIENT_TRIGGERS
    ]


def install_triggers(cursor, vendor: str) -> None:
    if vendor == "sqlite":
        statements = sqlite_trigger_sql()
    elif vendor == "postgresql":
        statements = pg_trigger_sql()
    else:
        return
    for sql in statements:
        cursor.execute(sql)


def install_period_trigger(cursor, vendor: str) -> None:
    if vendor == "sqlite":
        for sql in sqlite_period_trigger_sql():
            cursor.execute(sql)
    elif vendor == "postgresql":
        for sql in pg_period_trigger_sql():
            cursor.execute(sql)
    if vendor in ("sqlite", "postgresql"):
        for period in PERIOD_DAYS:
            cursor.execute(f"INSERT INTO {PERIOD} (period, first_hour, end_hour) VALUES ('{period}', 0, 0)")


def drop_period_trigger(cursor, vendor: str) -> None:
    if vendor == "sqlite":
        cursor.execute("DROP TRIGGER IF EXISTS reports_rollup_period_move")
        cursor.execute("DROP TRIGGER IF EXISTS reports_rollup_period_insert")
    elif vendor == "postgresql":
        cursor.execute(f"DROP TRIGGER IF EXISTS reports_rollup_period_move ON {PERIOD}")
        cursor.execute(f"DROP TRIGGER IF EXISTS reports_rollup_period_insert ON {PERIOD}")
        cursor.execute("DROP FUNCTION IF EXISTS reports_rollup_period_move()")
        cursor.execute("DROP FUNCTION IF EXISTS reports_rollup_period_insert()")
        cursor.execute("DROP FUNCTION IF EXISTS reports_rollup_period_add(text, bigint, bigint, integer)")


def drop_triggers(cursor, vendor: str) -> None:
    for name, table in _trigger_names():
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if vendor == "postgresql" else ""))
    if vendor == "postgresql":
        cursor.execute("DROP FUNCTION IF EXISTS reports_rollup_orders()")
        cursor.execute("DROP FUNCTION IF EXISTS reports_rollup_clients()")


# -- Rebuild ---------------------------------------------------------------------------------------------


def _sum_columns(cents: str) -> tuple[str, str, str]:
    """(count, hi, lo) of a group of orders, normalised; the parts' SUMs cannot overflow."""
    return _grouped_delta("count(*)", f"CAST(sum({cents} / {SPLIT}) AS bigint)", f"CAST(sum({cents} % {SPLIT}) AS bigint)")


def rebuild(*, now: datetime | None = None) -> None:
    """Recompute every rollup from the orders and clients (also moves every period to its window ending now)."""
    from django.utils import timezone

    vendor = connection.vendor
    cents = cents_sql("total_price", vendor)
    count, hi, lo = _sum_columns(cents)
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PERIOD_LOCK_KEY])
        for table in (HOUR, DAY, CLIENT_DAY, PERIOD_CLIENT):
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            f"INSERT INTO {HOUR} (hour, status, count, hi, lo) "
            f"SELECT {hour_sql('created_at')}, status, {count}, {hi}, {lo} FROM crm_order GROUP BY 1, 2"
        )
        cursor.execute(
            f"INSERT INTO {DAY} (span, day, status, product, count, hi, lo) "
            f"SELECT 1, {day_sql('created_at')}, status, product, {count}, {hi}, {lo} FROM crm_order GROUP BY 2, 3, 4"
        )
        block_count, block_hi, block_lo = _grouped_delta(
            "sum(count)", "CAST(sum(hi) AS bigint)", "CAST(sum(lo) AS bigint)"
        )
        cursor.execute(
            f"INSERT INTO {DAY} (span, day, status, product, count, hi, lo) "
            f"SELECT {BLOCK_DAYS}, {span_start('day', BLOCK_DAYS)}, status, product, {block_count}, {block_hi}, "
            f"{block_lo} FROM {DAY} WHERE span = 1 GROUP BY 2, 3, 4"
        )
        cursor.execute(
            f"INSERT INTO {CLIENT_DAY} (day, count) SELECT {day_sql('added_at')}, count(*) FROM crm_client GROUP BY 1"
        )
        now = now or timezone.now()
        # Start every period over: from no days, the move trigger reads the whole window.
        for period in PERIOD_DAYS:
            cursor.execute(
                f"INSERT INTO {PERIOD} (period, first_hour, end_hour) VALUES (%s, 0, 0) ON CONFLICT (period) DO NOTHING",
                [period],
            )
        cursor.execute(f"UPDATE {PERIOD} SET first_hour = 0, end_hour = 0")
        for period in PERIOD_DAYS:
            first_hour, end_hour = whole_hours(*_window(period, now))
            period_move(period, first_hour, end_hour)
        # The planner's statistics of the rollups, which a rebuild changes wholesale.
        for table in (HOUR, DAY, CLIENT_DAY, PERIOD, PERIOD_CLIENT):
            cursor.execute(f"ANALYZE {table}")


def _window(period: str, now: datetime) -> tuple[datetime, datetime]:
    from reports.services import report_window

    return report_window(period=period, now=now)


@contextmanager
def rollups_rebuilt_after():
    """Pause the rollup triggers during a bulk load and rebuild every rollup once at the end (one transaction)."""
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            drop_triggers(cursor, vendor)
        yield
        with connection.cursor() as cursor:
            install_triggers(cursor, vendor)
        rebuild()


# -- Days and instants -----------------------------------------------------------------------------------

DAY_SECONDS = 86400


def instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def db_time(moment: datetime):
    """A datetime as the database compares it in raw SQL (on SQLite: UTC text, like the stored values)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _floor(moment: datetime, unit: int) -> int:
    seconds = moment.timestamp()
    return int(seconds // unit)


def _ceil(moment: datetime, unit: int) -> int:
    return -int((-moment.timestamp()) // unit)


def whole_hours(start: datetime, end: datetime) -> tuple[int, int]:
    return _ceil(start, 3600), _floor(end, 3600)


def edges(start: datetime, end: datetime, unit: int) -> tuple[int, int, list[tuple[datetime, datetime]]]:
    """The whole units [first, last) inside [start, end) and the partial ranges left at both ends."""
    first, last = _ceil(start, unit), _floor(end, unit)
    if first >= last:
        return first, first, [(start, end)]
    ranges = [(start, instant(first * unit)), (instant(last * unit), end)]
    return first, last, [(low, high) for low, high in ranges if low < high]


# -- Periods: per-client sums over the whole days of a window --------------------------------------------


def _hour_start(hour: str, vendor: str) -> str:
    if vendor == "sqlite":
        return f"datetime(({hour}) * 3600, 'unixepoch')"
    return f"to_timestamp(({hour})::bigint * 3600)"


def _period_add_sql(period: str, first: str, end: str, sign: str, vendor: str, condition: str = "true") -> str:
    """Add (sign 1) or subtract (sign -1) the orders of the UTC hours [first, end) to a period's client sums."""
    cents = cents_sql("total_price", vendor)
    count, hi, lo = _grouped_delta(
        f"{sign} * count(*)",
        f"{sign} * CAST(sum({cents} / {SPLIT}) AS bigint)",
        f"{sign} * CAST(sum({cents} % {SPLIT}) AS bigint)",
    )
    return (
        f"INSERT INTO {PERIOD_CLIENT} (period, client_id, count, hi, lo) "
        f"SELECT {period}, client_id, {count}, {hi}, {lo} FROM crm_order "
        f"WHERE ({condition}) AND created_at >= {_hour_start(first, vendor)} AND created_at < {_hour_start(end, vendor)} "
        f"GROUP BY client_id ORDER BY client_id "
        f"ON CONFLICT (period, client_id) DO UPDATE SET {_upsert_set(PERIOD_CLIENT)};"
    )


def _moves(least: str, greatest: str) -> dict:
    """The day ranges a move changes, from OLD (o) to NEW (n) windows, as SQL over OLD/NEW."""
    o0, o1, n0, n1 = "OLD.first_hour", "OLD.end_hour", "NEW.first_hour", "NEW.end_hour"
    leaving = [(o0, f"{least}({n0}, {o1})"), (f"{greatest}({n1}, {o0})", o1)]
    entering = [(n0, f"{least}({o0}, {n1})"), (f"{greatest}({o1}, {n0})", n1)]
    moved = " + ".join(f"{greatest}(0, ({b}) - ({a}))" for a, b in leaving + entering)
    # Step the sums when that reads fewer days than starting over (and there is something to step from).
    incremental = f"({o0} < {o1} AND ({moved}) < {n1} - {n0})"
    return {"leaving": leaving, "entering": entering, "incremental": incremental}


def sqlite_period_trigger_sql() -> list[str]:
    moves = _moves("min", "max")
    inc = moves["incremental"]
    statements = [
        f"DELETE FROM {PERIOD_CLIENT} WHERE period = NEW.period AND NOT {inc};",
        _period_add_sql("NEW.period", "NEW.first_hour", "NEW.end_hour", "1", "sqlite", f"NOT {inc}"),
    ]
    statements += [_period_add_sql("NEW.period", a, b, "-1", "sqlite", inc) for a, b in moves["leaving"]]
    statements += [_period_add_sql("NEW.period", a, b, "1", "sqlite", inc) for a, b in moves["entering"]]
    statements.append(
        f"DELETE FROM {PERIOD_CLIENT} WHERE period = NEW.period AND hi = 0 AND lo = 0 AND count = 0 AND {inc};"
    )
    fill = [
        f"DELETE FROM {PERIOD_CLIENT} WHERE period = NEW.period;",
        _period_add_sql("NEW.period", "NEW.first_hour", "NEW.end_hour", "1", "sqlite"),
    ]
    return [
        f"CREATE TRIGGER reports_rollup_period_move AFTER UPDATE OF first_hour, end_hour ON {PERIOD} "
        "BEGIN " + " ".join(statements) + " END",
        # A period row made anew (after a flush of the tables): its client sums from scratch.
        f"CREATE TRIGGER reports_rollup_period_insert AFTER INSERT ON {PERIOD} BEGIN " + " ".join(fill) + " END",
    ]


def pg_period_trigger_sql() -> list[str]:
    moves = _moves("LEAST", "GREATEST")
    add = _period_add_sql("p_period", "p_first", "p_end", "p_sign", "postgresql")
    steps = "\n".join(
        f"PERFORM reports_rollup_period_add(NEW.period, {a}, {b}, {sign});"
        for sign, ranges in ((-1, moves["leaving"]), (1, moves["entering"]))
        for a, b in ranges
    )
    return [
        f"""
        CREATE FUNCTION reports_rollup_period_add(p_period text, p_first bigint, p_end bigint, p_sign integer)
        RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            IF p_first < p_end THEN
                {add}
            END IF;
        END
        $$
        """,
        f"""
        CREATE FUNCTION reports_rollup_period_move() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- Wait for the order writes that read the old window; later ones wait for this move.
            PERFORM pg_advisory_xact_lock({PERIOD_LOCK_KEY});
            IF {moves["incremental"]} THEN
                {steps}
                DELETE FROM {PERIOD_CLIENT} WHERE period = NEW.period AND hi = 0 AND lo = 0 AND count = 0;
            ELSE
                DELETE FROM {PERIOD_CLIENT} WHERE period = NEW.period;
                PERFORM reports_rollup_period_add(NEW.period, NEW.first_hour, NEW.end_hour, 1);
            END IF;
            RETURN NULL;
        END
        $$
        """,
        f"CREATE TRIGGER reports_rollup_period_move AFTER UPDATE OF first_hour, end_hour ON {PERIOD} "
        "FOR EACH ROW EXECUTE FUNCTION reports_rollup_period_move()",
        f"""
        CREATE FUNCTION reports_rollup_period_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock({PERIOD_LOCK_KEY});
            DELETE FROM {PERIOD_CLIENT} WHERE period = NEW.period;
            PERFORM reports_rollup_period_add(NEW.period, NEW.first_hour, NEW.end_hour, 1);
            RETURN NULL;
        END
        $$
        """,
        f"CREATE TRIGGER reports_rollup_period_insert AFTER INSERT ON {PERIOD} "
        "FOR EACH ROW EXECUTE FUNCTION reports_rollup_period_insert()",
    ]


def period_move(period: str, first_hour: int, end_hour: int) -> None:
    """Move a period's window to the UTC hours [first_hour, end_hour) unless it is there already: one statement,
    whose trigger (reports_rollup_period_move) adds the hours that enter and subtracts those that leave."""
    end_hour = max(first_hour, end_hour)
    with connection.cursor() as cursor:
        # A plain UPDATE: when the window is already there it matches no row and locks and writes nothing.
        cursor.execute(
            f"UPDATE {PERIOD} SET first_hour = %s, end_hour = %s "
            "WHERE period = %s AND NOT (first_hour = %s AND end_hour = %s)",
            [first_hour, end_hour, period, first_hour, end_hour],
        )


def period_create(period: str, first_hour: int, end_hour: int) -> None:
    """Bring back a period's row (after a flush of the tables): reports_rollup_period_insert fills its sums."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PERIOD} (period, first_hour, end_hour) VALUES (%s, %s, %s) ON CONFLICT (period) DO NOTHING",
            [period, first_hour, max(first_hour, end_hour)],
        )


def period_for(hours: int) -> str | None:
    """The period whose client sums serve a window of this many whole hours (the shortest that holds them; a
    local day across a daylight-saving change is 25 hours)."""
    for period, days in sorted(PERIOD_DAYS.items(), key=lambda item: item[1]):
        if hours <= days * 24 + 1:
            return period
    return None


# -- Reads -----------------------------------------------------------------------------------------------


def local_day_sums(
    *, start: datetime, end: datetime, first_day: date, day_count: int, statuses: list[str] | None = None
) -> list[tuple[int, int]] | None:
    """[(orders, cents)] created in [start, end) for each local day from first_day, in one query: the hourly
    rollup for the whole UTC hours, the orders of the partial hours at both ends. None when a local day of the
    time zone starts inside a UTC hour (then only the orders can tell the days apart)."""
    from django.utils import timezone

    day_starts = []
    for offset in range(day_count + 1):
        midnight = timezone.make_aware(datetime.combine(first_day + timedelta(days=offset), datetime.min.time()))
        seconds = midnight.timestamp()
        if seconds % 3600:
            return None
        day_starts.append(int(seconds // 3600))
    first_hour, end_hour, ranges = edges(start, end, 3600)
    cents = cents_sql("total_price")
    status_filter = f" AND status IN ({', '.join(['?'] * len(statuses))})" if statuses is not None else ""
    parts, params = [], []
    # The whole hours summed per local day by the database: (hour - base) / 24 over each stretch of days with
    # one UTC offset (a daylight-saving change starts a new stretch).
    index = 0
    while index < day_count:
        base = day_starts[index] - 24 * index
        stop = index + 1
        while stop < day_count and day_starts[stop] - 24 * stop == base:
            stop += 1
        low, high = max(first_hour, day_starts[index]), min(end_hour, day_starts[stop])
        if low < high:
            parts.append(
                f"SELECT 'day', (hour - ?) / 24, sum(count), sum(hi), sum(lo) FROM {HOUR} "
                f"WHERE hour >= ? AND hour < ?{status_filter} GROUP BY 2"
            )
            params += [base, low, high, *(statuses or [])]
        index = stop
    for low, high in ranges:
        parts.append(
            f"SELECT 'hour', {hour_sql('created_at')}, 1, {cents} / {SPLIT}, {cents} % {SPLIT} "
            f"FROM crm_order WHERE created_at >= ? AND created_at < ?{status_filter}"
        )
        params += [db_time(low), db_time(high), *(statuses or [])]
    sums = [[0, 0] for _ in range(day_count)]
    if not parts:
        return [(0, 0)] * day_count
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts).replace("%", "%%").replace("?", "%s"), params)
        rows = cursor.fetchall()
    # The whole hours come per day already; the partial hours' orders are placed by their hour.
    for kind, key, count, hi, lo in rows:
        index = int(key) if kind == "day" else bisect_right(day_starts, int(key)) - 1
        if 0 <= index < day_count:
            sums[index][0] += int(count or 0)
            sums[index][1] += int(hi or 0) * SPLIT + int(lo or 0)
    return [(count, cents) for count, cents in sums]
