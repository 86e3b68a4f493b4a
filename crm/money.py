"""Money in one place: amounts ↔ whole cents, exact sums in SQL, and the two ways an amount is written.

- `format_amount`: "1234.50", for machines and files (the API, report text, exports);
- `format_money`: "1 234,50 ₽" in the active language's format, for people (admin lists, dashboard).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import connection
from django.db.models import BigIntegerField, DecimalField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Round
from django.utils.formats import number_format

CENT = Decimal("0.01")
CURRENCY_SIGN = "₽"
MONEY_SUM = DecimalField(max_digits=30, decimal_places=2)


def cents_sum(field: str = "total_price", *, condition: Q | None = None):
    """SUM(field) in whole cents as a query expression, exact on every database."""
    if connection.vendor == "sqlite":
        # SQLite keeps decimals as REAL, whose sums drift (0.10 × 3 ≠ 0.30): add each row's whole cents.
        cents = Cast(Round(F(field) * Value(100)), output_field=BigIntegerField())
        return Coalesce(Sum(cents, filter=condition), Value(0), output_field=BigIntegerField())
    # numeric adds exactly, straight from the (..., total_price) indexes.
    total = Coalesce(Sum(field, filter=condition), Value(Decimal("0.00")), output_field=MONEY_SUM)
    return ExpressionWrapper(total * Value(100), output_field=MONEY_SUM)


def amount_from_cents(cents: int | Decimal | None) -> Decimal:
    """Whole cents (as cents_sum() gives them) as an amount with two decimals."""
    return (Decimal(int(cents or 0)) / 100).quantize(CENT)


def average_amount(total_cents: int | Decimal, count: int) -> Decimal:
    """The average of `count` amounts adding up to `total_cents`, rounded half up to the cent."""
    if not count:
        return Decimal("0.00")
    return (amount_from_cents(total_cents) / count).quantize(CENT, rounding=ROUND_HALF_UP)


def to_amount(value) -> Decimal:
    """A Decimal from a Decimal, an int or a plain decimal string ("1500.5"); float is read by its repr."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        value = repr(value)
    return Decimal(str(value).strip())


def parse_amount(text) -> Decimal:
    """An amount as people type it: `1500.50`, `1500,50`, `1 500,50` (also with non-breaking spaces).

    Raises InvalidOperation or ValueError for anything else.
    """
    if isinstance(text, bool):
        raise InvalidOperation
    if isinstance(text, (int, float, Decimal)):
        number = to_amount(text)
    else:
        cleaned = str(text).strip()
        for space in ("\xa0", "\u202f", " "):
            cleaned = cleaned.replace(space, "")
        number = Decimal(cleaned.replace(",", "."))
    if not number.is_finite():
        raise InvalidOperation
    return number


def format_amount(value) -> str:
    """An amount with two decimals and no grouping: "1234.50" (the API, report text, files)."""
    return f"{to_amount(value).quantize(CENT):f}"


def format_money(value) -> str:
    """An amount for people, in the active language: "1 234,50 ₽" (ru), "1,234.50 ₽" (en).

    The space before the sign is non-breaking (as Russian grouping already is), so an amount never wraps.
    """
    number = number_format(to_amount(value or 0), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{number}\xa0{CURRENCY_SIGN}"
