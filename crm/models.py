"""Clients and their orders: the core of the CRM."""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
    RegexValidator,
)
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.money import format_money
from crm.search import search_document

MAX_QUANTITY = 1_000_000
MAX_PRICE = Decimal("99999999.99")
# A trillion roubles: more than any order a real business places, and small enough that every total is exact
# on SQLite (10^14 cents < 2^53) and that no sum of totals can overflow (the arithmetic is in crm/money.py).
# MAX_QUANTITY × MAX_PRICE is far above it: quantity × price is bounded on its own (Order.clean).
MAX_ORDER_TOTAL = Decimal("1000000000000.00")
MAX_DESCRIPTION_LENGTH = 5000
# PostgreSQL cannot store NUL in text: refuse it as bad input on every path, not as a database error.
no_nul = ProhibitNullCharactersValidator()


@deconstructible
class ProhibitControlCharactersValidator:
    """Refuse control and invisible formatting characters (NUL has its own validator, no_nul).

    They cannot be seen, so nobody typed them on purpose; XML (so every XLSX export) cannot hold C0
    controls; bidi overrides and isolates reorder the text around them on screen ("Trojan Source");
    zero-width and tag characters hide text; lone surrogates cannot be encoded at all. Multi-line text
    keeps tab and line breaks. Soft hyphens, zero-width (non-)joiners and variation selectors stay:
    real text (emoji, hyphenated words) holds them.
    """

    message = _("Remove the control or invisible character %(character)s (character %(position)s of the text).")
    code = "control_characters"
    # C0 controls, DEL and C1 controls; ALM, ZWSP, LRM/RLM, bidi embeddings and overrides, word joiner and
    # invisible operators, bidi isolates and deprecated format characters; BOM, interlinear annotation,
    # the noncharacters U+FFFE/U+FFFF; lone surrogates; tag characters.
    _always = (
        "\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
        "\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff\U000e0000-\U000e007f"
    )
    _single_line = re.compile(f"[\\x01-\\x1f\u2028\u2029{_always}]")
    _multi_line = re.compile(f"[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f{_always}]")

    def __init__(self, multi_line: bool = False):
        self.multi_line = multi_line

    def __call__(self, value) -> None:
        match = (self._multi_line if self.multi_line else self._single_line).search(str(value))
        if match:
            raise ValidationError(
                self.message,
                code=self.code,
                params={"character": f"U+{ord(match.group()):04X}", "position": match.start() + 1},
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, ProhibitControlCharactersValidator) and self.multi_line == other.multi_line


no_control_characters = ProhibitControlCharactersValidator()
no_control_characters_but_line_breaks = ProhibitControlCharactersValidator(multi_line=True)

# The one definition of an order's total; the database computes and stores it (Order.total_price).
ORDER_TOTAL = models.F("quantity") * models.F("price")


