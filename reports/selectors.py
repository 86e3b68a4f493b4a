"""Reads for reports: the list of saved reports and the aggregate queries behind a new one."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import BigIntegerField, Count, F, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, Round

from crm.models import Client, Order
from reports.models import Report

TOP_SIZE = 5
CENT = Decimal("0.01")


def report_list() -> QuerySet[Report]:
    """Saved reports with their author, newest first."""
    return Report.objects.select_related("created_by").order_by("-created_at", "-id")


def _cents_sum():
    # SQLite keeps decimals as REAL, so summing them drifts (0.10 × 3 ≠ 0.30); round each
    # order's total to whole cents first and add integers, which is exact on every database.
    cents = Cast(Round(F("total_price") * Value(100)), output_field=BigIntegerField())
    return Coalesce(Sum(cents), Value(0), output_field=BigIntegerField())


def _money(cents: int | Decimal | None) -> Decimal:
    return (Decimal(int(cents or 0)) / 100).quantize(CENT)


def report_figures(*, start: datetime, end: datetime) -> dict:
    """The figures of a report over orders created and clients added in [start, end), in four queries."""
    orders = Order.objects.filter(created_at__gte=start, created_at__lt=end)

    by_status = {
        row["status"]: row
        for row in orders.order_by().values("status").annotate(count=Count("id"), cents=_cents_sum())
    }
    status_breakdown = []
    total_count = 0
    total_cents = 0
    for status in Order.Status.values:
        row = by_status.get(status, {"count": 0, "cents": 0})
        total_count += row["count"]
        total_cents += int(row["cents"] or 0)
        status_breakdown.append({"status": status, "count": row["count"], "sum": str(_money(row["cents"]))})

    new_clients_count = Client.objects.filter(added_at__gte=start, added_at__lt=end).count()

    top_products = [
        {"product": row["product"], "count": row["count"], "sum": str(_money(row["cents"]))}
        for row in orders.order_by()
        .values("product")
        .annotate(count=Count("id"), cents=_cents_sum())
        .order_by("-cents", "-count", "product")[:TOP_SIZE]
    ]

    top_clients = [
        {
            "client_id": row["client_id"],
            "name": " ".join(
                part for part in (row["client__last_name"], row["client__first_name"], row["client__middle_name"]) if part
            ),
            "count": row["count"],
            "sum": str(_money(row["cents"])),
        }
        for row in orders.order_by()
        .values("client_id", "client__last_name", "client__first_name", "client__middle_name")
        .annotate(count=Count("id"), cents=_cents_sum())
        .order_by("-cents", "-count", "client_id")[:TOP_SIZE]
    ]

    total = _money(total_cents)
    average = (total / total_count).quantize(CENT, rounding=ROUND_HALF_UP) if total_count else Decimal("0.00")
    return {
        "new_orders_count": total_count,
        "new_clients_count": new_clients_count,
        "total_orders_sum": total,
        "avg_order_sum": average,
        "completed_orders_count": by_status.get(Order.Status.COMPLETED, {"count": 0})["count"],
        "status_breakdown": status_breakdown,
        "top_products": top_products,
        "top_clients": top_clients,
    }
