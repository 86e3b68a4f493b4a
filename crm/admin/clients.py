"""Clients in the staff UI: list, page with the client's orders, archive and restore."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import action, display
from unfold.enums import ActionVariant
from unfold.utils import display_for_label

from crm import selectors, services
from crm.admin.display import STATUS_BADGE_COLOURS, VERSION_FIELD_TEMPLATE, FastChangeListMixin, PlainMessagesMixin
from crm.admin.display import ReadOnlyAdminMixin, VersionedForm, admin_link, error_text, redirect
from crm.admin.display import save_through_services, status_badge
from crm.admin.fields import PhoneField, PhoneInput
from crm.admin.filters import ANY_CLIENT_STATUS_PARAMETER, QUICK_LINKS_TEMPLATE, ClientStatusFilter, HasOrdersFilter
from crm.admin.filters import QuickLinksChangeList
from crm.admin.guards import CheckedBulkActionsMixin, object_dialog, object_or_404, object_pk
from crm.admin.history import ReadableHistoryAdmin
from crm.admin.importexport import ClientImportExportMixin
from crm.models import Client, Order, format_phone
from crm.money import format_money

ARCHIVE_DIALOG = object_dialog(
    Client.objects.all,
    title=gettext_lazy("Archive this client?"),
    description=gettext_lazy("The client leaves the active lists; the orders and the history are kept."),
    form_submit_text=gettext_lazy("Archive"),
)
RESTORE_DIALOG = object_dialog(
    Client.objects.all,
    title=gettext_lazy("Restore this client?"),
    description=gettext_lazy("The client comes back to the active lists."),
    form_submit_text=gettext_lazy("Restore"),
)


class ClientAdminForm(VersionedForm):
    class Meta:
        model = Client
        fields = services.CLIENT_EDITABLE_FIELDS
        # Any usual spelling of a phone, stored as +79991234567 and shown as +7 (999) 123-45-67.
        field_classes = {"mobile_phone": PhoneField}
        widgets = {"mobile_phone": PhoneInput}

    def clean(self):
        cleaned_data = super().clean()
        email = cleaned_data.get("email")
        if email:
            # The services' own check, shown on the form before saving.
            try:
                services.client_check_email_free(Client(pk=self.instance.pk, email=email))
            except services.ClientEmailTaken as error:
                self.add_error(None, error)
        return cleaned_data


def client_summary_cards(client: Client) -> dict:
    """The client page's summary (selectors.client_summary) as unfold cards, each opening the orders it counts."""
    summary = selectors.client_summary(client)
    client_orders = reverse("admin:crm_order_changelist") + f"?client__id__exact={client.pk}"
    not_cancelled = ",".join(status for status in Order.Status.values if status != Order.Status.CANCELLED)

    def day(moment):
        return date_format(timezone.localtime(moment), "d.m.Y") if moment else "—"

    return {
        "cards": [
            {
                "title": _("Total spent"),
                "metric": format_money(summary.total_spent),
                "footer": ngettext(
                    "%(count)s order; cancelled ones left out", "%(count)s orders; cancelled ones left out",
                    summary.spent_orders_count,
                ) % {"count": summary.spent_orders_count},
                "href": f"{client_orders}&status__in={not_cancelled}",
            },
            {
                "title": _("Average order"),
                "metric": format_money(summary.average_order),
                "footer": _("cancelled orders left out"),
                "href": f"{client_orders}&status__in={not_cancelled}",
            },
            {
                "title": _("First order"),
                "metric": day(summary.first_order_at),
                "footer": ngettext("%(count)s order in all", "%(count)s orders in all", summary.orders_count)
                % {"count": summary.orders_count},
                "href": client_orders,
            },
            {
                "title": _("Last order"),
                "metric": day(summary.last_order_at),
                "footer": _("%(time)s ago") % {"time": timesince(summary.last_order_at)}
                if summary.last_order_at else _("no orders yet"),
                "href": client_orders,
            },
        ],
        "statuses": [
            {
                "badge": display_for_label((value, label), "—", STATUS_BADGE_COLOURS),
                "count": ngettext("%(count)s order", "%(count)s orders", count) % {"count": count},
                "sum": format_money(total),
                "href": f"{client_orders}&status__exact={value}",
            }
            for value, label, count, total in summary.by_status
        ],
    }


class ClientOrderInline(ReadOnlyAdminMixin, TabularInline):
    """The client's orders on the client page: a read-only summary with links."""

    model = Order
    fields = ("order_link", "product", "quantity", "order_total", "status_badge", "created_at")
    readonly_fields = fields
    extra = 0
    per_page = 10
    can_delete = False
    show_change_link = False
    verbose_name_plural = gettext_lazy("orders of this client")
    hide_title = True  # each row already shows the order's number and product

    def get_queryset(self, request):
        # Newest first by creation time, as the dashboard lists them; (client, created_at, ...) is an index.
        return super().get_queryset(request).order_by("-created_at", "-id")

    @display(description=gettext_lazy("order"))
    def order_link(self, order):
        return admin_link("admin:crm_order_change", order.pk, f"#{order.pk}")

    @display(description=gettext_lazy("total"))
    def order_total(self, order):
        return format_money(order.total_price)

    @display(description=gettext_lazy("status"))
    def status_badge(self, order):
        # An inline's read-only field shows what it gets: the badge itself, not unfold's (value, label) pair.
        return display_for_label(status_badge(order), "—", STATUS_BADGE_COLOURS)