def order_total(quantity, price) -> Decimal | None:
    """quantity × price when both are valid on their own (their own errors speak otherwise), else None."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not isinstance(price, Decimal):
        return None
    if not (1 <= quantity <= MAX_QUANTITY and price.is_finite() and 0 <= price <= MAX_PRICE):
        return None
    return quantity * price


def normalize_email(email: str | None) -> str:
    """E-mails are stored trimmed and lower-cased, with an internationalised domain in its Unicode form
    (user@xn--bcher-kva.example is stored as user@bücher.example), so that one mailbox is one client whatever
    its case or spelling. Unicode because people read it; Django turns it into punycode when it sends mail."""
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or (domain.isascii() and "xn--" not in domain):
        return email
    try:
        # IDNA 2003, as Django's EmailValidator and mail sending read a domain: both forms, any width or case.
        domain = domain.encode("idna").decode("idna")
    except UnicodeError:
        return email  # not a valid domain: the e-mail validator refuses it
    return f"{local}@{domain}"


# What a phone number is written with: digits, spaces (also non-breaking ones, as pasted from a web page),
# brackets, dashes and points. Anything else (tabs and other control characters too) is left for the validators.
_PHONE_CHARACTERS = re.compile("\\+?[0-9 \xa0\u2009\u202f()\\-.]+")
_RUSSIAN_PHONE = re.compile(r"\+7(\d{3})(\d{3})(\d{2})(\d{2})", re.ASCII)


def normalize_phone(phone: str | None) -> str:
    """Phones are stored in one form, so that one number is one number wherever it came from: +79991234567 for
    Russian ones (8 999 123-45-67, 7 999…, +7 (999) 123-45-67, or a ten-digit mobile 999 123-45-67), otherwise
    + and the digits (E.164, the country code included, as typed). Text that is not a phone number stays as it
    is, for the validator to refuse."""
    phone = (phone or "").strip()
    if not _PHONE_CHARACTERS.fullmatch(phone):
        return phone
    digits = re.sub(r"[^0-9]", "", phone)
    if not digits:
        return phone
    international = phone.startswith("+")
    if len(digits) == 11 and (digits[0] == "7" or (digits[0] == "8" and not international)):
        return f"+7{digits[1:]}"
    if len(digits) == 10 and digits[0] == "9" and not international:
        return f"+7{digits}"
    return f"+{digits}"


def format_phone(phone: str | None) -> str:
    """A stored phone as people read it: +7 (999) 123-45-67 for a Russian number, others as stored."""
    match = _RUSSIAN_PHONE.fullmatch(phone or "")
    return "+7 ({}) {}-{}-{}".format(*match.groups()) if match else (phone or "")


# The expression of the unique index client_email_unique_ci. A lookup by e-mail filters on it
# (`Client.objects.alias(email_key=EMAIL_KEY).filter(email_key=...)`) so that it reads that index: `email__iexact`
# is a LIKE on SQLite and UPPER(email) on PostgreSQL, and `email` alone has no index of its own, so each of them
# reads every client. Stored e-mails are already lower-cased (normalize_email), so the matches are the same.
EMAIL_KEY = Lower("email")


phone_validator = RegexValidator(
    regex=r"^\+?[\d\s()\-.]{5,25}$",
    message=_("Enter a phone number of 5 to 25 digits; only digits, spaces, +, -, ( and ) are allowed."),
)


class ClientStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ARCHIVED = "archived", _("Archived")


class OrderStatus(models.TextChoices):
    PENDING = "Pending", _("Pending")
    COMPLETED = "Completed", _("Completed")
    CANCELLED = "Cancelled", _("Cancelled")


def fixed_russian_labels(status_choices: type[models.TextChoices]) -> dict[str, str]:
    """{value: Russian label} of a status, for texts whose language is fixed (import files, report text)."""
    with translation.override("ru"):
        return {value: str(label) for value, label in status_choices.choices}


class Client(models.Model):
    Status = ClientStatus

    first_name = models.CharField(_("first name"), max_length=100, validators=[no_nul, no_control_characters])
    last_name = models.CharField(_("last name"), max_length=100, validators=[no_nul, no_control_characters])
    middle_name = models.CharField(
        _("middle name"), max_length=100, blank=True, default="", validators=[no_nul, no_control_characters]
    )
    mobile_phone = models.CharField(
        _("mobile phone"), max_length=32, blank=True, default="", validators=[phone_validator, no_control_characters]
    )
    # Stored normalised (normalize_email), and unique on lower(email) in the database as well.
    email = models.EmailField(_("e-mail"), max_length=254, validators=[no_nul, no_control_characters])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    added_at = models.DateTimeField(_("added"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    search_text = models.TextField(editable=False, default="")
    # Bumped by every write (save() and the bulk paths): the admin refuses a form rendered before it moved.
    version = models.PositiveIntegerField(editable=False, default=0)

    history = HistoricalRecords(
        excluded_fields=["search_text", "updated_at", "version"],
        verbose_name=_("client history record"),
        verbose_name_plural=_("client history"),
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                EMAIL_KEY,
                name="client_email_unique_ci",
                violation_error_message=_("A client with this e-mail already exists."),
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ClientStatus.values), name="client_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(first_name="") & ~models.Q(last_name="") & ~models.Q(email=""),
                name="client_required_fields_not_empty",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-id"], name="client_status_id_idx"),
            models.Index(fields=["last_name", "first_name"], name="client_name_idx"),
            # Every sortable column, ending with the id (the tie-breaker), for sorted and deep pages.
            models.Index(fields=["status", "first_name", "id"], name="client_status_first_idx"),
            models.Index(fields=["status", "last_name", "id"], name="client_status_last_idx"),
            models.Index(fields=["status", "middle_name", "id"], name="client_status_middle_idx"),
            models.Index(fields=["status", "email", "id"], name="client_status_email_idx"),
            models.Index(fields=["status", "mobile_phone", "id"], name="client_status_phone_idx"),
            models.Index(fields=["status", "added_at", "id"], name="client_status_added_idx"),
            # The same for a list of every status (status=all), which no (status, ...) index can give in order.
            models.Index(fields=["first_name", "id"], name="client_first_id_idx"),
            models.Index(fields=["last_name", "id"], name="client_last_id_idx"),
            models.Index(fields=["middle_name", "id"], name="client_middle_id_idx"),
            models.Index(fields=["email", "id"], name="client_email_id_idx"),
            models.Index(fields=["mobile_phone", "id"], name="client_phone_id_idx"),
            models.Index(fields=["added_at", "id"], name="client_added_id_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name_reversed

    @property
    def full_name(self) -> str:
        """First and last name, as the API's order object shows it."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def full_name_reversed(self) -> str:
        """Last, first and middle name: how Russian staff read a client's name."""
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    def normalize_fields(self) -> None:
        """Trim names, store the e-mail and the phone in one form, rebuild the search text (bulk paths call it too)."""
        self.first_name = (self.first_name or "").strip()
        self.last_name = (self.last_name or "").strip()
        self.middle_name = (self.middle_name or "").strip()
        self.mobile_phone = normalize_phone(self.mobile_phone)
        self.email = normalize_email(self.email)
        self.search_text = search_document(
            self.last_name, self.first_name, self.middle_name, self.email, phone=self.mobile_phone
        )

    def save(self, *args, **kwargs):
        self.normalize_fields()
        self.version += 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"search_text", "email", "version"}
        super().save(*args, **kwargs)


