"""Input validation and the exact output shapes of the contract.

Input serializers only check types and the single-field limits derived from the models
(lengths, ranges, decimals); every rule that needs the database (a free e-mail, an existing
client) is left to crm.services, which the views call.
"""

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm import selectors
from crm.models import Client, Order
from crm.money import SUM_MAX_DIGITS, AmountError, parse_amount
from reports.models import Report
from reports.rendering import format_date_created

# BigAutoField's range: anything larger cannot be an id, so it is refused before any query.
MAX_ID = 2**63 - 1
# Nobody pages this far; the bound keeps OFFSET within every database's integer range.
MAX_START_ID = 1_000_000_000
PAGE_SIZE = 50
MAX_SEARCH_LENGTH = 200
CONTRACT_DATETIME_FORMAT = "%d.%m.%Y %H:%M"
# Wide enough for any sum of orders a report can hold (crm.money.SUM_MAX_DIGITS); the strings are the same.
MONEY_FORMAT = {"max_digits": SUM_MAX_DIGITS, "decimal_places": 2, "coerce_to_string": True}


class LenientDecimalField(serializers.DecimalField):
    """A decimal read by crm.money.parse_amount, the admin's and the imports' parser: a decimal comma
    ("1500,50", as typed on a Russian phone) and spaces between thousands pass, ambiguous text ("1.234,50") not."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = parse_amount(data)
            except AmountError as error:
                raise serializers.ValidationError(str(error), code="invalid") from None
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "pattern": r"^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$", "example": "17.12.2024 21:00"})
class ContractDateTimeField(serializers.DateTimeField):
    """A moment as the contract writes it: "17.12.2024 21:00", in the server's time zone."""

    def __init__(self, **kwargs):
        super().__init__(format=CONTRACT_DATETIME_FORMAT, **kwargs)


class LenientModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose decimals accept a decimal comma and whose optional texts accept null."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: LenientDecimalField,
    }

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        # JSON clients may send null for an empty optional text; the models store "".
        return {name: "" if value is None else value for name, value in values.items()}


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------
class ClientInputSerializer(LenientModelSerializer):
    """The body of clients/add/ (and, partially, clients/edit/<id>/)."""

    class Meta:
        model = Client
        fields = ["first_name", "last_name", "email", "middle_name", "mobile_phone"]
        extra_kwargs = {
            "middle_name": {"allow_null": True},
            "mobile_phone": {"allow_null": True},
            # The e-mail's case-insensitive uniqueness is crm.services' job (it answers 409).
            "email": {"validators": []},
        }


class ClientSerializer(serializers.ModelSerializer):
    """The client object of the API."""

    class Meta:
        model = Client
        fields = ["id", "first_name", "last_name", "middle_name", "mobile_phone", "email"]
        read_only_fields = fields


def _start_id_field(help_text) -> serializers.IntegerField:
    """A list's `start_id`: how many rows the caller already has."""
    return serializers.IntegerField(required=False, default=0, min_value=0, max_value=MAX_START_ID, help_text=help_text)


def _order_by_field(allowed: tuple[str, ...]) -> serializers.ChoiceField:
    """A list's `order_by`: one of the selector's sort fields, optionally with '-'."""
    return serializers.ChoiceField(
        choices=[f"{sign}{field}" for field in allowed for sign in ("", "-")],
        required=False, allow_blank=True, default="-id",
        help_text=_("A field, optionally with '-' for descending; default -id."),
    )


class ClientListInputSerializer(serializers.Serializer):
    """The parameters of clients/get/."""

    start_id = _start_id_field(_("How many clients the caller already has (an offset); pages hold 50."))
    status = serializers.ChoiceField(
        choices=list(selectors.CLIENT_STATUSES), required=False, allow_blank=True, default="active",
        help_text=_("active (default), archived or all."),
    )
    search = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_SEARCH_LENGTH,
        help_text=_("Words found in the name (either order), e-mail or phone digits; case and ё/е do not matter."),
    )
    order_by = _order_by_field(selectors.CLIENT_ORDER_BY_FIELDS)


class ClientListSerializer(serializers.Serializer):
    clients = ClientSerializer(many=True)


class ClientDetailSerializer(serializers.Serializer):
    client = ClientSerializer()


# Client reads are shaped by plain Python from value rows, as orders are (see ORDER_ROW_FIELDS below);
# ClientSerializer stays the schema, and a test compares the two.
CLIENT_FIELDS = ("id", "first_name", "last_name", "middle_name", "mobile_phone", "email")


def client_rows(clients: QuerySet[Client]) -> QuerySet:
    """The clients as dicts of CLIENT_FIELDS: the client object of the contract."""
    return clients.values(*CLIENT_FIELDS)


# ---------------------------------------------------------------------------
# Orders
# ---------------------------------------------------------------------------
class OrderInputSerializer(LenientModelSerializer):
    """The body of orders/add/."""

    client = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("The id of the client."))

    class Meta:
        model = Order
        fields = ["client", "product", "quantity", "price", "description"]
        extra_kwargs = {"description": {"allow_null": True}}


