"""List filters of the staff admin that unfold does not ship ready-made."""

from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import DropdownFilter, RangeNumericListFilter

from crm.selectors import clients_with_orders


class HasOrdersFilter(DropdownFilter):
    title = _("orders")
    parameter_name = "has_orders"

    def lookups(self, request, model_admin):
        return [("yes", _("Has orders")), ("no", _("No orders"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return clients_with_orders(queryset, has_orders=self.value() == "yes")
        return queryset


class TotalRangeFilter(RangeNumericListFilter):
    """From–to on the order total (RangeNumericFilter refuses the GeneratedField it is stored in)."""

    title = _("total")
    parameter_name = "total_price"
