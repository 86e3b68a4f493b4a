"""Export of the report list to CSV / XLSX (django-import-export); reports are never imported."""

from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from reports.models import Report


class ReportResource(resources.ModelResource):
    created_by = fields.Field(attribute="created_by__username", column_name="created_by", readonly=True)

    class Meta:
        model = Report
        name = _("Reports")
        fields = (
            "id",
            "period",
            "created_at",
            "created_by",
            "period_start",
            "period_end",
            "new_orders_count",
            "new_clients_count",
            "total_orders_sum",
            "avg_order_sum",
            "completed_orders_count",
        )
        export_order = fields
        # Sums as plain "5000.00" (as the API shows them), not in the active language's number format.
        widgets = {"total_orders_sum": {"coerce_to_string": False}, "avg_order_sum": {"coerce_to_string": False}}

    def get_queryset(self):
        return super().get_queryset().select_related("created_by")
