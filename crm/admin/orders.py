"""Orders in the staff UI, and the deleted orders restored from their history."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import AutocompleteSelectFilter, ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator

from crm import selectors, services
from crm.admin.display import STATUS_BADGE_COLOURS, VERSION_FIELD_TEMPLATE, FastChangeListMixin, PlainMessagesMixin
from crm.admin.display import VersionedForm, admin_link, error_text, redirect
from crm.admin.display import save_through_services, status_badge
from crm.admin.fields import MoneyField, OrderPriceInput
from crm.admin.filters import TotalRangeFilter
from crm.admin.guards import CheckedBulkActionsMixin, object_dialog
from crm.admin.history import ReadableHistoryAdmin
from crm.admin.importexport import OrderImportExportMixin
from crm.models import Order
from crm.money import format_money

RESTORE_ORDER_DIALOG = object_dialog(
    selectors.deleted_order_list,
    title=gettext_lazy("Restore this order?"),
    description=gettext_lazy("The order comes back under its old number, as it was when it was deleted."),
    form_submit_text=gettext_lazy("Restore"),
)


class OrderAdminForm(VersionedForm):
    class Meta:
        model = Order
        fields = services.ORDER_EDITABLE_FIELDS
        # The price as people type it (89 990,50), with quantity × price shown live under it.
        field_classes = {"price": MoneyField}
        widgets = {"price": OrderPriceInput}

    class Media:
        js = ("crm/order_total.js",)


@admin.register(Order)
class OrderAdmin(
    FastChangeListMixin, PlainMessagesMixin, CheckedBulkActionsMixin, OrderImportExportMixin, ReadableHistoryAdmin,
    ModelAdmin,
):
    form = OrderAdminForm
    change_form_before_template = VERSION_FIELD_TEMPLATE
    list_display = (
        "id", "product", "client_link", "quantity", "price_display", "total_display", "status_badge", "created_at",
    )
    list_display_links = ("id", "product")
    list_select_related = ("client",)
    search_fields = ("search_text",)
    search_help_text = gettext_lazy("Product, description, or the client's name and e-mail.")
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("created_at", RangeDateFilter),
        TotalRangeFilter,
        ("client", AutocompleteSelectFilter),
    )
    list_filter_submit = True
    list_per_page = 50
    # No COUNT(*) over hundreds of thousands of rows on every page.
    show_full_result_count = False
    paginator = InfinitePaginator
    list_disable_select_all = True
    ordering = ("-id",)
    autocomplete_fields = ("client",)
    fieldsets = (
        (None, {"fields": ("client", "product", "description")}),
        (gettext_lazy("Amount"), {"fields": ("quantity", "price", "total_price")}),
        (gettext_lazy("Status"), {"fields": ("status", "created_at")}),
    )
    readonly_fields = ("total_price", "created_at")
    actions = ("mark_completed", "mark_cancelled", "mark_pending")
    actions_list = ("deleted_orders",)
    warn_unsaved_form = True

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(selectors.search_filter(search_term, "search_text", "client__search_text")), False

    def added_message(self, order):
        return _("Order No. %(id)s added.") % {"id": order.pk}

    def changed_message(self, order):
        return _("Order No. %(id)s saved.") % {"id": order.pk}

    def deleted_message(self, obj_display, obj_id):
        return _("Order No. %(id)s deleted; it can be restored from the deleted orders.") % {"id": obj_id}

    @display(description=gettext_lazy("client"), ordering="client__last_name")
    def client_link(self, order):
        return admin_link("admin:crm_client_change", order.client_id, order.client.full_name_reversed)

    @display(description=gettext_lazy("price"), ordering="price")
    def price_display(self, order):
        return format_money(order.price)

    @display(description=gettext_lazy("total"), ordering="total_price")
    def total_display(self, order):
        return format_money(order.total_price)

    @display(description=gettext_lazy("status"), label=STATUS_BADGE_COLOURS, ordering="status")
    def status_badge(self, order):
        return status_badge(order)

    # --- saving and deleting through the services ---------------------------
    def save_model(self, request, obj, form, change):
        save_through_services(
            obj, form, change,
            editable_fields=services.ORDER_EDITABLE_FIELDS,
            create=services.order_create,
            update=lambda order, **fields: services.order_update(order=order, **fields),
        )

    def delete_model(self, request, obj):
        services.order_delete(order=obj)

    def delete_queryset(self, request, queryset):
        for order in queryset.select_related("client"):
            services.order_delete(order=order)

    def restore_from_history(self, request, record, form):
        order = services.order_restore(history_record=record)
        # What the revert form changed from the record is an ordinary edit after the restore.
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in services.ORDER_EDITABLE_FIELDS}
        return services.order_update(order=order, **changes) if changes else order

    # --- actions --------------------------------------------------------------
    def _set_status(self, request, queryset, status):
        changed = services.orders_set_status(orders=queryset, status=status)
        self.message_user(
            request,
            _("Orders changed to “%(status)s”: %(count)s.") % {"status": Order.Status(status).label, "count": changed},
            messages.SUCCESS,
        )

    @action(description=gettext_lazy("Mark as Completed"), permissions=["change"], icon="task_alt")
    def mark_completed(self, request, queryset):
        self._set_status(request, queryset, Order.Status.COMPLETED)

    @action(description=gettext_lazy("Mark as Cancelled"), permissions=["change"], icon="cancel")
    def mark_cancelled(self, request, queryset):
        self._set_status(request, queryset, Order.Status.CANCELLED)

    @action(description=gettext_lazy("Mark as Pending"), permissions=["change"], icon="schedule")
    def mark_pending(self, request, queryset):
        self._set_status(request, queryset, Order.Status.PENDING)

    def has_deleted_orders_permission(self, request, obj=None):
        return request.user.has_perm("crm.view_historicalorder")

    @action(description=gettext_lazy("Deleted orders"), permissions=["deleted_orders"], icon="restore_from_trash")
    def deleted_orders(self, request):
        return HttpResponseRedirect(reverse("admin:crm_historicalorder_changelist"))


@admin.register(Order.history.model)
class DeletedOrderAdmin(FastChangeListMixin, CheckedBulkActionsMixin, ModelAdmin):
    """Orders deleted for good, from their last history record; a manager can restore one."""

    list_display = ("id", "product", "client_name", "quantity", "total_display", "status_badge", "deleted_at",
                    "deleted_by")
    list_display_links = None
    # History records keep no search_text: the field named here only shows the search box, the search
    # itself is selectors.search_order_history (get_search_results).
    search_fields = ("product",)
    search_help_text = gettext_lazy("Product, description, or the client's name and e-mail.")
    list_per_page = 50
    show_full_result_count = False
    ordering = ("-history_date",)
    actions_row = ("restore_order",)

    def get_queryset(self, request):
        return selectors.deleted_order_list()

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return selectors.search_order_history(queryset, search_term), False

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "title": _("Deleted orders")})

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_restore_permission(self, request, obj=None):
        return request.user.has_perms(["crm.add_order", "crm.change_order"])

    @display(description=gettext_lazy("client"))
    def client_name(self, record):
        return record.client.full_name_reversed if record.client else "—"

    @display(description=gettext_lazy("total"))
    def total_display(self, record):
        return format_money(record.total)

    @display(description=gettext_lazy("status"), label=STATUS_BADGE_COLOURS)
    def status_badge(self, record):
        return status_badge(record)

    @display(description=gettext_lazy("deleted"), ordering="history_date")
    def deleted_at(self, record):
        return record.history_date

    @display(description=gettext_lazy("deleted by"))
    def deleted_by(self, record):
        return record.history_user or "—"

    @action(description=gettext_lazy("Restore"), permissions=["restore"], icon="restore", dialog=RESTORE_ORDER_DIALOG)
    def restore_order(self, request, form, object_id):
        record = form.object
        try:
            order = services.order_restore(history_record=record)
        except ValidationError as error:
            self.message_user(request, error_text(error), messages.ERROR)
            return redirect(request, reverse("admin:crm_historicalorder_changelist"))
        self.message_user(request, _("Order #%(id)s was restored.") % {"id": order.pk}, messages.SUCCESS)
        return redirect(request, reverse("admin:crm_order_change", args=[order.pk]))
