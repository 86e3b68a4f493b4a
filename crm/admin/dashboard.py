"""The admin index dashboard: the unfold context built from selectors.dashboard_figures()."""

import json
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from unfold.utils import display_for_label

from crm.admin.display import STATUS_BADGE_COLOURS, admin_link, status_badge
from crm.models import Order
from crm.money import format_money
from crm.selectors import CHART_DAYS, NEW_CLIENT_DAYS, DashboardFigures, dashboard_figures

# The chart's height in CSS: fixed, so the chart stays readable on a phone (an aspect ratio would flatten it there).
CHART_HEIGHT = "18rem"


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
                    "yAxisID": "count",
                },
                {
                    "label": str(_("Revenue, ₽")),
                    "data": [float(revenue) for _day, _count, revenue in figures.per_day],
                    "backgroundColor": "var(--color-primary-700)",
                    "yAxisID": "money",
                },
            ],
        }
    )


def chart_options(*, counts: bool = True) -> str:
    """Chart.js options for money per label (bars on the "money" axis, left) and, with `counts`, a count per label
    (a line on the "count" axis, right), at the height of its container and with labels that fit a phone.

    The options replace unfold's defaults as a whole. Money ticks are compact ("1,5 млн") in the active language;
    x labels never rotate, so Chart.js drops the ones that do not fit instead.
    """
    scales = {
        "x": {
            "grid": {"display": False},
            "ticks": {"maxTicksLimit": 15, "maxRotation": 0, "autoSkip": True, "autoSkipPadding": 12},
        },
        "money": {
            "type": "linear",
            "position": "left",
            "beginAtZero": True,
            "ticks": {"maxTicksLimit": 6, "format": {"notation": "compact", "maximumFractionDigits": 1}},
        },
    }
    if counts:
        scales["count"] = {
            "type": "linear",
            "position": "right",
            "beginAtZero": True,
            "grid": {"display": False},
            "ticks": {"precision": 0, "maxTicksLimit": 6},
        }
    return json.dumps(
        {
            "animation": False,
            "responsive": True,
            "maintainAspectRatio": False,
            "locale": get_language() or "ru",
            "plugins": {"legend": {"display": True, "align": "end", "position": "top"}},
            "datasets": {"bar": {"borderRadius": 4}, "line": {"borderWidth": 2, "pointStyle": False, "tension": 0.3}},
            "scales": scales,
        }
    )


def dashboard_callback(request, context):
    """Add the dashboard's figures, chart and tables to the admin index context."""
    figures = dashboard_figures()
    change = figures.revenue_change_percent
    if change is None:
        revenue_footer = _("last month: %(amount)s") % {"amount": format_money(figures.revenue_last_month)}
    else:
        revenue_footer = _("%(change)s%% against last month (%(amount)s)") % {
            # Signed, with the decimal separator of the active language: "+204,9".
            "change": ("+" if change > 0 else "") + number_format(change, decimal_pos=1),
            "amount": format_money(figures.revenue_last_month),
        }
    orders_url = reverse("admin:crm_order_changelist")
    clients_url = reverse("admin:crm_client_changelist")
    # The order list's own filters (unfold's RangeDateFilter reads <field>_from / <field>_to as ISO dates), so
    # the list a card opens holds exactly the orders or clients the card counts.
    earning = ",".join(status for status in Order.Status.values if status != Order.Status.CANCELLED)
    this_month_url = f"{orders_url}?" + urlencode(
        {"created_at_from": figures.month_start.isoformat(), "status__in": earning}, safe=","
    )
    new_clients_url = f"{clients_url}?" + urlencode({"added_at_from": figures.new_clients_since.isoformat()})
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
                    "class": "lg:col-span-2",
                },
                {
                    "title": _("New clients"),
                    "metric": number_format(figures.new_clients, force_grouping=True),
                    "footer": _("in the last %(days)s days") % {"days": NEW_CLIENT_DAYS},
                    "href": new_clients_url,
                    "class": "lg:col-span-2",
                },
                {
                    "title": _("Pending orders"),
                    "metric": number_format(figures.pending_orders, force_grouping=True),
                    "footer": _("waiting to be completed"),
                    "href": f"{orders_url}?status__exact=Pending",
                    "class": "lg:col-span-2",
                },
                {
                    "title": _("Revenue this month"),
                    "metric": format_money(figures.revenue_this_month),
                    "footer": revenue_footer,
                    "href": this_month_url,
                    "class": "lg:col-span-3",
                },
                {
                    "title": _("Average order value"),
                    "metric": format_money(figures.average_order_value),
                    "footer": _("%(count)s orders this month, cancelled ones left out")
                    % {"count": figures.orders_this_month},
                    "href": this_month_url,
                    "class": "lg:col-span-3",
                },
            ],
            "revenue_chart": _revenue_chart(figures),
            "revenue_chart_options": chart_options(),
            "chart_height": CHART_HEIGHT,
            "chart_days": CHART_DAYS,
            "orders_by_status": [
                {
                    "title": label,
                    "description": f"{number_format(count, force_grouping=True)} · {format_money(total)}",
                    "value": round(count * 100 / status_total),
                    "href": f"{orders_url}?status__exact={value}",
                }
                for value, label, count, total in figures.by_status
            ],
            "latest_orders": {
                "headers": [pgettext("sales order", "Order"), _("Client"), _("Product"), _("Total"), _("Status"), _("Created")],
                "rows": [
                    [
                        admin_link("admin:crm_order_change", order.pk, f"#{order.pk}"),
                        admin_link("admin:crm_client_change", order.client_id, order.client.full_name_reversed),
                        order.product,
                        format_money(order.total_price),
                        display_for_label(status_badge(order), "—", STATUS_BADGE_COLOURS),
                        date_format(timezone.localtime(order.created_at), "d.m.Y H:i"),
                    ]
                    for order in figures.latest_orders
                ],
            },
        }
    )
    return context