class OrderEditSerializer(OrderInputSerializer):
    """The body of orders/edit/<id>/: any subset of the fields; `client_id` is accepted for `client`."""

    client = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text=_("The id of the new client.")
    )
    client_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, write_only=True, help_text=_("Same as client.")
    )

    class Meta(OrderInputSerializer.Meta):
        fields = ["client", "client_id", "product", "quantity", "price", "description", "status"]

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        client_id = values.pop("client_id", None)
        if client_id is not None:
            values.setdefault("client", client_id)
        return values


class OrderClientSerializer(serializers.ModelSerializer):
    """The client as an order shows it."""

    full_name = serializers.CharField(read_only=True, help_text=_("First and last name."))

    class Meta:
        model = Client
        fields = ["id", "full_name", "email", "mobile_phone"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    """The order object of the API."""

    client = OrderClientSerializer(read_only=True)
    price = serializers.DecimalField(read_only=True, **MONEY_FORMAT)
    total_price = serializers.DecimalField(read_only=True, help_text=_("quantity × price"), **MONEY_FORMAT)
    created_at = ContractDateTimeField(read_only=True)

    class Meta:
        model = Order
        fields = [
            "id", "client", "product", "quantity", "price", "total_price", "description", "status", "created_at",
        ]
        read_only_fields = fields


class OrderListInputSerializer(serializers.Serializer):
    """The parameters of orders/get/."""

    start_id = _start_id_field(_("How many orders the caller already has (an offset); pages hold 50."))
    status = serializers.ChoiceField(
        choices=list(selectors.ORDER_STATUSES), required=False, allow_blank=True, default="",
        help_text=_("Pending, Completed or Cancelled; empty or all for every status."),
    )
    order_by = _order_by_field(selectors.ORDER_ORDER_BY_FIELDS)
    client_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID,
        help_text=_("Only the orders of this client."),
    )
    search = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_SEARCH_LENGTH,
        help_text=_("Words found in the product or description; case and ё/е do not matter."),
    )


class OrderListSerializer(serializers.Serializer):
    orders = OrderSerializer(many=True)


# The orders list is the API's hottest path: its rows are read as tuples and shaped by plain Python
# (about ten times cheaper than model instances through OrderSerializer). The bytes are the same as
# OrderSerializer's; the serializers above stay the schema, and a test compares the two.
ORDER_ROW_FIELDS = (
    "id", "client_id", "client__first_name", "client__last_name", "client__email", "client__mobile_phone",
    "product", "quantity", "price", "total_price", "description", "status", "created_at",
)


def order_rows(orders: QuerySet[Order]) -> QuerySet:
    """The orders as tuples of ORDER_ROW_FIELDS, the input of order_data()."""
    return orders.values_list(*ORDER_ROW_FIELDS)


def order_data(row: tuple, tz=None) -> dict:
    """The order object of the contract, from one row of order_rows()."""
    (order_id, client_id, first_name, last_name, email, mobile_phone,
     product, quantity, price, total_price, description, status, created_at) = row
    return {
        "id": order_id,
        "client": {
            "id": client_id,
            "full_name": f"{first_name} {last_name}".strip(),
            "email": email,
            "mobile_phone": mobile_phone,
        },
        "product": product,
        "quantity": quantity,
        # The database gives both with exactly two decimals (numeric(14, 2) on PostgreSQL, Django's converter on
        # SQLite), which is format_amount()'s output already.
        "price": f"{price:f}",
        "total_price": f"{total_price:f}",
        "description": description,
        "status": status,
        # The database gives aware datetimes (USE_TZ): astimezone() is localtime() without its checks.
        "created_at": created_at.astimezone(tz or timezone.get_current_timezone()).strftime(CONTRACT_DATETIME_FORMAT),
    }


def order_list_data(rows) -> dict:
    """{"orders": [order, ...]} from rows of order_rows()."""
    tz = timezone.get_current_timezone()
    return {"orders": [order_data(row, tz) for row in rows]}


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------
class ReportInputSerializer(serializers.Serializer):
    """The body of reports/new/."""

    period = serializers.ChoiceField(choices=Report.Period.choices, help_text=_("week, month or year."))


class ReportSerializer(serializers.ModelSerializer):
    """The report object of the API."""

    total_orders_sum = serializers.DecimalField(read_only=True, **MONEY_FORMAT)
    avg_order_sum = serializers.DecimalField(read_only=True, **MONEY_FORMAT)
    date_created = serializers.SerializerMethodField(help_text=_('e.g. "17 декабря 2024 года, 21:00"'))

    class Meta:
        model = Report
        fields = [
            "id", "period", "new_orders_count", "new_clients_count", "total_orders_sum", "avg_order_sum",
            "completed_orders_count", "date_created",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_date_created(self, report: Report) -> str:
        return format_date_created(report.created_at)


class ReportListSerializer(serializers.Serializer):
    reports = ReportSerializer(many=True)


# ---------------------------------------------------------------------------
# Envelopes (for the schema and for the views' responses)
# ---------------------------------------------------------------------------
class SuccessIdSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    id = serializers.IntegerField()


class SuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField()


class ErrorSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    error = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class ConflictSerializer(ErrorSerializer):
    id = serializers.IntegerField(help_text=_("The id of the client that already has this e-mail."))


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