class Order(models.Model):
    Status = OrderStatus

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="orders"
    )
    product = models.CharField(_("product"), max_length=200, validators=[no_nul, no_control_characters])
    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    price = models.DecimalField(
        _("price"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_PRICE)],
    )
    # Computed and stored by the database itself, so no code path (bulk_create,
    # queryset.update, raw imports) can ever leave it out of step.
    total_price = models.GeneratedField(
        expression=ORDER_TOTAL,
        output_field=models.DecimalField(_("total"), max_digits=18, decimal_places=2),
        db_persist=True,
        verbose_name=_("total"),
    )
    description = models.TextField(
        _("description"),
        blank=True,
        default="",
        validators=[MaxLengthValidator(MAX_DESCRIPTION_LENGTH), no_nul, no_control_characters_but_line_breaks],
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    search_text = models.TextField(editable=False, default="")
    # Bumped by every write (save() and the bulk paths): the admin refuses a form rendered before it moved.
    version = models.PositiveIntegerField(editable=False, default=0)

    history = HistoricalRecords(
        excluded_fields=["search_text", "updated_at", "total_price", "version"],
        verbose_name=_("order history record"),
        verbose_name_plural=_("order history"),
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="order_quantity_positive"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="order_price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(condition=~models.Q(product=""), name="order_product_not_empty"),
        ]
        indexes = [
            # Ascending, so that it serves order_by=status (status, id) as well as status=X ordered by -id, backwards.
            models.Index(fields=["status", "id"], name="order_status_id_asc_idx"),
            # (group, created_at, total_price): the report and dashboard sums per status, client or
            # product and status over a window read these indexes alone, already grouped.
            models.Index(fields=["status", "created_at", "total_price"], name="order_status_created_sum_idx"),
            models.Index(fields=["client", "created_at", "total_price"], name="order_client_created_sum_idx"),
            models.Index(fields=["product", "status", "created_at", "total_price"], name="order_product_status_sum_idx"),
            models.Index(fields=["client", "-id"], name="order_client_id_idx"),
            # Sortable columns end with the id, the tie-breaker of every ordering, so a sorted
            # page (even a deep one) is read from the index alone.
            models.Index(fields=["total_price", "id"], name="order_total_id_idx"),
            models.Index(fields=["price", "id"], name="order_price_id_idx"),
            models.Index(fields=["quantity", "id"], name="order_quantity_id_idx"),
            models.Index(fields=["product", "id"], name="order_product_id_idx"),
            models.Index(fields=["created_at", "id"], name="order_created_id_idx"),
            models.Index(fields=["status", "total_price", "id"], name="order_status_total_idx"),
            models.Index(fields=["status", "product", "id"], name="order_status_product_idx"),
            models.Index(fields=["status", "quantity", "id"], name="order_status_quantity_idx"),
            models.Index(fields=["status", "price", "id"], name="order_status_price_idx"),
            models.Index(fields=["status", "created_at", "id"], name="order_status_created_id_idx"),
            # The full-text search indexes on search_text are vendor-specific: see migration 0004.
        ]

    def __str__(self) -> str:
        return _("Order #%(id)s: %(product)s") % {"id": self.pk, "product": self.product}

    def clean(self):
        """quantity × price may not exceed MAX_ORDER_TOTAL (the admin, the API and imports all call full_clean)."""
        super().clean()
        total = order_total(self.quantity, self.price)
        if total is not None and total > MAX_ORDER_TOTAL:
            raise ValidationError(
                _("The order total (quantity × price) would be %(total)s; it may not exceed %(limit)s. "
                  "Lower the quantity or the price."),
                code="order_total_too_large",
                params={"total": format_money(total), "limit": format_money(MAX_ORDER_TOTAL)},
            )

    def normalize_fields(self) -> None:
        """Trim text and rebuild the search text (bulk paths call this too)."""
        self.product = (self.product or "").strip()
        self.description = (self.description or "").strip()
        self.search_text = search_document(self.product, self.description)

    def save(self, *args, **kwargs):
        self.normalize_fields()
        self.version += 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"search_text", "version"}
        super().save(*args, **kwargs)
