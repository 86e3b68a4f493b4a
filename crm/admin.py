"""The staff UI: thin unfold ModelAdmins over the domain's services and selectors."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RangeDateFilter,
)
from unfold.decorators import action, display
from unfold.enums import ActionVariant
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.paginator import InfinitePaginator
from unfold.views import ChangeList

from crm import services
from crm.admin_filters import HasOrdersFilter, TotalRangeFilter
from crm.admin_import_export import ClientImportExportMixin, OrderImportExportMixin
from crm.models import Client, Order
from crm.selectors import client_list_with_totals, search_filter, search_order_history

STATUS_LABELS = {
    Order.Status.PENDING.label: "warning",
    Order.Status.COMPLETED.label: "success",
    Order.Status.CANCELLED.label: "danger",
    Client.Status.ACTIVE.label: "success",
    Client.Status.ARCHIVED.label: "info",
}


def _money(amount) -> str:
    return f"{number_format(amount or 0, decimal_pos=2, use_l10n=True, force_grouping=True)} ₽"


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _redirect(request, url: str) -> HttpResponse:
    """Leave an action for `url`; unfold's dialogs post through htmx, which needs HX-Redirect."""
    if request.headers.get("HX-Request"):
        return HttpResponse(headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


class CachedHeadersChangeList(ChangeList):
    """unfold rebuilds every column header (with its sorting links) for each row of the list;
    remembering the links makes 50 rows cost one set of headers, not fifty."""

    def get_ordering_field_columns(self):
        if not hasattr(self, "_ordering_field_columns"):
            self._ordering_field_columns = super().get_ordering_field_columns()
        return self._ordering_field_columns

    def get_query_string(self, new_params=None, remove=None):
        key = repr((sorted((new_params or {}).items()), list(remove or ())))
        cache = self.__dict__.setdefault("_query_strings", {})
        if key not in cache:
            cache[key] = super().get_query_string(new_params, remove)
        return cache[key]


class FastChangeListMixin:
    """Cheaper rendering of a long change list (the HTML, not the queries, is most of its time)."""

    # unfold's template asks for list_sections on every row; a missing attribute is an expensive miss.
    list_sections = ()

    def get_changelist(self, request, **kwargs):
        return CachedHeadersChangeList


ARCHIVE_DIALOG = {
    "title": gettext_lazy("Archive this client?"),
    "description": gettext_lazy("The client leaves the active lists; the orders and the history are kept."),
    "form_submit_text": gettext_lazy("Archive"),
}
RESTORE_DIALOG = {
    "title": gettext_lazy("Restore this client?"),
    "description": gettext_lazy("The client comes back to the active lists."),
    "form_submit_text": gettext_lazy("Restore"),
}
RESTORE_ORDER_DIALOG = {
    "title": gettext_lazy("Restore this order?"),
    "description": gettext_lazy("The order comes back under its old number, as it was when it was deleted."),
    "form_submit_text": gettext_lazy("Restore"),
}


admin.site.site_title = gettext_lazy("CRM")
admin.site.site_header = gettext_lazy("Orders & Clients CRM")
admin.site.index_title = gettext_lazy("Dashboard")


def _save_through_services(obj, form, change, *, editable_fields, create, update):
    """save_model for the domain admins: the form's fields go to the create/update service."""
    fields = {name: form.cleaned_data[name] for name in editable_fields if name in form.cleaned_data}
    if change:
        update(obj, **fields)
        return
    created = create(**fields)
    # The admin goes on with `obj` (history, messages, redirect): make it the saved row.
    obj.pk = created.pk
    obj._state.adding = False
    obj.refresh_from_db()


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
class ClientAdminForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = services.CLIENT_EDITABLE_FIELDS

    def clean(self):
        cleaned_data = super().clean()
        email = cleaned_data.get("email")
        if email:
            # The same check client_create/client_update make, shown on the e-mail field.
            try:
                services.client_check_email_free(Client(pk=self.instance.pk, email=email.strip().lower()))
            except services.ClientEmailTaken as error:
                self.add_error(None, error)
        return cleaned_data


class ClientOrderInline(TabularInline):
    """The client's orders on the client page: a read-only summary with links."""

    model = Order
    fields = ("order_link", "product", "quantity", "total_price", "status_badge", "created_at")
    readonly_fields = fields
    extra = 0
    per_page = 10
    can_delete = False
    show_change_link = False
    verbose_name_plural = gettext_lazy("orders of this client")

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=gettext_lazy("order"))
    def order_link(self, order):
        return format_html('<a class="text-primary-600 font-medium" href="{}">#{}</a>',
                           reverse("admin:crm_order_change", args=[order.pk]), order.pk)

    @display(description=gettext_lazy("status"), label=STATUS_LABELS)
    def status_badge(self, order):
        return order.get_status_display()


