"""The admin index dashboard: the unfold context built from selectors.dashboard_figures()."""

import json

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from crm.admin.display import admin_link
from crm.money import format_money
from crm.selectors import CHART_DAYS, NEW_CLIENT_DAYS, DashboardFigures, dashboard_figures

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


def dashboard_callback(request, context):
    """Add the dashboard's figures, chart and tables to the admin index context."""
    figures = dashboard_figures()
    change = figures.revenue_change_percent
    if change is None:
        revenue_footer = _("last month: %(amount)s") % {"amount": format_money(figures.revenue_last_month)}
    else:
        revenue_footer = _("%(change)s%% against last month (%(amount)s)") % {
            "change": f"{change:+}",
            "amount": format_money(figures.revenue_last_month),
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
                    "metric": format_money(figures.revenue_this_month),
                    "footer": revenue_footer,
                    "href": orders_url,
                },
                {
                    "title": _("Average order value"),
                    "metric": format_money(figures.average_order_value),
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
                        order.get_status_display(),
                        date_format(timezone.localtime(order.created_at), "d.m.Y H:i"),
                    ]
                    for order in figures.latest_orders
                ],
            },
        }
    )
    return context