@admin.register(Client)
class ClientAdmin(
    FastChangeListMixin, PlainMessagesMixin, CheckedBulkActionsMixin, ClientImportExportMixin, ReadableHistoryAdmin,
    ModelAdmin,
):
    form = ClientAdminForm
    change_form_before_template = VERSION_FIELD_TEMPLATE
    # Above the form (outside it): the summary of the client's orders, from render_change_form's context.
    change_form_outer_before_template = "admin/crm/client/summary.html"
    list_display = (
        "name", "email", "phone", "status_badge", "orders_count", "orders_total", "last_order", "added_at",
    )
    list_display_links = ("name",)
    # Searching goes through the domain's Cyrillic-aware search (get_search_results).
    search_fields = ("search_text",)
    search_help_text = gettext_lazy("Name, e-mail or phone; case and ё/е do not matter.")
    list_filter = (
        ClientStatusFilter,
        ("added_at", RangeDateFilter),
        HasOrdersFilter,
    )
    list_filter_submit = True
    list_per_page = 50
    list_before_template = QUICK_LINKS_TEMPLATE
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
        if request.resolver_match and request.resolver_match.url_name == "autocomplete":
            # The order form offers active clients only; the order list's client filter asks for any.
            return selectors.client_list(status="all" if request.GET.get(ANY_CLIENT_STATUS_PARAMETER) else "active")
        # Every status: the list's status filter shows active clients unless asked otherwise.
        return selectors.client_list_with_totals(status="all")

    def get_changelist(self, request, **kwargs):
        return QuickLinksChangeList

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(selectors.search_filter(search_term, "search_text")), False

    def added_message(self, client):
        return _("Client %(name)s added.") % {"name": client.full_name_reversed}

    def changed_message(self, client):
        return _("Client %(name)s saved.") % {"name": client.full_name_reversed}

    def deleted_message(self, obj_display, obj_id):
        return _("The client %(name)s was deleted.") % {"name": obj_display}

    @display(description=gettext_lazy("full name"), ordering="last_name", header=True)
    def name(self, client):
        initials = (client.last_name[:1] + client.first_name[:1]).upper()
        return client.full_name_reversed, f"#{client.pk}", initials

    @display(description=gettext_lazy("status"), label=STATUS_BADGE_COLOURS, ordering="status")
    def status_badge(self, client):
        return status_badge(client)

    @display(description=gettext_lazy("mobile phone"), ordering="mobile_phone")
    def phone(self, client):
        # Stored as +79001234567 (normalize_phone), read as +7 (900) 123-45-67.
        return format_phone(client.mobile_phone)

    @display(description=gettext_lazy("orders"), ordering="orders_count")
    def orders_count(self, client):
        if not client.orders_count:
            return 0
        url = reverse("admin:crm_order_changelist") + f"?client__id__exact={client.pk}"
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, client.orders_count)

    @display(description=gettext_lazy("total spent"), ordering="orders_total")
    def orders_total(self, client):
        return format_money(client.orders_total)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context["client_summary"] = client_summary_cards(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # A client without orders counts as the longest ago: first going up, last going down, on both databases.
    @display(description=gettext_lazy("last order"), ordering=F("last_order_at").asc(nulls_first=True))
    def last_order(self, client):
        if client.last_order_at is None:
            return "—"
        return date_format(timezone.localtime(client.last_order_at), "SHORT_DATE_FORMAT")

    # --- saving and deleting through the services ---------------------------
    def save_model(self, request, obj, form, change):
        save_through_services(
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
            if client is None:
                # Django's answer to an address naming no client: back to the list, with a message.
                return super().delete_view(request, object_id, extra_context)
            if not self.has_delete_permission(request, client):
                raise PermissionDenied
            try:
                with transaction.atomic():
                    self.log_deletions(request, [client])
                    self.delete_model(request, client)
            except ValidationError as error:
                # client_delete refuses a client with orders: say so on the client's page.
                self.message_user(request, error_text(error), messages.ERROR)
                return HttpResponseRedirect(reverse("admin:crm_client_change", args=[client.pk]))
            self.message_user(request, _("The client %(name)s was deleted.") % {"name": client}, messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:crm_client_changelist"))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        services.client_delete(client=obj)

    def restore_from_history(self, request, record, form):
        fields = {name: form.cleaned_data[name] for name in services.CLIENT_EDITABLE_FIELDS if name in form.cleaned_data}
        return services.client_restore_deleted(history_record=record, **fields)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # One by one through client_delete, never Django's bulk delete.
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
        pk = object_pk(Client, object_id)
        status = selectors.client_status(pk) if pk is not None else None
        hidden = "crm_client_restore" if status == Client.Status.ACTIVE else "crm_client_archive"
        return [item for item in actions if item.action_name != hidden]

    def has_add_order_permission(self, request, obj=None):
        return request.user.has_perm("crm.add_order")

    @action(description=gettext_lazy("Add order"), permissions=["add_order"], icon="add_shopping_cart",
            variant=ActionVariant.PRIMARY)
    def add_order(self, request, object_id):
        client = object_or_404(Client.objects.all(), object_id)
        return HttpResponseRedirect(reverse("admin:crm_order_add") + f"?client={client.pk}")

    @action(description=gettext_lazy("Archive"), permissions=["change"], icon="archive", dialog=ARCHIVE_DIALOG)
    def archive(self, request, form, object_id):
        client = form.object
        services.client_archive(client=client)
        self.message_user(request, _("The client %(name)s was archived; the orders are kept.") % {"name": client},
                          messages.SUCCESS)
        return redirect(request, reverse("admin:crm_client_change", args=[client.pk]))

    @action(description=gettext_lazy("Restore"), permissions=["change"], icon="unarchive", dialog=RESTORE_DIALOG)
    def restore(self, request, form, object_id):
        client = form.object
        services.client_restore(client=client)
        self.message_user(request, _("The client %(name)s is active again.") % {"name": client}, messages.SUCCESS)
        return redirect(request, reverse("admin:crm_client_change", args=[client.pk]))
