"""Import/export resources for clients and orders (django-import-export).

The file format is a contract between people and systems, so its column headers and status labels are
fixed Russian words (the same whatever language the admin is shown in); English field names are accepted
too. Rows are validated and written by crm/importexport/bulk.py.
"""

import copy
from collections import defaultdict
from datetime import timedelta

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from import_export import fields

from crm.importexport.bulk import BATCH_SIZE, LOOKUP_CHUNK, BulkImportResource, PrefetchedInstanceLoader, chunks
from crm.importexport.widgets import (
    DateTimeField,
    LocalDateTimeWidget,
    MoneyWidget,
    StatusWidget,
    TextWidget,
    WholeNumberWidget,
    export_only,
    is_blank,
    text_field,
)
from crm.models import EMAIL_KEY, Client, Order, normalize_email


class ClientResource(BulkImportResource):
    id = export_only("id", "ID", WholeNumberWidget())
    last_name = text_field("last_name", "Фамилия")
    first_name = text_field("first_name", "Имя")
    middle_name = text_field("middle_name", "Отчество")
    email = text_field("email", "E-mail")
    mobile_phone = text_field("mobile_phone", "Мобильный телефон")
    status = fields.Field(
        attribute="status",
        column_name="Статус",
        widget=StatusWidget(Client.Status),
        saves_null_values=False,
    )
    added_at = DateTimeField(
        attribute="added_at", column_name="Добавлен", widget=LocalDateTimeWidget(), saves_null_values=False
    )

    update_fields = (
        "first_name", "last_name", "middle_name", "mobile_phone", "email", "status", "added_at",
        "updated_at", "search_text",
    )
    snapshot_fields = ("first_name", "last_name", "middle_name", "mobile_phone", "email", "status", "added_at")
    search_fields = ("first_name", "last_name", "middle_name", "mobile_phone", "email")
    extra_aliases = {
        "email": ("email", "e-mail", "почта", "электронная почта"),
        "mobile_phone": ("phone", "телефон", "mobile"),
        "added_at": ("added", "added at", "дата добавления"),
    }

    class Meta:
        model = Client
        name = gettext_lazy("Clients")
        fields = ("id", "last_name", "first_name", "middle_name", "email", "mobile_phone", "status", "added_at")
        import_id_fields = ("email",)
        instance_loader_class = PrefetchedInstanceLoader
        use_bulk = True
        batch_size = BATCH_SIZE
        skip_diff = True

    @staticmethod
    def email_key(value) -> str:
        return normalize_email(TextWidget().clean(value))

    def missing_columns_error(self, headers):
        if "E-mail" not in headers:
            return _("The file has no “E-mail” column: clients are matched on their e-mail.")
        return None

    def prefetch(self, dataset):
        emails = {self.email_key(value) for value in dataset["E-mail"]} - {""}
        self.existing = {}
        for chunk in chunks(emails):
            # E-mails are stored lower-cased (Client.normalize_fields), so `in` matches case-insensitively.
            clients = Client.objects.alias(email_key=EMAIL_KEY).filter(email_key__in=chunk)
            self.existing.update({client.email: client for client in clients})

    def existing_instance(self, row):
        client = self.existing.get(self.email_key(row.get("E-mail")))
        # A copy: two rows of one e-mail must not edit the same object.
        return copy.copy(client) if client is not None else None

    def row_errors(self, instance, row):
        email = normalize_email(instance.email)
        if not email:
            return {}
        earlier = self.first_line_with(email)
        if earlier:
            return {"email": _("The e-mail %(email)s is already on line %(line)s of this file.")
                    % {"email": email, "line": earlier}}
        return {}


# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------
ORDER_ID = "ID"
CLIENT_EMAIL = "E-mail клиента"
CLIENT_ID = "ID клиента"
CREATED_AT = "Создан"
PRODUCT = "Товар"
QUANTITY = "Количество"
PRICE = "Цена"
ONE_SECOND = timedelta(seconds=1)
# Moments per query when looking for the orders rows without an ID repeat: two parameters each.
MOMENTS_PER_QUERY = LOOKUP_CHUNK // 2
UNDATED_LINES_SHOWN = 10


def orders_created_within_seconds(moments):
    """The orders created within the second starting at each of `moments`, read from the created_at index.

    Unordered: an ORDER BY would have SQLite scan the whole table in id order instead (seconds on 200,000
    orders rather than milliseconds); PostgreSQL ORs the index ranges in a bitmap either way.
    """
    window = Q()
    for moment in moments:
        window |= Q(created_at__gte=moment, created_at__lt=moment + ONE_SECOND)
    return Order.objects.filter(window).order_by()


