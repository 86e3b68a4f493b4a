"""Reports in the staff UI: a read-only list with one-click buttons to make reports and download them, and a page
per report with its figures as cards, charts and tables."""

import json

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportActionMixin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import action, display
from unfold.utils import display_for_label

from crm.admin.dashboard import chart_options
from crm.admin.display import STATUS_BADGE_COLOURS, admin_link, confirmation_dialog, redirect
from crm.admin.guards import CheckedBulkActionsMixin
from crm.models import Order
from crm.money import format_money
from reports.models import Report
from reports.rendering import report_filename, report_text
from reports.resources import ReportResource
from reports.schedule_admin import ReportScheduleAdmin  # noqa: F401  (registers the scheduled reports' pages)
from reports.selectors import report_daily_sums, report_list
from reports.services import report_generate


def _make_dialog(description):
    return confirmation_dialog(_("Make a report"), description, _("Make the report"))


@admin.register(Report)
class ReportAdmin(CheckedBulkActionsMixin, ExportActionMixin, ModelAdmin):
    resource_classes = [ReportResource]
    export_form_class = ExportForm
    show_change_form_export = False

    # Few, short columns, so the list fits a laptop screen with the row's download button in view: the period's
    # dates under the report's name, the author under the date it was made.
    list_display = (
        "title",
        "period_badge",
        "made",
        "orders",
        "clients",
        "orders_sum",
        "average",
        "completed",
    )
    list_display_links = ("title",)
    list_filter = ("period", ("created_at", RangeDateFilter))
    list_filter_submit = True
    list_select_related = ("created_by",)
    show_full_result_count = False

    actions_list = ("make_week_report", "make_month_report", "make_year_report")
    actions_row = ("download_text",)
    actions_detail = ("download_text",)

    # The figures, charts, tables and text are drawn above the form (reports/report_page.html); the form keeps
    # what the report is about.
    change_form_outer_before_template = "reports/report_page.html"
    fieldsets = ((None, {"fields": ("period", "created_at", "created_by", "period_start", "period_end")}),)

    def get_queryset(self, request):
        return report_list()

    # A report is a frozen snapshot: made only by the buttons, never edited; only a superuser may delete one.
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_generate_permission(self, request, obj=None):
        return request.user.has_perm("reports.add_report")

    @display(description=_("report"), ordering="id", header=True)
    def title(self, report):
        return (
            gettext("Report #%(id)s") % {"id": report.pk},
            # Days only, to keep the column narrow; the page shows the exact moments.
            f"{_day(report.period_start)} – {_day(report.period_end)}",
        )

    @display(description=_("period"), ordering="period", label=True)
    def period_badge(self, report):
        return report.get_period_display()

    @display(description=_("created"), ordering="created_at", header=True)
    def made(self, report):
        return _short_moment(report.created_at), report.created_by.get_username() if report.created_by else "—"

    @display(description=pgettext_lazy("report list", "orders"), ordering="new_orders_count")
    def orders(self, report):
        return number_format(report.new_orders_count, force_grouping=True)

    @display(description=pgettext_lazy("report list", "clients"), ordering="new_clients_count")
    def clients(self, report):
        return number_format(report.new_clients_count, force_grouping=True)

    @display(description=pgettext_lazy("report list", "sum"), ordering="total_orders_sum")
    def orders_sum(self, report):
        return format_money(report.total_orders_sum)

    @display(description=pgettext_lazy("report list", "average"), ordering="avg_order_sum")
    def average(self, report):
        return format_money(report.avg_order_sum)

    @display(description=pgettext_lazy("report list", "completed"), ordering="completed_orders_count")
    def completed(self, report):
        return number_format(report.completed_orders_count, force_grouping=True)

    # --- The report's page ------------------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context["report_page"] = report_page(obj, link_clients=request.user.has_perm("crm.view_client"))
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- Making reports ---------------------------------------------------------------------------------

    def _make_report(self, request: HttpRequest, period: str) -> HttpResponse:
        try:
            report = report_generate(period=period, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Report #%(id)s is ready.") % {"id": report.pk})
        return redirect(request, reverse("admin:reports_report_changelist"))

    @action(
        description=_("Week report"),
        icon="date_range",
        permissions=["generate"],
        dialog=_make_dialog(_("Make a report for the last 7 days?")),
    )
    def make_week_report(self, request, form):
        return self._make_report(request, Report.Period.WEEK)

    @action(
        description=_("Month report"),
        icon="calendar_month",
        permissions=["generate"],
        dialog=_make_dialog(_("Make a report for the last 30 days?")),
    )
    def make_month_report(self, request, form):
        return self._make_report(request, Report.Period.MONTH)

    @action(
        description=_("Year report"),
        icon="calendar_today",
        permissions=["generate"],
        dialog=_make_dialog(_("Make a report for the last 365 days?")),
    )
    def make_year_report(self, request, form):
        return self._make_report(request, Report.Period.YEAR)

    # --- Downloading ----------------------------------------------------------------------------------

    @action(description=_("Download text"), icon="download", permissions=["view"])
    def download_text(self, request, object_id):
        report = self.get_object(request, object_id)
        if report is None:
            raise Http404(_("No such report."))
        response = HttpResponse(report_text(report).encode("utf-8"), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{report_filename(report)}"'
        return response


def _short_moment(moment) -> str:
    # A non-breaking space: the date and the time stay on one line.
    return date_format(timezone.localtime(moment), "d.m.Y\xa0H:i")


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "d.m.Y")


def report_page(report: Report, *, link_clients: bool) -> dict:
    """The context of a report's page: figure cards, the status and per-day charts, the top tables, the text."""
    labels = dict(Order.Status.choices)
    statuses = report.status_breakdown
    days = report_daily_sums(start=report.period_start, end=report.period_end)
    return {
        "period": gettext("%(period)s: %(start)s – %(end)s") % {
            "period": report.get_period_display(),
            "start": _short_moment(report.period_start),
            "end": _short_moment(report.period_end),
        },
        "cards": [
            {"title": gettext("New orders"), "metric": number_format(report.new_orders_count, force_grouping=True),
             "class": "lg:col-span-2"},
            {"title": gettext("New clients"), "metric": number_format(report.new_clients_count, force_grouping=True),
             "class": "lg:col-span-2"},
            {"title": gettext("Completed orders"),
             "metric": number_format(report.completed_orders_count, force_grouping=True), "class": "lg:col-span-2"},
            {"title": gettext("Total of new orders"), "metric": format_money(report.total_orders_sum),
             "class": "lg:col-span-3"},
            {"title": gettext("Average order"), "metric": format_money(report.avg_order_sum),
             "class": "lg:col-span-3"},
        ],
        "status_chart": json.dumps(
            {
                "labels": [str(labels.get(row["status"], row["status"])) for row in statuses],
                "datasets": [
                    {
                        "label": gettext("Sum, ₽"),
                        "data": [float(row["sum"]) for row in statuses],
                        "backgroundColor": "var(--color-primary-700)",
                        "yAxisID": "money",
                    },
                ],
            }
        ),
        "status_chart_options": chart_options(counts=False),
        "status_rows": [
            {
                "badge": display_for_label((row["status"], labels.get(row["status"], row["status"])), "—",
                                           STATUS_BADGE_COLOURS),
                "count": number_format(row["count"], force_grouping=True),
                "sum": format_money(row["sum"]),
            }
            for row in statuses
        ],
        "daily_chart": json.dumps(
            {
                "labels": [date_format(day, "d.m") for day, _count, _sum in days],
                "datasets": [
                    {
                        "type": "line",
                        "label": gettext("Orders"),
                        "data": [count for _day, count, _sum in days],
                        "borderColor": "var(--color-primary-300)",
                        "yAxisID": "count",
                    },
                    {
                        "label": gettext("Sum, ₽"),
                        "data": [float(total) for _day, _count, total in days],
                        "backgroundColor": "var(--color-primary-700)",
                        "yAxisID": "money",
                    },
                ],
            }
        ),
        "daily_chart_options": chart_options(counts=True),
        # The series is read live (a report keeps none): say so, as the cards show the frozen figures.
        "daily_note": gettext("Counted from the orders as they are now; the figures above are the report's own."),
        "top_products": {
            "headers": [gettext("Product"), gettext("Orders"), gettext("Sum")],
            "rows": [
                [row["product"], number_format(row["count"], force_grouping=True), format_money(row["sum"])]
                for row in report.top_products
            ],
        },
        "top_clients": {
            "headers": [gettext("Client"), gettext("Orders"), gettext("Sum")],
            "rows": [
                [
                    admin_link("admin:crm_client_change", row["client_id"], row["name"]) if link_clients else row["name"],
                    number_format(row["count"], force_grouping=True),
                    format_money(row["sum"]),
                ]
                for row in report.top_clients
            ],
        },
        "text": report_text(report),
        "download_url": reverse("admin:reports_report_download_text", args=[report.pk]),
    }
