"""List filters of the staff admin that unfold does not ship ready-made."""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import DropdownFilter, RangeNumericListFilter

from crm.models import Order


class HasOrdersFilter(DropdownFilter):
    title = _("orders")
    parameter_name = "has_orders"

    def lookups(self, request, model_admin):
        return [("yes", _("Has orders")), ("no", _("No orders"))]

    def queryset(self, request, queryset):
        has_orders = Exists(Order.objects.filter(client=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(has_orders)
        if self.value() == "no":
            return queryset.filter(~has_orders)
        return queryset


class TotalRangeFilter(RangeNumericListFilter):
    """From–to on the order total (RangeNumericFilter refuses the GeneratedField it is stored in)."""

    title = _("total")
    parameter_name = "total_price"
