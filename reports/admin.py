"""Reports in the staff UI: a read-only list with one-click buttons to make reports and download them."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportActionMixin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import action, display

from crm.admin.display import confirmation_dialog, redirect
from crm.admin.guards import CheckedBulkActionsMixin
from reports.models import Report
from reports.rendering import report_filename, report_text
from reports.resources import ReportResource
from reports.selectors import report_list
from reports.services import report_generate


def _make_dialog(description):
    return confirmation_dialog(_("Make a report"), description, _("Make the report"))


@admin.register(Report)
class ReportAdmin(CheckedBulkActionsMixin, ExportActionMixin, ModelAdmin):
    resource_classes = [ReportResource]
    export_form_class = ExportForm
    show_change_form_export = False

    list_display = (
        "__str__",
        "period_badge",
        "created_at",
        "created_by",
        "new_orders_count",
        "new_clients_count",
        "total_orders_sum",
        "avg_order_sum",
        "completed_orders_count",
    )
    list_display_links = ("__str__",)
    list_filter = ("period", ("created_at", RangeDateFilter))
    list_filter_submit = True
    list_select_related = ("created_by",)
    show_full_result_count = False

    actions_list = ("make_week_report", "make_month_report", "make_year_report")
    actions_row = ("download_text",)
    actions_detail = ("download_text",)

    fieldsets = (
        (None, {"fields": ("period", "created_at", "created_by", "period_start", "period_end")}),
        (
            _("Figures"),
            {
                "fields": (
                    "new_orders_count",
                    "new_clients_count",
                    "total_orders_sum",
                    "avg_order_sum",
                    "completed_orders_count",
                )
            },
        ),
        (_("Text"), {"fields": ("text_preview",)}),
    )
    readonly_fields = ("text_preview",)

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

    @display(description=_("period"), ordering="period", label=True)
    def period_badge(self, report):
        return report.get_period_display()

    @display(description=_("text"))
    def text_preview(self, report):
        return format_html(
            '<pre class="whitespace-pre-wrap font-mono text-sm">{}</pre>', report_text(report)
        )

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
