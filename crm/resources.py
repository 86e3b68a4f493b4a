"""Import/export resources for clients and orders (django-import-export).

The file format is a contract between people and systems, so its column headers and status labels are
fixed Russian words (the same whatever language the admin is shown in); English field names are accepted
too. Every row is validated as the admin and the API validate it (normalize_fields() and
full_clean(validate_constraints=False), plus the cross-row rules of crm/services.py: one client per
e-mail), then written in bulk with its history. One invalid row and nothing is written.
"""

import copy
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import Result, RowResult
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from crm.imports import ImportFileError, unescape_formula
from crm.models import Client, Order
from crm.search import normalize_text

BATCH_SIZE = 1000  # rows per INSERT/UPDATE statement (SQLite splits further by its 999-parameter limit)
LOOKUP_CHUNK = 900  # values per `IN (...)` when prefetching existing rows
PREVIEW_ROWS = 100  # valid rows shown in the admin's preview; the counts cover every row

CLIENT_STATUS_LABELS = {Client.Status.ACTIVE: "Активен", Client.Status.ARCHIVED: "В архиве"}
ORDER_STATUS_LABELS = {
    Order.Status.PENDING: "В ожидании",
    Order.Status.COMPLETED: "Завершён",
    Order.Status.CANCELLED: "Отменён",
}
DATETIME_INPUT_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
DATETIME_EXPORT_FORMAT = "%d.%m.%Y %H:%M:%S"


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_key(header) -> str:
    """Column names match ignoring case, spaces, `_`, `-`, `.`, `*` and ё/е."""
    return re.sub(r"[\s_\-.*]+", "", normalize_text(str(header or "")))