class OrderResource(BulkImportResource):
    id = export_only("id", ORDER_ID, WholeNumberWidget())
    created_at = DateTimeField(
        attribute="created_at", column_name=CREATED_AT, widget=LocalDateTimeWidget(), saves_null_values=False
    )
    client_email = export_only("client__email", CLIENT_EMAIL)
    client_id = export_only("client_id", CLIENT_ID, WholeNumberWidget())
    client_name = export_only("client", "Клиент")
    product = text_field("product", PRODUCT)
    quantity = fields.Field(
        attribute="quantity", column_name=QUANTITY, widget=WholeNumberWidget(), saves_null_values=False
    )
    price = fields.Field(attribute="price", column_name=PRICE, widget=MoneyWidget())
    # Never read back: the database computes it from quantity and price.
    total_price = export_only("total_price", "Сумма", MoneyWidget())
    description = text_field("description", "Описание")
    status = fields.Field(
        attribute="status",
        column_name="Статус",
        widget=StatusWidget(Order.Status),
        saves_null_values=False,
    )

    update_fields = (
        "client", "product", "quantity", "price", "description", "status", "created_at", "updated_at", "search_text",
    )
    snapshot_fields = ("client_id", "product", "quantity", "price", "description", "status", "created_at")
    search_fields = ("product", "description")
    clean_exclude = ("client",)  # resolved from the prefetched clients; checking it again is a query per row
    extra_aliases = {
        "client_email": ("client email", "client e-mail", "email", "e-mail"),
        "client_id": ("client", "client id"),
        "client_name": ("client name", "имя клиента"),
        "total_price": ("total", "total price", "итого"),
        "created_at": ("created", "created at", "дата"),
    }

    class Meta:
        model = Order
        name = gettext_lazy("Orders")
        fields = (
            "id", "created_at", "client_email", "client_id", "client_name", "product", "quantity", "price",
            "total_price", "description", "status",
        )
        instance_loader_class = PrefetchedInstanceLoader
        use_bulk = True
        batch_size = BATCH_SIZE
        skip_diff = True

    def dehydrate_client_name(self, order):
        return order.client.full_name_reversed

    def filter_export(self, queryset, **kwargs):
        # Only the columns the file has: each other one costs a conversion per row (200,000 rows).
        return queryset.select_related("client").only(
            "id", "created_at", "product", "quantity", "price", "total_price", "description", "status",
            "client__id", "client__email", "client__first_name", "client__last_name", "client__middle_name",
        )

    def missing_columns_error(self, headers):
        if not {ORDER_ID, CLIENT_EMAIL, CLIENT_ID}.intersection(headers):
            return _("The file needs a “%(email)s” or “%(id)s” column (or “%(order_id)s” to change existing orders).") % {
                "email": CLIENT_EMAIL, "id": CLIENT_ID, "order_id": ORDER_ID,
            }
        return None

    @staticmethod
    def _whole_number(value):
        try:
            return WholeNumberWidget().clean(value)
        except ValueError:
            return None

    def prefetch(self, dataset):
        headers = dataset.headers
        order_ids = {self._whole_number(v) for v in dataset[ORDER_ID]} - {None} if ORDER_ID in headers else set()
        emails = {ClientResource.email_key(v) for v in dataset[CLIENT_EMAIL]} - {""} if CLIENT_EMAIL in headers else set()
        client_ids = {self._whole_number(v) for v in dataset[CLIENT_ID]} - {None} if CLIENT_ID in headers else set()
        self.existing = {}
        for chunk in chunks(order_ids):
            self.existing.update({order.pk: order for order in Order.objects.filter(pk__in=chunk)})
        self.clients_by_email = {}
        for chunk in chunks(emails):
            clients = Client.objects.alias(email_key=EMAIL_KEY).filter(email_key__in=chunk)
            self.clients_by_email.update({c.email: c for c in clients})
        self.clients_by_id = {client.pk: client for client in self.clients_by_email.values()}
        for chunk in chunks(client_ids - set(self.clients_by_id)):
            self.clients_by_id.update({c.pk: c for c in Client.objects.filter(pk__in=chunk)})
        self.prefetch_repeated_orders(dataset, claimed_ids=set(self.existing))

    def prefetch_repeated_orders(self, dataset, *, claimed_ids):
        """The existing order each row without an ID repeats, by line: the order of the same client, product,
        creation time (to the second, as files keep it), quantity and price. Identical rows take identical
        orders one each, oldest first; a row left without one is new. Orders the file names by ID are not
        taken. One query per MOMENTS_PER_QUERY creation times of the file."""
        self.repeated_orders = {}
        self.undated_lines = []
        keys_by_line = {}
        for index, values in enumerate(dataset, start=1):
            row = dict(zip(dataset.headers, values))
            if not is_blank(row.get(ORDER_ID)):
                continue
            line = self.line_of(index)
            if is_blank(row.get(CREATED_AT)):
                self.undated_lines.append(line)
            elif (key := self.repeat_key(row)) is not None:
                keys_by_line[line] = key
        wanted = set(keys_by_line.values())
        candidates = defaultdict(list)
        for moments in chunks(sorted({key[2] for key in wanted}), MOMENTS_PER_QUERY):
            for order in orders_created_within_seconds(moments):
                key = self.order_key(order)
                if key in wanted and order.pk not in claimed_ids:
                    candidates[key].append(order)
        for orders in candidates.values():
            orders.sort(key=lambda order: order.pk, reverse=True)  # the oldest last, popped first
        for line, key in keys_by_line.items():
            if candidates[key]:
                self.repeated_orders[line] = candidates[key].pop()

    def repeat_key(self, row) -> tuple | None:
        """(client id, product, created_at to the second, quantity, price) of a row, or None when a value is
        missing or unreadable (the row's own errors say which)."""
        client, _error = self.row_client(row, required=False)
        try:
            created_at = LocalDateTimeWidget().clean(row.get(CREATED_AT))
            quantity = WholeNumberWidget().clean(row.get(QUANTITY))
            price = MoneyWidget().clean(row.get(PRICE))
        except ValueError:
            return None
        product = TextWidget().clean(row.get(PRODUCT))
        if client is None or not product or price is None:
            return None
        if quantity is None:
            quantity = Order._meta.get_field("quantity").default  # what the new order would get
        return client.pk, product, created_at.replace(microsecond=0), quantity, price

    @staticmethod
    def order_key(order) -> tuple:
        return order.client_id, order.product, order.created_at.replace(microsecond=0), order.quantity, order.price

    def get_instance(self, instance_loader, row):
        # import-export looks for no instance when the file has no ID column; existing_instance matches those too.
        return instance_loader.get_instance(row)

    def existing_instance(self, row):
        if is_blank(row.get(ORDER_ID)):
            order = self.repeated_orders.get(self.current_line)
        else:
            order = self.existing.get(self._whole_number(row.get(ORDER_ID)))
        return copy.copy(order) if order is not None else None

    def import_notes(self) -> list[str]:
        if not self.undated_lines:
            return []
        lines = ", ".join(str(line) for line in self.undated_lines[:UNDATED_LINES_SHOWN])
        if len(self.undated_lines) > UNDATED_LINES_SHOWN:
            lines += ", …"
        count = len(self.undated_lines)
        return [ngettext(
            "%(count)s row has neither an ID nor a “%(column)s” date, so it cannot be matched with an order "
            "already in the CRM and is added as a new one (line %(lines)s).",
            "%(count)s rows have neither an ID nor a “%(column)s” date, so they cannot be matched with orders "
            "already in the CRM and are added as new ones (lines %(lines)s).",
            count,
        ) % {"count": count, "column": CREATED_AT, "lines": lines}]

    def row_errors(self, order, row):
        errors = {}
        is_new = self.original_values is None
        if not is_blank(row.get(ORDER_ID)):
            order_id = self._whole_number(row.get(ORDER_ID))
            if order_id is None:
                errors[ORDER_ID] = _("Enter a whole number, or leave the ID empty to add a new order.")
            else:
                earlier = self.first_line_with(order_id)
                if earlier:
                    errors[ORDER_ID] = _("The order ID %(id)s is already on line %(line)s of this file.") % {
                        "id": order_id, "line": earlier,
                    }
        client, client_error = self.row_client(row, required=is_new)
        if client_error:
            errors.update(client_error)
        elif client is not None:
            if not is_new and order.client_id != client.pk:
                errors[ORDER_ID] = _(
                    "Order %(id)s belongs to another client (%(email)s); clear the ID to add a new order."
                ) % {"id": order.pk, "email": order.client.email}
            else:
                order.client = client
        return errors

    def row_client(self, row, *, required):
        """The client a row names by e-mail (first) or id: (client, None) or (None, {column: message})."""
        email = ClientResource.email_key(row.get(CLIENT_EMAIL)) if CLIENT_EMAIL in row else ""
        if email:
            client = self.clients_by_email.get(email)
            if client is None:
                return None, {CLIENT_EMAIL: _("No client with e-mail %(email)s.") % {"email": email}}
            return client, None
        raw_id = row.get(CLIENT_ID)
        if is_blank(raw_id):
            if required or CLIENT_EMAIL in row or CLIENT_ID in row:
                return None, {CLIENT_EMAIL: _("Enter the client's e-mail or ID.")}
            return None, None  # no client columns: an existing order keeps its client
        client_id = self._whole_number(raw_id)
        if client_id is None:
            return None, {CLIENT_ID: _("Enter a whole number.")}
        client = self.clients_by_id.get(client_id)
        if client is None:
            return None, {CLIENT_ID: _("No client with ID %(id)s.") % {"id": client_id}}
        return client, None
