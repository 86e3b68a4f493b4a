"""The admin index dashboard: a handful of aggregate queries and the unfold context they feed."""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import BigIntegerField, Count, DateField, DecimalField, F, Func, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Round, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from crm.models import Client, Order

CHART_DAYS = 90
NEW_CLIENT_DAYS = 30
LATEST_ORDERS = 10
CENT = Decimal("0.01")

# SQLite keeps decimals as REAL: sum whole cents as integers so money adds up exactly everywhere.
ORDER_CENTS = Cast(Round(F("total_price") * 100), BigIntegerField())
MONEY_SUM = DecimalField(max_digits=20, decimal_places=2)


def _cents_sum(condition: Q | None = None):
    """The sum of the orders' totals in cents, exact on every database."""
    if connection.vendor == "sqlite":
        return Coalesce(Sum(ORDER_CENTS, filter=condition), 0)
    # PostgreSQL's numeric already sums exactly, straight from the (..., total_price) indexes.
    return Coalesce(Sum("total_price", filter=condition), Value(0), output_field=MONEY_SUM) * 100


def _money(cents: int | None) -> Decimal:
    return (Decimal(cents or 0) / 100).quantize(CENT)


@dataclass
class DashboardFigures:
    active_clients: int
    new_clients: int
    pending_orders: int
    revenue_this_month: Decimal
    revenue_last_month: Decimal
    orders_this_month: int
    average_order_value: Decimal
    # [(status value, label, count, sum)], every status present, in the Status order.
    by_status: list[tuple[str, str, int, Decimal]]
    # [(day, orders count, revenue)] for each of the last CHART_DAYS days, oldest first.
    per_day: list[tuple[date, int, Decimal]]
    latest_orders: list[Order] = field(default_factory=list)

    @property
    def revenue_change_percent(self) -> Decimal | None:
        """This month's revenue against last month's, in percent; None when last month had none."""
        if not self.revenue_last_month:
            return None
        change = (self.revenue_this_month - self.revenue_last_month) / self.revenue_last_month * 100
        return change.quantize(Decimal("0.1"))


def _local_day(field: str, start: datetime, end: datetime):
    """The local calendar day of a datetime column, as an expression to group by.

    On SQLite, Django's TruncDate calls a Python function for every row (~100 ms for the 25,000 orders
    of a 90-day chart); when the time zone keeps one UTC offset over the window (Moscow has no DST),
    SQLite's own date() with that offset gives the same day in C. Elsewhere TruncDate is native SQL.
    """
    zone = timezone.get_current_timezone()
    if connection.vendor == "sqlite":
        offsets = {
            timezone.localtime(start + timedelta(days=offset), zone).utcoffset()
            for offset in range((end - start).days + 2)
        }
        offsets.add(timezone.localtime(end, zone).utcoffset())
        if len(offsets) == 1:
            seconds = int(offsets.pop().total_seconds())
            return Func(F(field), Value(f"{seconds:+d} seconds"), function="date", output_field=DateField())
    return TruncDate(field, tzinfo=zone)


