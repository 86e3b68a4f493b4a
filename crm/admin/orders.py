"""Orders in the staff UI, and the deleted orders restored from their history."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminRadioSelectWidget

from crm import selectors, services
from crm.admin.display import STATUS_BADGE_COLOURS, VERSION_FIELD_TEMPLATE, FastChangeListMixin, PlainMessagesMixin
from crm.admin.display import VersionedForm, admin_link, error_text, redirect
from crm.admin.display import ReadOnlyAdminMixin, save_through_services, status_badge
from crm.admin.fields import MoneyField, OrderPriceInput
from crm.admin.filters import QUICK_LINKS_TEMPLATE, OrderClientFilter, PeriodFilter, QuickLinksChangeList
from crm.admin.filters import TotalRangeFilter
from crm.admin.guards import CheckedBulkActionsMixin, object_dialog, object_pk
from crm.admin.history import ReadableHistoryAdmin
from crm.admin.importexport import OrderImportExportMixin
from crm.models import Client, Order
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


# --- the add-order flow: an archived client needs a decision ------------------
RESTORE_CLIENT, KEEP_CLIENT_ARCHIVED = "restore", "keep"


def client_pk(value) -> int | None:
    """The client id a form or an address names, or None when it cannot name one ("abc", 10**30)."""
    pk = object_pk(Client, value)
    return pk if pk is not None and 0 < pk < 2**63 else None


class ClientChoiceField(forms.ModelChoiceField):
    """The order's client: an id too large for the database is an invalid choice, not a server error."""

    def to_python(self, value):
        if value not in self.empty_values and client_pk(value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)

    def prepare_value(self, value):
        # The form shown again after such a value: its autocomplete would look the value up.
        if isinstance(value, (str, int)) and value not in self.empty_values and client_pk(value) is None:
            return None
        return super().prepare_value(value)


class OrderAddForm(OrderAdminForm):
    """A new order for an archived client is taken only once the manager chose: restore the client, or go ahead.

    Only the admin asks: the API takes orders for archived clients as its contract says.
    """

    archived_client = forms.ChoiceField(
        label=gettext_lazy("Order for an archived client"),
        choices=[
            (RESTORE_CLIENT, gettext_lazy("Restore the client and add the order")),
            (KEEP_CLIENT_ARCHIVED, gettext_lazy("Add the order anyway; the client stays archived")),
        ],
        required=False,
        widget=UnfoldAdminRadioSelectWidget,
        help_text=gettext_lazy("An archived client is out of the active lists."),
    )
    # False for a user who may not change clients: then only "add anyway" is offered.
    may_restore_client = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.may_restore_client:
            field = self.fields["archived_client"]
            field.choices = [choice for choice in field.choices if choice[0] != RESTORE_CLIENT]

    def clean(self):
        cleaned_data = super().clean()
        client = cleaned_data.get("client")
        if client is not None and client.status == Client.Status.ARCHIVED and not cleaned_data.get("archived_client"):
            self.add_error("archived_client", _(
                "The client %(name)s is archived: restore the client, or confirm the order for an archived client."
            ) % {"name": client.full_name_reversed})
        return cleaned_data


def order_search(search_term: str, *, counting: bool = False):
    """The order list's search: product and description, or the client's name, e-mail and phone."""
    return selectors.search_filter(
        search_term, "search_text", "client__search_text", clients_as_subquery=True if counting else None
    )


# The request's orders as the summary counts them (OrderChangeList.get_queryset sets it for a search).
ORDERS_TO_COUNT = "crm_orders_to_count"


class OrderListPaginator(Paginator):
    """Django's paginator (page numbers) counting with the summary's aggregate: one query answers both."""

    def __init__(self, object_list, *args, orders_to_count=None, **kwargs):
        super().__init__(object_list, *args, **kwargs)
        self.orders_to_count = object_list if orders_to_count is None else orders_to_count

    @cached_property
    def summary(self) -> selectors.OrderListSummary:
        return selectors.order_list_summary(self.orders_to_count)

    @cached_property
    def count(self) -> int:
        return self.summary.count


class OrderChangeList(QuickLinksChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        if exclude_parameters is None and self.query.strip():
            # The same rows, searched the way that counts every match fastest (the page itself stops after 50 rows).
            search, self.query = self.query, ""
            try:
                unsearched = super().get_queryset(request)
            finally:
                self.query = search
            setattr(request, ORDERS_TO_COUNT, unsearched.filter(order_search(search, counting=True)))
        return queryset

    @cached_property
    def summary_text(self) -> str:
        summary = self.paginator.summary
        return ngettext(
            "Found %(count)s order worth %(total)s", "Found %(count)s orders worth %(total)s", summary.count
        ) % {"count": number_format(summary.count, force_grouping=True), "total": format_money(summary.total)}


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
        PeriodFilter,
        ("created_at", RangeDateFilter),
        TotalRangeFilter,
        ("client", OrderClientFilter),
    )
    list_filter_submit = True
    list_per_page = 50
    list_before_template = QUICK_LINKS_TEMPLATE
    # One COUNT + SUM aggregate (from the indexes) gives the summary and the page numbers; no second COUNT(*)
    # of the unfiltered table.
    show_full_result_count = False
    paginator = OrderListPaginator
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

    def get_changelist(self, request, **kwargs):
        return OrderChangeList

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(order_search(search_term)), False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page,
                              orders_to_count=getattr(request, ORDERS_TO_COUNT, None))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "client":
            kwargs.setdefault("form_class", ClientChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        # An address naming no possible client (?client=abc) opens the form without one rather than failing.
        if "client" in initial and client_pk(initial["client"]) is None:
            del initial["client"]
        return initial

    def _chosen_client_is_archived(self, request) -> bool:
        # The client the add form was opened for (?client=) or is posted with.
        pk = client_pk((request.POST if request.method == "POST" else request.GET).get("client", ""))
        return pk is not None and selectors.client_status(pk) == Client.Status.ARCHIVED

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None and self._chosen_client_is_archived(request):
            return ((gettext_lazy("Archived client"), {"fields": ("archived_client",)}), *fieldsets)
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            may_restore = request.user.has_perm("crm.change_client")
            kwargs["form"] = type("OrderAddForm", (OrderAddForm,), {"may_restore_client": may_restore})
        return super().get_form(request, obj, change, **kwargs)

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
        if not change and form.cleaned_data.get("archived_client") == RESTORE_CLIENT:
            client = services.client_restore(client=form.cleaned_data["client"])
            self.message_user(request, _("The client %(name)s is active again.") % {"name": client}, messages.SUCCESS)
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
class DeletedOrderAdmin(ReadOnlyAdminMixin, FastChangeListMixin, CheckedBulkActionsMixin, ModelAdmin):
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