@admin.register(Client)
class ClientAdmin(FastChangeListMixin, ClientImportExportMixin, SimpleHistoryAdmin, ModelAdmin):
    form = ClientAdminForm
    list_display = (
        "name", "email", "mobile_phone", "status_badge", "orders_count", "orders_total", "added_at",
    )
    list_display_links = ("name",)
    # Searching goes through the domain's Cyrillic-aware search (get_search_results).
    search_fields = ("search_text",)
    search_help_text = gettext_lazy("Name, e-mail or phone; case and ё/е do not matter.")
    list_filter = (
        ("status", ChoicesDropdownFilter),
        ("added_at", RangeDateFilter),
        HasOrdersFilter,
    )
    list_filter_submit = True
    list_per_page = 50
    show_full_result_count = False
    ordering = ("-id",)
    fieldsets = (
        (gettext_lazy("Name"), {"fields": ("last_name", "first_name", "middle_name")}),
        (gettext_lazy("Contacts"), {"fields": ("email", "mobile_phone")}),
        (gettext_lazy("Status"), {"fields": ("status", "added_at")}),
    )
    readonly_fields = ("added_at",)
    inlines = (ClientOrderInline,)
    actions = ("archive_selected", "restore_selected")
    actions_detail = ("add_order", "archive", "restore")
    warn_unsaved_form = True

    def get_queryset(self, request):
        # Correlated subqueries (served by the (client, ...) order indexes) aggregate the orders of the
        # 50 clients shown only; a GROUP BY over the join would aggregate every order before the LIMIT.
        return client_list_with_totals(status="all")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(search_filter(search_term, "search_text")), False

    @display(description=gettext_lazy("full name"), ordering="last_name", header=True)
    def name(self, client):
        initials = (client.last_name[:1] + client.first_name[:1]).upper()
        return client.full_name_reversed, f"#{client.pk}", initials

    @display(description=gettext_lazy("status"), label=STATUS_LABELS, ordering="status")
    def status_badge(self, client):
        return client.get_status_display()

    @display(description=gettext_lazy("orders"), ordering="orders_count")
    def orders_count(self, client):
        if not client.orders_count:
            return 0
        url = reverse("admin:crm_order_changelist") + f"?client__id__exact={client.pk}"
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, client.orders_count)

    @display(description=gettext_lazy("total spent"), ordering="orders_total")
    def orders_total(self, client):
        return _money(client.orders_total)

    # --- saving and deleting through the services ---------------------------
    def save_model(self, request, obj, form, change):
        _save_through_services(
            obj, form, change,
            editable_fields=services.CLIENT_EDITABLE_FIELDS,
            create=services.client_create,
            update=lambda client, **fields: services.client_update(client=client, **fields),
        )

    def has_delete_permission(self, request, obj=None):
        # Clients are archived; deleting one for good is a superuser's exceptional act.
        return request.user.is_active and request.user.is_superuser

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "POST":
            client = self.get_object(request, unquote(object_id))
            if client is None or not self.has_delete_permission(request, client):
                raise PermissionDenied
            try:
                with transaction.atomic():
                    self.log_deletions(request, [client])
                    self.delete_model(request, client)
            except ValidationError as error:
                self.message_user(request, _error_text(error), messages.ERROR)
                return HttpResponseRedirect(reverse("admin:crm_client_change", args=[client.pk]))
            self.message_user(request, _("The client %(name)s was deleted.") % {"name": client}, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:crm_client_changelist"))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.client_delete(client=obj)

    def delete_queryset(self, request, queryset):
        for client in queryset:
            services.client_delete(client=client)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Django's bulk delete would run into protected orders; superusers delete one by one.
        actions.pop("delete_selected", None)
        return actions

    # --- actions --------------------------------------------------------------
    def _set_status(self, request, queryset, status, done_message):
        changed = services.clients_set_status(clients=queryset, status=status)
        self.message_user(request, done_message % {"count": changed}, messages.SUCCESS)

    @action(description=gettext_lazy("Archive selected clients"), permissions=["change"], icon="archive")
    def archive_selected(self, request, queryset):
        self._set_status(request, queryset, Client.Status.ARCHIVED, _("Clients archived: %(count)s."))

    @action(description=gettext_lazy("Restore selected clients"), permissions=["change"], icon="unarchive")
    def restore_selected(self, request, queryset):
        self._set_status(request, queryset, Client.Status.ACTIVE, _("Clients restored: %(count)s."))

    def get_actions_detail(self, request, object_id):
        # Offer Archive to an active client and Restore to an archived one, never both.
        actions = super().get_actions_detail(request, object_id)
        status = Client.objects.filter(pk=unquote(str(object_id))).values_list("status", flat=True).first()
        hidden = "crm_client_restore" if status == Client.Status.ACTIVE else "crm_client_archive"
        return [item for item in actions if item.action_name != hidden]

    def has_add_order_permission(self, request, obj=None):
        return request.user.has_perm("crm.add_order")

    @action(description=gettext_lazy("Add order"), permissions=["add_order"], icon="add_shopping_cart",
            variant=ActionVariant.PRIMARY)
    def add_order(self, request, object_id):
        client = get_object_or_404(Client, pk=unquote(object_id))
        return HttpResponseRedirect(reverse("admin:crm_order_add") + f"?client={client.pk}")

    @action(description=gettext_lazy("Archive"), permissions=["change"], icon="archive", dialog=ARCHIVE_DIALOG)
    def archive(self, request, form, object_id):
        client = get_object_or_404(Client, pk=unquote(object_id))
        services.client_archive(client=client)
        self.message_user(request, _("The client %(name)s was archived; the orders are kept.") % {"name": client},
                          messages.SUCCESS)
        return _redirect(request, reverse("admin:crm_client_change", args=[client.pk]))

    @action(description=gettext_lazy("Restore"), permissions=["change"], icon="unarchive", dialog=RESTORE_DIALOG)
    def restore(self, request, form, object_id):
        client = get_object_or_404(Client, pk=unquote(object_id))
        services.client_restore(client=client)
        self.message_user(request, _("The client %(name)s is active again.") % {"name": client}, messages.SUCCESS)
        return _redirect(request, reverse("admin:crm_client_change", args=[client.pk]))


# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------
class OrderAdminForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = services.ORDER_EDITABLE_FIELDS


@admin.register(Order)
class OrderAdmin(FastChangeListMixin, OrderImportExportMixin, SimpleHistoryAdmin, ModelAdmin):
    form = OrderAdminForm
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
        return queryset.filter(search_filter(search_term, "search_text", "client__search_text")), False

    @display(description=gettext_lazy("client"), ordering="client__last_name")
    def client_link(self, order):
        return format_html('<a class="text-primary-600" href="{}">{}</a>',
                           reverse("admin:crm_client_change", args=[order.client_id]), order.client.full_name_reversed)

    @display(description=gettext_lazy("price"), ordering="price")
    def price_display(self, order):
        return _money(order.price)

    @display(description=gettext_lazy("total"), ordering="total_price")
    def total_display(self, order):
        return _money(order.total_price)

    @display(description=gettext_lazy("status"), label=STATUS_LABELS, ordering="status")
    def status_badge(self, order):
        return order.get_status_display()

    # --- saving and deleting through the services ---------------------------
    def save_model(self, request, obj, form, change):
        _save_through_services(
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


# ---------------------------------------------------------------------------
# Deleted orders: found in the order history and restored from it
# ---------------------------------------------------------------------------
HistoricalOrder = Order.history.model


@admin.register(HistoricalOrder)
class DeletedOrderAdmin(FastChangeListMixin, ModelAdmin):
    """Orders deleted for good, from their last history record; a manager can restore one."""

    list_display = ("id", "product", "client_name", "quantity", "total", "status", "history_date", "history_user")
    list_display_links = None
    list_select_related = ("client", "history_user")
    # History records keep no search_text: the field named here only shows the search box, the search
    # itself is crm.selectors.search_order_history (get_search_results).
    search_fields = ("product",)
    search_help_text = gettext_lazy("Product, description, or the client's name and e-mail.")
    list_per_page = 50
    show_full_result_count = False
    ordering = ("-history_date",)
    actions_row = ("restore_order",)

    def get_queryset(self, request):
        still_there = Exists(Order.objects.filter(pk=OuterRef("id")))
        return super().get_queryset(request).filter(history_type="-").exclude(still_there)

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return search_order_history(queryset, search_term), False

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
    def total(self, record):
        return _money(record.quantity * record.price)

    @action(description=gettext_lazy("Restore"), permissions=["restore"], icon="restore", dialog=RESTORE_ORDER_DIALOG)
    def restore_order(self, request, form, object_id):
        record = get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        try:
            order = services.order_restore(history_record=record)
        except ValidationError as error:
            self.message_user(request, _error_text(error), messages.ERROR)
            return _redirect(request, reverse("admin:crm_historicalorder_changelist"))
        self.message_user(request, _("Order #%(id)s was restored.") % {"id": order.pk}, messages.SUCCESS)
        return _redirect(request, reverse("admin:crm_order_change", args=[order.pk]))


# ---------------------------------------------------------------------------
# Users and groups, in unfold's styling
# ---------------------------------------------------------------------------
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "first_name", "last_name", "email", "is_staff", "is_superuser", "is_active")


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


# ---------------------------------------------------------------------------
# Login lockout (django-axes): a themed page for people, the API's envelope for programs
# ---------------------------------------------------------------------------
def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login gets: JSON 429 on /api/, otherwise an unfold-styled page."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed login attempts. The account is locked for %(minutes)s minutes; try again later "
        "or ask an administrator to unlock it."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        if original_response is not None and original_response.status_code == 429:
            return original_response  # the API already answered with its own envelope
        return JsonResponse({"success": False, "error": message}, status=429)
    context = {**admin.site.each_context(request), "title": _("Account locked"), "lockout_message": message}
    return render(request, "crm/lockout.html", context, status=429)
