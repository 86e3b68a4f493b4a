"""Reads for reports: the list of saved reports and the aggregate queries behind a new one.

A report reads the rollups of reports/rollups.py for the whole UTC days (or hours) of its window and the
orders themselves only for the partial days (hours) at both ends, through the created_at index.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from crm.models import Client, Order
from crm.money import amount_from_cents, average_amount, rows_with_cents_sum
from crm.selectors import local_day
from reports import rollups
from reports.models import Report

TOP_SIZE = 5
# A report covers at most a year (Report.Period): 366 local days, partial first and last days included.
REPORT_CHART_DAYS = 366


def report_list() -> QuerySet[Report]:
    """Saved reports with their author, newest first."""
    return Report.objects.select_related("created_by").order_by("-created_at", "-id")


def _cents(hi, lo) -> int:
    return int(hi or 0) * rollups.SPLIT + int(lo or 0)


def _range_params(ranges) -> list:
    return [rollups.db_time(moment) for pair in ranges for moment in pair]


def _sql(parts: list[str]) -> str:
    """SQL written with ? placeholders, as the database driver takes it."""
    return " UNION ALL ".join(parts).replace("%", "%%").replace("?", "%s")


def _window_rows(first_day: int, end_day: int, ranges, hour_ranges) -> list[tuple]:
    """One query: (kind, client id, status, product, count, hi, lo) rows of
    - "day": the (status, product) sums over the whole days [first_day, end_day), from the rollup (per block of
      days, and per day at both ends);
    - "order": the (status, product) sums of the orders created in the partial days (ranges), from the
      created_at index;
    - "client": the sums per client of the orders created in the partial hours (hour_ranges);
    - "clients": the clients added over the whole days (rollup) and in the partial days (added_at index).
    """
    cents = rollups.cents_sql("total_price")
    parts, params = [], []
    if first_day < end_day:
        # Whole blocks of days, then the single days before and after them.
        block = rollups.BLOCK_DAYS
        first_block, end_block = -(-first_day // block) * block, end_day // block * block
        if first_block >= end_block:
            spans = [(1, first_day, end_day)]
        else:
            spans = [(block, first_block, end_block), (1, first_day, first_block), (1, end_block, end_day)]
        for span, low, high in spans:
            if low < high:
                parts.append(
                    "SELECT 'day', CAST(NULL AS bigint), status, product, sum(count), sum(hi), sum(lo) "
                    f"FROM {rollups.DAY} WHERE span = ? AND day >= ? AND day < ? "
                    "GROUP BY status, product"
                )
                params += [span, low, high]
        parts += [
            "SELECT 'clients', CAST(NULL AS bigint), NULL, NULL, sum(count), 0, 0 "
            f"FROM {rollups.CLIENT_DAY} WHERE day >= ? AND day < ?",
        ]
        params += [first_day, end_day]
    sums = f"count(*), sum({cents} / {rollups.SPLIT}), sum({cents} % {rollups.SPLIT})"
    for low, high in ranges:
        parts += [
            f"SELECT 'order', CAST(NULL AS bigint), status, product, {sums} "
            "FROM crm_order WHERE created_at >= ? AND created_at < ? GROUP BY status, product",
            "SELECT 'clients', CAST(NULL AS bigint), NULL, NULL, count(*), 0, 0 "
            "FROM crm_client WHERE added_at >= ? AND added_at < ?",
        ]
        params += _range_params([(low, high)] * 2)
    for low, high in hour_ranges:
        parts.append(
            f"SELECT 'client', client_id, NULL, NULL, {sums} "
            "FROM crm_order WHERE created_at >= ? AND created_at < ? GROUP BY client_id"
        )
        params += _range_params([(low, high)])
    with connection.cursor() as cursor:
        cursor.execute(_sql(parts), params)
        return cursor.fetchall()


def report_figures(*, start: datetime, end: datetime) -> dict:
    """The figures of a report over orders created and clients added in [start, end): four queries at most
    (a move of the top clients' window, the figures, the top clients, their names)."""
    first_day, end_day, ranges = rollups.edges(start, end, rollups.DAY_SECONDS)
    # The top clients' sums cover whole UTC hours: fewer orders at the edges than whole days would leave.
    first_hour, end_hour, hour_ranges = rollups.edges(start, end, 3600)
    period = rollups.period_for(end_hour - first_hour) if first_hour < end_hour else None
    if period is not None:
        rollups.period_move(period, first_hour, end_hour)

    by_status = {status: {"count": 0, "cents": 0} for status in Order.Status.values}
    by_product = {}
    edge_clients = {}
    new_clients_count = 0
    for kind, client_id, status, product, count, hi, lo in _window_rows(first_day, end_day, ranges, hour_ranges):
        count, cents = int(count or 0), _cents(hi, lo)
        if kind == "clients":
            new_clients_count += count
            continue
        if kind == "client":
            totals = edge_clients.setdefault(client_id, [0, 0])
            totals[0] += count
            totals[1] += cents
            continue
        for totals in (by_status.setdefault(status, {"count": 0, "cents": 0}),
                       by_product.setdefault(product, {"count": 0, "cents": 0})):
            totals["count"] += count
            totals["cents"] += cents

    status_breakdown = [
        {"status": status, "count": by_status[status]["count"], "sum": str(amount_from_cents(by_status[status]["cents"]))}
        for status in Order.Status.values
    ]
    total_count = sum(by_status[status]["count"] for status in Order.Status.values)
    total_cents = sum(by_status[status]["cents"] for status in Order.Status.values)

    # Largest sum first, then more orders, then the name (code point order, the same on every database).
    top_products = [
        {"product": product, "count": totals["count"], "sum": str(amount_from_cents(totals["cents"]))}
        for product, totals in sorted(
            ((product, totals) for product, totals in by_product.items() if totals["count"]),
            key=lambda item: (-item[1]["cents"], -item[1]["count"], item[0]),
        )[:TOP_SIZE]
    ]

    return {
        "new_orders_count": total_count,
        "new_clients_count": new_clients_count,
        "total_orders_sum": amount_from_cents(total_cents),
        "avg_order_sum": average_amount(total_cents, total_count),
        "completed_orders_count": by_status[Order.Status.COMPLETED]["count"],
        "status_breakdown": status_breakdown,
        "top_products": top_products,
        "top_clients": _top_clients(
            start=start, end=end, period=period, first_hour=first_hour, end_hour=end_hour, ranges=hour_ranges,
            edge_clients=edge_clients,
        ),
    }


def _period_top_rows(period: str, first_hour: int, end_hour: int, ranges) -> list[tuple[int, int, int]] | None:
    """[(client id, count, cents)] over the whole hours [first_hour, end_hour) of the clients with orders in the
    ranges and of the TOP_SIZE others with the largest sums, from the period's client sums; None if the period
    covers other hours. One statement, so the window and the sums are read in one snapshot.
    """
    columns = "client_id, count, hi, lo"
    edge = " UNION ".join(["SELECT client_id FROM crm_order WHERE created_at >= ? AND created_at < ?"] * len(ranges))
    parts = [f"SELECT 'window', first_hour, end_hour, 0, 0 FROM {rollups.PERIOD} WHERE period = ?"]
    params = [period]
    if ranges:
        # One index lookup per client of the partial hours (PostgreSQL would otherwise hash the period's sums).
        if connection.vendor == "postgresql":
            parts.append(
                f"SELECT 'edge', e.client_id, s.count, s.hi, s.lo FROM ({edge}) AS e CROSS JOIN LATERAL "
                f"(SELECT count, hi, lo FROM {rollups.PERIOD_CLIENT} WHERE period = ? AND client_id = e.client_id "
                "AND count > 0 OFFSET 0) AS s"
            )
            params += [*_range_params(ranges), period]
        else:
            parts.append(
                f"SELECT 'edge', {columns} FROM {rollups.PERIOD_CLIENT} "
                f"WHERE period = ? AND count > 0 AND client_id IN ({edge})"
            )
            params += [period, *_range_params(ranges)]
    # Every other client's sum is its sum over the whole window: the best of them, first in the index.
    parts.append(
        f"SELECT * FROM (SELECT 'top', {columns} FROM {rollups.PERIOD_CLIENT} "
        f"WHERE period = ? AND count > 0{f' AND client_id NOT IN ({edge})' if ranges else ''} "
        f"ORDER BY hi DESC, lo DESC, count DESC, client_id LIMIT {TOP_SIZE}) AS best"
    )
    params += [period, *(_range_params(ranges) if ranges else [])]
    with connection.cursor() as cursor:
        cursor.execute(_sql(parts), params)
        rows = cursor.fetchall()
    if not any(kind == "window" and (first, end) == (first_hour, end_hour) for kind, first, end, _hi, _lo in rows):
        return None
    return [(client_id, int(count), _cents(hi, lo)) for kind, client_id, count, hi, lo in rows if kind != "window"]


def _top_clients(*, start, end, period, first_hour, end_hour, ranges, edge_clients) -> list[dict]:
    """The five clients with the largest sums in [start, end), then their names.

    Exact: a client with orders in the partial hours is counted from the period's sums plus those orders; any
    other client's sum is its period sum, and only the largest of those can be among the five.
    """
    totals = {client_id: list(sums) for client_id, sums in edge_clients.items()}
    if first_hour < end_hour:
        rows = _period_top_rows(period, first_hour, end_hour, ranges) if period is not None else None
        if rows is None and period is not None:
            # The period's row went (a flush of the tables) or another report moved it meanwhile.
            rollups.period_create(period, first_hour, end_hour)
            rollups.period_move(period, first_hour, end_hour)
            rows = _period_top_rows(period, first_hour, end_hour, ranges)
        if rows is None:
            # Longer than a year, or another report moved the period meanwhile: group the window's orders.
            window = Order.objects.filter(created_at__gte=start, created_at__lt=end).order_by()
            rows = [
                (row["client_id"], row["count"], int(row["cents"]))
                for row in rows_with_cents_sum(
                    lambda cents: window.values("client_id").annotate(count=Count("*"), cents=cents)
                    .order_by("-cents", "-count", "client_id")[:TOP_SIZE]
                )
            ]
            totals = {}
        for client_id, count, cents in rows:
            row = totals.setdefault(client_id, [0, 0])
            row[0] += count
            row[1] += cents
    best = sorted(totals.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))[:TOP_SIZE]
    names = Client.objects.only("last_name", "first_name", "middle_name")
    clients = names.in_bulk([client_id for client_id, _ in best])
    return [
        {
            "client_id": client_id,
            "name": clients[client_id].full_name_reversed,
            "count": count,
            "sum": str(amount_from_cents(cents)),
        }
        for client_id, (count, cents) in best
    ]


