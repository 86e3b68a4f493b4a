"""Reads for reports: the list of saved reports and the aggregate queries behind a new one."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, Func, QuerySet
from django.utils import timezone

from crm.models import Client, Order
from crm.money import amount_from_cents, average_amount, rows_with_cents_sum
from crm.selectors import local_day
from reports.models import Report

TOP_SIZE = 5
# A report covers at most a year (Report.Period): 366 local days, partial first and last days included.
REPORT_CHART_DAYS = 366
# From this many orders in a window, grouping them by client is cheaper by walking the whole
# (client, created_at, total_price) index than by sorting the window (docs/performance.md).
CLIENT_INDEX_WALK_FROM = 30_000


def report_list() -> QuerySet[Report]:
    """Saved reports with their author, newest first."""
    return Report.objects.select_related("created_by").order_by("-created_at", "-id")


class NoIndex(Func):
    """A column as is; on SQLite written `+column`, which keeps the planner off that column's indexes."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def report_figures(*, start: datetime, end: datetime) -> dict:
    """The figures of a report over orders created and clients added in [start, end): four queries."""
    orders = Order.objects.filter(created_at__gte=start, created_at__lt=end).order_by()

    # One GROUP BY (product, status) gives both the status breakdown and the products' sums: one pass
    # over the window's orders instead of two (on SQLite, over its (product, status, created_at,
    # total_price) index), added up here; a window holds a few rows per product. COUNT(*), not
    # COUNT(id), lets PostgreSQL answer from an index alone (the id is not in it).
    by_status = {status: {"count": 0, "cents": 0} for status in Order.Status.values}
    by_product = {}
    rows = rows_with_cents_sum(
        lambda cents: orders.values("product", "status").annotate(count=Count("*"), cents=cents)
    )
    for row in rows:
        cents = int(row["cents"] or 0)
        for totals in (by_status.setdefault(row["status"], {"count": 0, "cents": 0}),
                       by_product.setdefault(row["product"], {"count": 0, "cents": 0})):
            totals["count"] += row["count"]
            totals["cents"] += cents
    status_breakdown = [
        {"status": status, "count": by_status[status]["count"], "sum": str(amount_from_cents(by_status[status]["cents"]))}
        for status in Order.Status.values
    ]
    total_count = sum(by_status[status]["count"] for status in Order.Status.values)
    total_cents = sum(by_status[status]["cents"] for status in Order.Status.values)

    new_clients_count = Client.objects.filter(added_at__gte=start, added_at__lt=end).count()

    # Largest sum first, then more orders, then the name (code point order, the same on every database).
    top_products = [
        {"product": product, "count": totals["count"], "sum": str(amount_from_cents(totals["cents"]))}
        for product, totals in sorted(
            by_product.items(), key=lambda item: (-item[1]["cents"], -item[1]["count"], item[0])
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
        "top_clients": _top_clients(start=start, end=end, window_count=total_count),
    }


def _top_clients(*, start: datetime, end: datetime, window_count: int) -> list[dict]:
    """The five clients with the largest sums in [start, end): grouped by id alone, then their names."""
    window = Order.objects.filter(created_at__gte=start, created_at__lt=end)
    if window_count > CLIENT_INDEX_WALK_FROM:
        unindexed = Order.objects.alias(created=NoIndex(F("created_at")))
        window = unindexed.filter(created__gte=start, created__lt=end)
    rows = rows_with_cents_sum(
        lambda cents: window.order_by()
        .values("client_id")
        .annotate(count=Count("*"), cents=cents)
        .order_by("-cents", "-count", "client_id")[:TOP_SIZE]
    )
    names = Client.objects.only("last_name", "first_name", "middle_name")
    clients = names.in_bulk([row["client_id"] for row in rows])
    return [
        {
            "client_id": row["client_id"],
            "name": clients[row["client_id"]].full_name_reversed,
            "count": row["count"],
            "sum": str(amount_from_cents(row["cents"])),
        }
        for row in rows
    ]


def report_daily_sums(*, start: datetime, end: datetime) -> list[tuple[date, int, Decimal]]:
    """[(local day, orders created, their exact sum)] for each day of [start, end), oldest first: one query.

    Read live from the orders, as a report keeps no per-day series: the days add up to the report's own
    figures while the window's orders are unchanged. At most REPORT_CHART_DAYS points (the last ones).
    """
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
