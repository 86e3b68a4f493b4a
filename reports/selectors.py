"""Reads for reports: the list of saved reports and the aggregate queries behind a new one."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import BigIntegerField, Count, DecimalField, ExpressionWrapper, F, Func, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, Round

from crm.models import Client, Order
from reports.models import Report

TOP_SIZE = 5
CENT = Decimal("0.01")
MONEY_SUM = DecimalField(max_digits=30, decimal_places=2)
# SQLite groups a window's orders by client by sorting them (~1.5 µs an order), unless it walks the
# whole (client, created_at, total_price) index in client order (~15 ms per 200,000 orders, plus the
# window's rows). On the 200,000-order benchmark the walk wins from some 30,000 orders in the window
# (the yearly report: ~80 ms instead of ~150 ms); below, the sort does (a week: 3 ms instead of 16 ms).
CLIENT_INDEX_WALK_FROM = 30_000


def report_list() -> QuerySet[Report]:
    """Saved reports with their author, newest first."""
    return Report.objects.select_related("created_by").order_by("-created_at", "-id")


def _cents_sum():
    """The sum of the orders' totals in whole cents, exact on every database."""
    if connection.vendor == "sqlite":
        # SQLite keeps decimals as REAL, so summing them drifts (0.10 × 3 ≠ 0.30); round each
        # order's total to whole cents first and add integers.
        cents = Cast(Round(F("total_price") * Value(100)), output_field=BigIntegerField())
        return Coalesce(Sum(cents), Value(0), output_field=BigIntegerField())
    # Real decimals add exactly, and PostgreSQL sums them 2-4× faster than it converts each row to cents.
    total = Coalesce(Sum("total_price"), Value(Decimal("0.00")), output_field=MONEY_SUM)
    return ExpressionWrapper(total * Value(100), output_field=MONEY_SUM)


class _Unindexed(Func):
    """A column as is; on SQLite written `+column`, which keeps the planner off that column's indexes."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra_context)


def _money(cents: int | Decimal | None) -> Decimal:
    return (Decimal(int(cents or 0)) / 100).quantize(CENT)


def report_figures(*, start: datetime, end: datetime) -> dict:
    """The figures of a report over orders created and clients added in [start, end): four queries."""
    orders = Order.objects.filter(created_at__gte=start, created_at__lt=end).order_by()

    # One GROUP BY (product, status) gives both the status breakdown and the products' sums: one pass
    # over the window's orders instead of two (on SQLite, over its (product, status, created_at,
    # total_price) index), added up here; a window holds a few rows per product. COUNT(*), not
    # COUNT(id), lets PostgreSQL answer from an index alone (the id is not in it).
    by_status = {status: {"count": 0, "cents": 0} for status in Order.Status.values}
    by_product = {}
    for row in orders.values("product", "status").annotate(count=Count("*"), cents=_cents_sum()):
        cents = int(row["cents"] or 0)
        for totals in (by_status.setdefault(row["status"], {"count": 0, "cents": 0}),
                       by_product.setdefault(row["product"], {"count": 0, "cents": 0})):
            totals["count"] += row["count"]
            totals["cents"] += cents
    status_breakdown = [
        {"status": status, "count": by_status[status]["count"], "sum": str(_money(by_status[status]["cents"]))}
        for status in Order.Status.values
    ]
    total_count = sum(by_status[status]["count"] for status in Order.Status.values)
    total_cents = sum(by_status[status]["cents"] for status in Order.Status.values)

    new_clients_count = Client.objects.filter(added_at__gte=start, added_at__lt=end).count()

    # Largest sum first, then more orders, then the name (code point order, the same on every database).
    top_products = [
        {"product": product, "count": totals["count"], "sum": str(_money(totals["cents"]))}
        for product, totals in sorted(
            by_product.items(), key=lambda item: (-item[1]["cents"], -item[1]["count"], item[0])
        )[:TOP_SIZE]
    ]

    return {
        "new_orders_count": total_count,
        "new_clients_count": new_clients_count,
        "total_orders_sum": _money(total_cents),
        "avg_order_sum": _average(total_cents, total_count),
        "completed_orders_count": by_status[Order.Status.COMPLETED]["count"],
        "status_breakdown": status_breakdown,
        "top_products": top_products,
        "top_clients": _top_clients(start=start, end=end, window_count=total_count),
    }


def _average(total_cents: int, count: int) -> Decimal:
    if not count:
        return Decimal("0.00")
    return (_money(total_cents) / count).quantize(CENT, rounding=ROUND_HALF_UP)


def _top_clients(*, start: datetime, end: datetime, window_count: int) -> list[dict]:
    """The five clients with the largest sums in [start, end): grouped by id alone, then their names."""
    window = Order.objects.filter(created_at__gte=start, created_at__lt=end)
    if window_count > CLIENT_INDEX_WALK_FROM:
        unindexed = Order.objects.alias(created=_Unindexed(F("created_at")))
        window = unindexed.filter(created__gte=start, created__lt=end)
    rows = list(
        window.order_by()
        .values("client_id")
        .annotate(count=Count("*"), cents=_cents_sum())
        .order_by("-cents", "-count", "client_id")[:TOP_SIZE]
    )
    names = Client.objects.only("last_name", "first_name", "middle_name")
    clients = names.in_bulk([row["client_id"] for row in rows])
    return [
        {
            "client_id": row["client_id"],
            "name": clients[row["client_id"]].full_name_reversed,
            "count": row["count"],
            "sum": str(_money(row["cents"])),
        }
        for row in rows
    ]
