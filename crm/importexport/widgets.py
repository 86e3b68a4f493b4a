"""How one cell of an import file is read and one value of an export is written."""

from datetime import date, datetime, time, timedelta
from decimal import InvalidOperation

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from import_export import fields, widgets

from crm.models import fixed_russian_labels
from crm.money import AmountError, format_amount, parse_amount
from crm.search import normalize_text

DATETIME_INPUT_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
DATETIME_EXPORT_FORMAT = "%d.%m.%Y %H:%M:%S"
# Dates a CRM can mean. Year 1 passed the preview, then failed converting to UTC on the confirm (and
# PostgreSQL stored it as a BC date no page could read back).
EARLIEST_DATE = datetime(1900, 1, 1)
LATEST_DATE = datetime(2100, 12, 31, 23, 59, 59)


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class TextWidget(widgets.Widget):
    """Text, trimmed; a number Excel made of a phone becomes its digits. (Each format has already undone
    its own formula escaping: crm/importexport/formats.py.)"""

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


# No id or quantity has more digits (ids stop at 2^63 - 1); the model's validators give the exact bounds.
MAX_WHOLE_NUMBER_DIGITS = 18


class WholeNumberWidget(widgets.Widget):
    """Whole numbers (ids, quantities) as `3`, `3.0`, `1 000` or a spreadsheet's number."""

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = parse_amount(value)
            except (InvalidOperation, ValueError):
                raise ValueError(_("Enter a whole number.")) from None
            if number != number.to_integral_value():
                raise ValueError(_("Enter a whole number."))
            # Before int(): "1e100000000" would otherwise take minutes to become an int of 10^8 digits.
            if number and number.adjusted() >= MAX_WHOLE_NUMBER_DIGITS:
                raise ValueError(self.too_long_message())
            number = int(number)
        if len(str(abs(number))) > MAX_WHOLE_NUMBER_DIGITS:
            raise ValueError(self.too_long_message())
        return number

    @staticmethod
    def too_long_message() -> str:
        return _("Enter a whole number of at most %(digits)s digits.") % {"digits": MAX_WHOLE_NUMBER_DIGITS}

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else str(value)


class MoneyWidget(widgets.Widget):
    """Amounts as crm.money.parse_amount reads them (`1500.50`, `1500,50`, `1 500,50`); exported with two
    decimals, with a decimal comma when the export asks for one (`decimal_comma`: CSV for Russian Excel)."""

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        try:
            return parse_amount(value)
        except AmountError as error:
            raise ValueError(str(error)) from None

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        if kwargs.get("force_native_type"):
            return value
        amount = format_amount(value)
        return amount.replace(".", ",") if kwargs.get("decimal_comma") else amount


class LocalDateTimeWidget(widgets.Widget):
    """Date and time in the server's time zone, as `17.12.2024 21:00:00` (or ISO, or an Excel date)."""

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
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
            parsed = self._parse_text(str(value).strip())
        if not EARLIEST_DATE <= parsed.replace(tzinfo=None) <= LATEST_DATE:
            raise ValueError(
                _("Enter a date between %(earliest)s and %(latest)s.")
                % {"earliest": EARLIEST_DATE.strftime("%d.%m.%Y"), "latest": LATEST_DATE.strftime("%d.%m.%Y")}
            )
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

    def __init__(self, status_choices):
        super().__init__()
        self.status_choices = status_choices
        self._labels = None
        self._aliases = None

    @property
    def labels(self) -> dict[str, str]:
        if self._labels is None:
            self._labels = fixed_russian_labels(self.status_choices)
        return self._labels

    def aliases(self) -> dict[str, str]:
        if self._aliases is None:
            aliases = {}
            for code, label in self.status_choices.choices:
                names = [code, self.labels[code]]
                for language in ("en", "ru"):
                    with translation.override(language):
                        names.append(str(label))
                aliases.update({normalize_text(name): code for name in names})
            self._aliases = aliases
        return self._aliases

    def clean(self, value, row=None, **kwargs):
        if is_blank(value):
            return None
        code = self.aliases().get(normalize_text(str(value)))
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