def dashboard_figures(*, now: datetime | None = None) -> DashboardFigures:
    """Every figure of the dashboard in four queries, each reading an index over a bounded window."""
    now = timezone.localtime(now or timezone.now())
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month_start = timezone.localtime(month_start - timedelta(days=1)).replace(day=1)
    chart_start = (now - timedelta(days=CHART_DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    # One pass over the days that matter: the chart's and last month's (whichever reach further back).
    window_start = min(chart_start, last_month_start)

    clients = Client.objects.aggregate(
        active=Count("id", filter=Q(status=Client.Status.ACTIVE)),
        new=Count("id", filter=Q(added_at__gte=now - timedelta(days=NEW_CLIENT_DAYS))),
    )
    # Read from the (status, created_at, total_price) index; the pending count is one of these rows.
    status_rows = {
        row["status"]: row
        for row in Order.objects.order_by().values("status").annotate(count=Count("id"), cents=_cents_sum())
    }
    # Revenue counts orders that were not cancelled; naming the other statuses lets the
    # (status, created_at, ...) index serve the date range.
    earning = [status for status in Order.Status.values if status != Order.Status.CANCELLED]
    day_rows = {
        row["day"]: row
        for row in Order.objects.filter(status__in=earning, created_at__gte=window_start)
        .annotate(day=_local_day("created_at", window_start, now))
        .order_by()
        .values("day")
        .annotate(count=Count("id"), cents=_cents_sum())
    }
    latest = list(Order.objects.select_related("client").order_by("-id")[:LATEST_ORDERS])

    # Month boundaries are local midnights, so the local days add up to the months exactly.
    this_month = [row for day, row in day_rows.items() if day >= month_start.date()]
    orders_this_month = sum(row["count"] for row in this_month)
    revenue_this_month = _money(sum(row["cents"] for row in this_month))
    revenue_last_month = _money(
        sum(row["cents"] for day, row in day_rows.items() if last_month_start.date() <= day < month_start.date())
    )
    first_day = chart_start.date()
    per_day = []
    for offset in range(CHART_DAYS):
        day = first_day + timedelta(days=offset)
        row = day_rows.get(day, {})
        per_day.append((day, row.get("count", 0), _money(row.get("cents"))))
    return DashboardFigures(
        active_clients=clients["active"],
        new_clients=clients["new"],
        pending_orders=status_rows.get(Order.Status.PENDING, {}).get("count", 0),
        revenue_this_month=revenue_this_month,
        revenue_last_month=revenue_last_month,
        orders_this_month=orders_this_month,
        average_order_value=(
            (revenue_this_month / orders_this_month).quantize(CENT) if orders_this_month else Decimal("0.00")
        ),
        by_status=[
            (value, label, status_rows.get(value, {}).get("count", 0), _money(status_rows.get(value, {}).get("cents")))
            for value, label in Order.Status.choices
        ],
        per_day=per_day,
        latest_orders=latest,
    )


def _format_money(amount: Decimal) -> str:
    return f"{number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)} ₽"


STATUS_COLOURS = {
    Order.Status.PENDING: "var(--color-primary-400)",
    Order.Status.COMPLETED: "var(--color-primary-700)",
    Order.Status.CANCELLED: "var(--color-base-300)",
}


def _revenue_chart(figures: DashboardFigures) -> str:
    return json.dumps(
        {
            "labels": [date_format(day, "d.m") for day, _count, _revenue in figures.per_day],
            "datasets": [
                {
                    "type": "line",
                    "label": str(_("Orders")),
                    "data": [count for _day, count, _revenue in figures.per_day],
                    "borderColor": "var(--color-primary-300)",
                    "yAxisID": "orders",
                },
                {
                    "label": str(_("Revenue, ₽")),
                    "data": [float(revenue) for _day, _count, revenue in figures.per_day],
                    "backgroundColor": "var(--color-primary-700)",
                    "maxTicksXLimit": 15,
                    "yAxisID": "revenue",
                },
            ],
        }
    )


# Two y axes (revenue in roubles, orders as a count); everything else as unfold's defaults.
CHART_OPTIONS = json.dumps(
    {
        "aspectRatio": 3.2,
        "plugins": {"legend": {"display": True, "align": "end", "position": "top"}},
        "datasets": {"bar": {"borderRadius": 4}, "line": {"borderWidth": 2, "pointStyle": False, "tension": 0.3}},
        "scales": {
            "x": {"grid": {"display": False}, "ticks": {"maxTicksLimit": 15}},
            "revenue": {"type": "linear", "position": "left", "beginAtZero": True},
            "orders": {
                "type": "linear",
                "position": "right",
                "beginAtZero": True,
                "grid": {"display": False},
                "ticks": {"precision": 0},
            },
        },
    }
)


def _order_link(order: Order) -> str:
    return format_html('<a class="text-primary-600" href="{}">#{}</a>', reverse("admin:crm_order_change", args=[order.pk]), order.pk)


def _client_link(client: Client) -> str:
    return format_html('<a href="{}">{}</a>', reverse("admin:crm_client_change", args=[client.pk]), client.full_name_reversed)


def dashboard_callback(request, context):
    """Add the dashboard's figures, chart and tables to the admin index context."""
    figures = dashboard_figures()
    change = figures.revenue_change_percent
    if change is None:
        revenue_footer = _("last month: %(amount)s") % {"amount": _format_money(figures.revenue_last_month)}
    else:
        revenue_footer = _("%(change)s%% against last month (%(amount)s)") % {
            "change": f"{change:+}",
            "amount": _format_money(figures.revenue_last_month),
        }
    orders_url = reverse("admin:crm_order_changelist")
    clients_url = reverse("admin:crm_client_changelist")
    status_total = sum(count for _value, _label, count, _sum in figures.by_status) or 1
    context.update(
        {
            "dashboard": True,
            "kpi": [
                {
                    "title": _("Active clients"),
                    "metric": number_format(figures.active_clients, force_grouping=True),
                    "footer": _("all clients that are not archived"),
                    "href": f"{clients_url}?status__exact=active",
                },
                {
                    "title": _("New clients"),
                    "metric": number_format(figures.new_clients, force_grouping=True),
                    "footer": _("in the last %(days)s days") % {"days": NEW_CLIENT_DAYS},
                    "href": clients_url,
                },
                {
                    "title": _("Pending orders"),
                    "metric": number_format(figures.pending_orders, force_grouping=True),
                    "footer": _("waiting to be completed"),
                    "href": f"{orders_url}?status__exact=Pending",
                },
                {
                    "title": _("Revenue this month"),
                    "metric": _format_money(figures.revenue_this_month),
                    "footer": revenue_footer,
                    "href": orders_url,
                },
                {
                    "title": _("Average order value"),
                    "metric": _format_money(figures.average_order_value),
                    "footer": _("%(count)s orders this month, cancelled ones left out")
                    % {"count": figures.orders_this_month},
                    "href": orders_url,
                },
            ],
            "revenue_chart": _revenue_chart(figures),
            "revenue_chart_options": CHART_OPTIONS,
            "chart_days": CHART_DAYS,
            "orders_by_status": [
                {
                    "title": label,
                    "description": f"{number_format(count, force_grouping=True)} · {_format_money(total)}",
                    "value": round(count * 100 / status_total),
                    "href": f"{orders_url}?status__exact={value}",
                }
                for value, label, count, total in figures.by_status
            ],
            "latest_orders": {
                "headers": [pgettext("sales order", "Order"), _("Client"), _("Product"), _("Total"), _("Status"), _("Created")],
                "rows": [
                    [
                        _order_link(order),
                        _client_link(order.client),
                        order.product,
                        _format_money(order.total_price),
                        order.get_status_display(),
                        date_format(timezone.localtime(order.created_at), "d.m.Y H:i"),
                    ]
                    for order in figures.latest_orders
                ],
            },
        }
    )
    return context