def _chunks(values, size=LOOKUP_CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


# ---------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------
class TextWidget(widgets.Widget):
    """Text, trimmed; formula escaping undone; a number Excel made of a phone becomes its digits."""

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return unescape_formula(str(value).strip())

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


def _parse_decimal(value) -> Decimal:
    if isinstance(value, bool):
        raise InvalidOperation
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace("\xa0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    number = Decimal(text)
    if not number.is_finite():
        raise InvalidOperation
    return number


class WholeNumberWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            number = _parse_decimal(value)
        except (InvalidOperation, ValueError):
            raise ValueError(_("Enter a whole number.")) from None
        if number != number.to_integral_value():
            raise ValueError(_("Enter a whole number."))
        return int(number)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else str(value)


class MoneyWidget(widgets.Widget):
    """Amounts as `1500.50`, `1500,50` or `1 500,50`; exported with two decimals."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        try:
            return _parse_decimal(value)
        except (InvalidOperation, ValueError):
            raise ValueError(_("Enter an amount such as 1500.50.")) from None

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else f"{value:.2f}"


class LocalDateTimeWidget(widgets.Widget):
    """Date and time in the server's time zone, as `17.12.2024 21:00:00` (or ISO, or an Excel date)."""

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        if isinstance(value, datetime):
            # Excel keeps times as fractions of a day: round away the float noise.
            parsed = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
        elif isinstance(value, date):
            parsed = datetime.combine(value, time())
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            from openpyxl.utils.datetime import from_excel

            try:
                parsed = (from_excel(value) + timedelta(microseconds=500_000)).replace(microsecond=0)
            except (ValueError, OverflowError, TypeError):
                raise ValueError(_("Enter a date and time such as 17.12.2024 21:00.")) from None
        else:
            parsed = self._parse_text(unescape_formula(str(value).strip()))
        if timezone.is_naive(parsed):
            try:
                parsed = timezone.make_aware(parsed)
            except Exception:
                raise ValueError(_("This time does not exist in the server's time zone.")) from None
        return parsed

    @staticmethod
    def _parse_text(text: str) -> datetime:
        for input_format in DATETIME_INPUT_FORMATS:
            try:
                return datetime.strptime(text, input_format)
            except ValueError:
                continue
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(_("Enter a date and time such as 17.12.2024 21:00.")) from None

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        local = timezone.localtime(value).replace(microsecond=0)
        if kwargs.get("force_native_type"):
            return local.replace(tzinfo=None)  # spreadsheets have no time zones
        return local.strftime(DATETIME_EXPORT_FORMAT)


class StatusWidget(widgets.Widget):
    """A status as its Russian label (exported), its code or its English name."""

    def __init__(self, labels: dict[str, str], choices):
        super().__init__()
        self.labels = {str(code): label for code, label in labels.items()}
        self.choices = choices
        self._aliases = None

    def aliases(self) -> dict[str, str]:
        if self._aliases is None:
            aliases = {}
            for code, label in self.choices:
                names = [code, self.labels[code]]
                for language in ("en", "ru"):
                    with translation.override(language):
                        names.append(str(label))
                aliases.update({normalize_text(name): code for name in names})
            self._aliases = aliases
        return self._aliases

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            return None
        code = self.aliases().get(normalize_text(unescape_formula(str(value))))
        if code is None:
            raise ValueError(
                _("Unknown status “%(value)s”; use one of: %(labels)s (or %(codes)s).")
                % {
                    "value": str(value)[:50],
                    "labels": ", ".join(self.labels.values()),
                    "codes": ", ".join(self.labels),
                }
            )
        return code

    def render(self, value, obj=None, **kwargs):
        return self.labels.get(value, value or "")


class DateTimeField(fields.Field):
    """A date-time column; a value equal to the stored one to the second keeps the stored one."""

    def save(self, instance, row, is_m2m=False, **kwargs):
        if self.readonly:
            return
        cleaned = self.clean(row, **kwargs)
        current = getattr(instance, self.attribute, None)
        if cleaned is None:
            return  # an empty cell keeps the stored value (or the default for a new row)
        if current is not None and cleaned.replace(microsecond=0) == current.replace(microsecond=0):
            return
        setattr(instance, self.attribute, cleaned)


def text_field(attribute, column_name):
    return fields.Field(attribute=attribute, column_name=column_name, widget=TextWidget())


def export_only(attribute, column_name, widget=None):
    return fields.Field(attribute=attribute, column_name=column_name, widget=widget or TextWidget(), readonly=True)


# ---------------------------------------------------------------------------
# Shared import behaviour
# ---------------------------------------------------------------------------
class ImportResult(Result):
    def valid_rows(self):
        # The admin's preview table: the first rows only; the counts above it cover every row.
        return [row for row in self.rows[:PREVIEW_ROWS] if row.import_type in RowResult.valid_import_types]


class PrefetchedInstanceLoader(BaseInstanceLoader):
    """Existing rows come from the resource's prefetch (one query per LOOKUP_CHUNK values), not a query per row."""

    def get_instance(self, row):
        return self.resource.existing_instance(row)


class CrmResource(resources.ModelResource):
    #: model fields written by bulk_update() for changed rows
    update_fields: tuple[str, ...] = ()
    #: fields compared to tell an unchanged row
    snapshot_fields: tuple[str, ...] = ()
    #: model fields full_clean() must not check (already resolved without a query per row)
    clean_exclude: tuple[str, ...] = ()
    #: fields search_text is built from (Client/Order.normalize_fields)
    search_fields: tuple[str, ...] = ()
    #: extra accepted spellings of column names: {resource field name: (alias, ...)}
    extra_aliases: dict[str, tuple[str, ...]] = {}

    def __init__(self, *, progress=None, **kwargs):
        super().__init__(**kwargs)
        self.progress = progress
        self._reset_import_state()

    def _reset_import_state(self):
        self.history_user = None
        self.change_reason = ""
        self.line_numbers = None
        self.current_line = None
        self.current_instance = None
        self.original_values = None
        self.invalid_seen = False
        self.seen_keys = {}
        self.import_time = timezone.now()

    @classmethod
    def get_result_class(cls):
        return ImportResult

    # -- columns -----------------------------------------------------------
    def column_aliases(self) -> dict[str, str]:
        model_fields = {field.name: field for field in self._meta.model._meta.fields}
        aliases = {}
        for name, field in self.fields.items():
            names = [field.column_name, name, *self.extra_aliases.get(name, ())]
            if name in model_fields:
                for language in ("en", "ru"):
                    with translation.override(language):
                        names.append(str(model_fields[name].verbose_name))
            for alias in names:
                aliases.setdefault(_header_key(alias), field.column_name)
        return aliases

    def missing_columns_error(self, headers: list[str]) -> str | None:
        """A message when a column the import cannot do without is missing."""
        return None

    def prepare_headers(self, dataset) -> None:
        """Rename the file's headers to our column names; refuse files lacking the key columns."""
        aliases = self.column_aliases()
        headers = []
        for header in dataset.headers:
            column = aliases.get(_header_key(header), header)
            if column and column in headers:
                raise ImportFileError(_("The column “%(column)s” appears twice.") % {"column": column})
            headers.append(column)
        known = set(aliases.values())
        if not known.intersection(headers):
            raise ImportFileError(
                _("None of the columns is known. Expected: %(columns)s.")
                % {"columns": ", ".join(field.column_name for field in self.get_import_fields())}
            )
        error = self.missing_columns_error(headers)
        if error:
            raise ImportFileError(error)
        dataset.headers = headers

    # -- the import run ------------------------------------------------------
    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None,
                    collect_failed_rows=False, rollback_on_validation_errors=False, **kwargs):
        # All or nothing, whoever calls: one invalid row rolls the whole file back.
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )

    def import_data_inner(self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs):
        try:
            self.prepare_headers(dataset)
        except ImportFileError as error:
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            result.append_base_error(self.get_error_result_class()(error))
            return result
        result = super().import_data_inner(
            dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
        )
        # import-export numbers data rows from 1; people read the line of the file (the header is line 1).
        for row in [*result.invalid_rows, *result.error_rows]:
            row.number = self.line_of(row.number)
        return result

    def line_of(self, row_number: int) -> int:
        if self.line_numbers and row_number <= len(self.line_numbers):
            return self.line_numbers[row_number - 1]
        return row_number + 1

    def before_import(self, dataset, **kwargs):
        self._reset_import_state()
        user = kwargs.get("user")
        self.history_user = user if getattr(user, "is_authenticated", False) else None
        file_name = kwargs.get("file_name")
        reason = _("Imported from %(file)s") % {"file": file_name} if file_name else _("Imported")
        self.change_reason = reason[:100]
        self.line_numbers = getattr(dataset, "line_numbers", None)
        self.prefetch(dataset)

    def prefetch(self, dataset) -> None:
        raise NotImplementedError

    def existing_instance(self, row):
        raise NotImplementedError

    def after_import(self, dataset, result, **kwargs):
        # No sequence reset (ModelResource's default): we never insert explicit ids, and resetting a
        # sequence while other requests insert could hand out an id twice.
        pass

    def before_import_row(self, row, **kwargs):
        self.current_line = self.line_of(kwargs["row_number"])

    def after_init_instance(self, instance, new, row, **kwargs):
        self.current_instance = instance
        self.original_values = None if new else self.snapshot(instance)

    def snapshot(self, instance) -> tuple:
        return tuple(getattr(instance, name) for name in self.snapshot_fields)

    def first_line_with(self, key) -> int | None:
        """The earlier line of this file holding the same key, if any (and remember this one)."""
        first = self.seen_keys.setdefault(key, self.current_line)
        return None if first == self.current_line else first

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        errors.update(self.row_errors(instance, row))
        if errors:
            raise ValidationError(errors)

    def row_errors(self, instance, row) -> dict:
        """Rules spanning rows (duplicates within the file); {field or column: message}."""
        return {}

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or self.original_values is None:
            return False
        instance.normalize_fields()
        current = self.snapshot(instance)
        # Remembered so bulk_update() writes only the changed columns (far cheaper than all of them).
        instance.import_changed_fields = {
            name for name, old, new in zip(self.snapshot_fields, self.original_values, current) if old != new
        }
        return not instance.import_changed_fields

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        instance.normalize_fields()
        try:
            # The same single-row validation as the admin and the API (crm/services.py); constraints and
            # uniqueness are not checked here because that would cost a query per row.
            instance.full_clean(
                exclude=[*errors, *self.clean_exclude], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            self.invalid_seen = True
            columns = {field.attribute: field.column_name for field in self.fields.values() if field.attribute}
            raise ValidationError(
                {key if key == NON_FIELD_ERRORS else columns.get(key, key): value for key, value in errors.items()}
            )

    def before_save_instance(self, instance, row, **kwargs):
        instance.normalize_fields()
        if instance.pk:
            instance.updated_at = self.import_time  # bulk_update() skips auto_now

    def import_row(self, row, instance_loader, **kwargs):
        row_result = super().import_row(row, instance_loader, **kwargs)
        if self.progress:
            self.progress(1)
        return row_result

    def after_import_row(self, row, row_result, **kwargs):
        if row_result.import_type in RowResult.valid_import_types and kwargs.get("row_number", 0) <= PREVIEW_ROWS:
            row_result.diff = [self.export_field(field, self.current_instance) for field in self.get_import_fields()]

    # -- bulk writes with history --------------------------------------------
    def _write(self, write, result, raise_errors):
        try:
            with transaction.atomic(using=self.get_db_connection_name()):
                write()
        except Exception as error:
            self.handle_import_error(result, error, raise_errors)

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        instances, self.create_instances = self.create_instances, []
        # A preview writes nothing; nor does a run that already has an invalid row (it will roll back).
        if not instances or dry_run or self.invalid_seen:
            return
        self._write(
            lambda: bulk_create_with_history(
                instances,
                self._meta.model,
                batch_size=BATCH_SIZE,
                default_user=self.history_user,
                default_change_reason=self.change_reason,
            ),
            result,
            raise_errors,
        )

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        instances, self.update_instances = self.update_instances, []
        if not instances or dry_run or self.invalid_seen:
            return
        # One bulk_update() per set of changed columns: a file that only changes statuses writes only those.
        groups = defaultdict(list)
        for instance in instances:
            changed = getattr(instance, "import_changed_fields", None) or self.update_fields
            names = {"client" if name == "client_id" else name for name in changed} | {"updated_at"}
            if names & set(self.search_fields):
                names.add("search_text")
            groups[tuple(sorted(names))].append(instance)

        def write():
            for names, group in groups.items():
                bulk_update_with_history(
                    group,
                    self._meta.model,
                    list(names),
                    batch_size=BATCH_SIZE,
                    default_user=self.history_user,
                    default_change_reason=self.change_reason,
                )

        self._write(write, result, raise_errors)

    def get_bulk_update_fields(self):
        return list(self.update_fields)


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
class ClientResource(CrmResource):
    id = export_only("id", "ID", WholeNumberWidget())
    last_name = text_field("last_name", "Фамилия")
    first_name = text_field("first_name", "Имя")
    middle_name = text_field("middle_name", "Отчество")
    email = text_field("email", "E-mail")
    mobile_phone = text_field("mobile_phone", "Мобильный телефон")
    status = fields.Field(
        attribute="status",
        column_name="Статус",
        widget=StatusWidget(CLIENT_STATUS_LABELS, Client.Status.choices),
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
        return TextWidget().clean(value).lower()

    def missing_columns_error(self, headers):
        if "E-mail" not in headers:
            return _("The file has no “E-mail” column: clients are matched on their e-mail.")
        return None

    def prefetch(self, dataset):
        emails = {self.email_key(value) for value in dataset["E-mail"]} - {""}
        self.existing = {}
        for chunk in _chunks(emails):
            # E-mails are stored lower-cased (Client.normalize_fields), so `in` matches case-insensitively.
            self.existing.update({client.email: client for client in Client.objects.filter(email__in=chunk)})

    def existing_instance(self, row):
        client = self.existing.get(self.email_key(row.get("E-mail")))
        # A copy: two rows of one e-mail must not edit the same object.
        return copy.copy(client) if client is not None else None

    def row_errors(self, instance, row):
        email = (instance.email or "").strip().lower()
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


class OrderResource(CrmResource):
    id = export_only("id", ORDER_ID, WholeNumberWidget())
    created_at = DateTimeField(
        attribute="created_at", column_name="Создан", widget=LocalDateTimeWidget(), saves_null_values=False
    )
    client_email = export_only("client__email", CLIENT_EMAIL)
    client_id = export_only("client_id", CLIENT_ID, WholeNumberWidget())
    client_name = export_only("client", "Клиент")
    product = text_field("product", "Товар")
    quantity = fields.Field(
        attribute="quantity", column_name="Количество", widget=WholeNumberWidget(), saves_null_values=False
    )
    price = fields.Field(attribute="price", column_name="Цена", widget=MoneyWidget())
    # Never read back: the database computes it from quantity and price.
    total_price = export_only("total_price", "Сумма", MoneyWidget())
    description = text_field("description", "Описание")
    status = fields.Field(
        attribute="status",
        column_name="Статус",
        widget=StatusWidget(ORDER_STATUS_LABELS, Order.Status.choices),
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
        for chunk in _chunks(order_ids):
            self.existing.update({order.pk: order for order in Order.objects.filter(pk__in=chunk)})
        self.clients_by_email = {}
        for chunk in _chunks(emails):
            self.clients_by_email.update({c.email: c for c in Client.objects.filter(email__in=chunk)})
        self.clients_by_id = {client.pk: client for client in self.clients_by_email.values()}
        for chunk in _chunks(client_ids - set(self.clients_by_id)):
            self.clients_by_id.update({c.pk: c for c in Client.objects.filter(pk__in=chunk)})

    def existing_instance(self, row):
        order = self.existing.get(self._whole_number(row.get(ORDER_ID)))
        return copy.copy(order) if order is not None else None

    def row_errors(self, order, row):
        errors = {}
        is_new = self.original_values is None
        if not _blank(row.get(ORDER_ID)):
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
        if _blank(raw_id):
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
