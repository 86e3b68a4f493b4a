"""List filters of the staff admin that unfold does not ship ready-made, and the quick links some of them offer."""

from datetime import date, datetime, time, timedelta

from django.contrib.admin.widgets import AutocompleteSelect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import AutocompleteSelectFilter, DropdownFilter, RadioFilter, RangeNumericListFilter
from unfold.contrib.filters.forms import AutocompleteDropdownForm

from crm.admin.display import CachedHeadersChangeList
from crm.models import Client
from crm.selectors import clients_with_orders

# The client autocomplete answers with active clients only, unless its address carries this parameter.
ANY_CLIENT_STATUS_PARAMETER = "any_status"


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


def period_bounds(period: str | None, *, today: date | None = None) -> tuple[datetime, datetime] | None:
    """[start, end) of a quick period in local days (the site's time zone), or None for an unknown period."""
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    next_month_start = (month_start + timedelta(days=31)).replace(day=1)
    days = {
        "today": (today, today + timedelta(days=1)),
        "7days": (today - timedelta(days=6), today + timedelta(days=1)),
        "month": (month_start, next_month_start),
        "last_month": ((month_start - timedelta(days=1)).replace(day=1), month_start),
    }.get(period or "")
    if days is None:
        return None
    # Local midnights: "today" in Moscow starts at 21:00 UTC the day before.
    zone = timezone.get_current_timezone()
    return tuple(datetime.combine(day, time.min, tzinfo=zone) for day in days)


class PeriodFilter(RadioFilter):
    """Orders of a quick period (today, the last 7 days, this or last month), also offered as links above the list."""

    title = _("period")
    parameter_name = "period"
    all_option = ["", _("All time")]
    quick_links = True

    def lookups(self, request, model_admin):
        return [
            ("today", _("Today")),
            ("7days", _("Last 7 days")),
            ("month", _("This month")),
            ("last_month", _("Last month")),
        ]

    def queryset(self, request, queryset):
        bounds = period_bounds(self.value())
        if bounds is None:
            return queryset
        start, end = bounds
        # Served by the (created_at, id) and (status, created_at, total_price) indexes.
        return queryset.filter(created_at__gte=start, created_at__lt=end)


class ClientStatusFilter(RadioFilter):
    """Active clients unless asked otherwise: an archived client leaves the lists, as the archive dialog says."""

    title = _("status")
    # Django's own status filter's parameter, so links such as the dashboard's (?status__exact=active) still work.
    parameter_name = "status__exact"
    all_option = None
    quick_links = True
    ALL = "all"

    def lookups(self, request, model_admin):
        return [
            (Client.Status.ACTIVE, _("Active only")),
            (Client.Status.ARCHIVED, _("Archived only")),
            (self.ALL, _("All statuses")),
        ]

    def value(self):
        value = super().value()
        return value if value in (*Client.Status.values, self.ALL) else Client.Status.ACTIVE

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if value == self.ALL else queryset.filter(status=value)


class AnyStatusClientAutocomplete(AutocompleteSelect):
    def get_url(self):
        return f"{super().get_url()}?{ANY_CLIENT_STATUS_PARAMETER}=1"


class AnyStatusClientForm(AutocompleteDropdownForm):
    widget = AnyStatusClientAutocomplete


class OrderClientFilter(AutocompleteSelectFilter):
    """The order list's client filter: it finds archived clients too (the order form offers active ones only)."""

    form_class = AnyStatusClientForm


class QuickLinksChangeList(CachedHeadersChangeList):
    """A change list showing the choices of its `quick_links` filter as links above the table: one click, no panel."""

    def get_results(self, request):
        super().get_results(request)
        if self.full_result_count is None and not self.has_active_filters and not self.query:
            # Nothing narrows the list, so its count is the full count: no "N results (Show all)" leading back here.
            self.full_result_count = self.result_count

    @cached_property
    def quick_links(self) -> list[dict]:
        for spec in self.filter_specs:
            if getattr(spec, "quick_links", False):
                break
        else:
            return []
        choices = ([tuple(spec.all_option)] if spec.all_option else []) + list(spec.lookup_choices)
        current = str(spec.value() or "")
        return [
            {
                "label": label,
                "url": self.get_query_string({spec.parameter_name: value} if value else None,
                                             remove=None if value else [spec.parameter_name]),
                "active": str(value) == current,
            }
            for value, label in choices
        ]


# Included above the table by the admins whose change list is a QuickLinksChangeList.
QUICK_LINKS_TEMPLATE = "admin/crm/change_list_quick_links.html"