def _chart_days(start: datetime, end: datetime) -> tuple[date, date, datetime]:
    first_day = timezone.localtime(start).date()
    last_day = timezone.localtime(end - timedelta(microseconds=1)).date()
    first_day = max(first_day, last_day - timedelta(days=REPORT_CHART_DAYS - 1))
    start = max(start, timezone.make_aware(datetime.combine(first_day, datetime.min.time())))
    return first_day, last_day, start


def report_daily_sums(*, start: datetime, end: datetime) -> list[tuple[date, int, Decimal]]:
    """[(local day, orders created, their exact sum)] for each day of [start, end), oldest first: one query.

    Read from the hourly rollup and the orders of the partial hours at both ends, as a report keeps no per-day
    series: the days add up to the report's own figures while the window's orders are unchanged. At most
    REPORT_CHART_DAYS points (the last ones).
    """
    first_day, last_day, start = _chart_days(start, end)
    sums = rollups.local_day_sums(
        start=start, end=end, first_day=first_day, day_count=(last_day - first_day).days + 1
    )
    if sums is None:
        return _daily_sums_from_orders(start=start, end=end)
    return [
        (first_day + timedelta(days=offset), count, amount_from_cents(cents))
        for offset, (count, cents) in enumerate(sums)
    ]


def _daily_sums_from_orders(*, start: datetime, end: datetime) -> list[tuple[date, int, Decimal]]:
    """report_daily_sums() read from the orders: for time zones whose days do not start on a UTC hour."""
    first_day = timezone.localtime(start).date()
    last_day = timezone.localtime(end - timedelta(microseconds=1)).date()
    first_day = max(first_day, last_day - timedelta(days=REPORT_CHART_DAYS - 1))
    start = max(start, timezone.make_aware(datetime.combine(first_day, datetime.min.time())))
    # Every status named: the (status, created_at, total_price) index then serves the window alone.
    window = Order.objects.filter(status__in=Order.Status.values, created_at__gte=start, created_at__lt=end)
    rows = {
        row["day"]: row
        for row in rows_with_cents_sum(
            lambda cents: window.annotate(day=local_day("created_at", start, end))
            .order_by()
            .values("day")
            .annotate(count=Count("*"), cents=cents)
        )
    }
    days = []
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        row = rows.get(day, {})
        days.append((day, row.get("count", 0), amount_from_cents(row.get("cents"))))
    return days
