"""Form fields of the staff UI for what people type their own way: amounts and phone numbers."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import get_format
from unfold.widgets import UnfoldAdminTextInputWidget

from crm.models import format_phone, normalize_phone
from crm.money import CURRENCY_SIGN, AmountError, format_amount, parse_amount


class MoneyInput(UnfoldAdminTextInputWidget):
    """A text input for an amount. Not <input type="number">: Chromium in Russian drops a typed decimal comma
    there and sends 89990,50 as 8999050. inputmode still brings up the phone's numeric keyboard."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})


class OrderPriceInput(MoneyInput):
    """The order's price, and under it quantity × price as it will be saved, kept up to date while typing by
    crm/static/crm/order_total.js (a static file: the Content-Security-Policy forbids inline scripts)."""

    template_name = "admin/crm/widgets/order_price.html"

    def __init__(self, attrs=None, *, quantity_input_id: str = "id_quantity"):
        super().__init__(attrs)
        self.quantity_input_id = quantity_input_id

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        # The script writes the total as format_money does in the page's language: "1 234,50 ₽".
        context["widget"].update(
            quantity_input_id=self.quantity_input_id,
            decimal_separator=get_format("DECIMAL_SEPARATOR"),
            thousand_separator=get_format("THOUSAND_SEPARATOR"),
            currency_sign=CURRENCY_SIGN,
        )
        return context


class MoneyField(forms.DecimalField):
    """An amount read by crm.money.parse_amount (the API's and the imports' parser too): 89990,50, 89 990,50,
    89990.50 and 89 990.50 are the same amount; ambiguous text (1.234,50) is refused with the reason, never
    scaled. The model field's limits (digits, decimals, bounds) apply as usual."""

    widget = MoneyInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_amount(value)
        except AmountError as error:
            raise ValidationError(str(error), code="invalid") from None

    def prepare_value(self, value):
        # A stored amount is shown as people write it in the page's language (89990,50); typed text as typed.
        if isinstance(value, Decimal) and value.is_finite():
            return format_amount(value).replace(".", get_format("DECIMAL_SEPARATOR"))
        return value


class PhoneInput(UnfoldAdminTextInputWidget):
    input_type = "tel"

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "tel", "autocomplete": "tel", **(attrs or {})})


class PhoneField(forms.CharField):
    """A phone in any usual spelling, stored as crm.models.normalize_phone gives it (+79991234567) and shown
    as +7 (999) 123-45-67."""

    widget = PhoneInput

    def to_python(self, value):
        return normalize_phone(super().to_python(value))

    def prepare_value(self, value):
        return format_phone(value) if isinstance(value, str) and value.startswith("+") else value
