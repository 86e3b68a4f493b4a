"""Money in one place: amounts ↔ whole cents, exact sums in SQL, and the two ways an amount is written.

- `format_amount`: "1234.50", for machines and files (the API, report text, exports);
- `format_money`: "1 234,50 ₽" in the active language's format, for people (admin lists, dashboard).

Why every total and every sum is exact and no sum can overflow (the arithmetic behind crm.models.MAX_ORDER_TOTAL):
- An order's total is at most MAX_ORDER_TOTAL = 10^12 ₽ = 10^14 cents, far below 2^53 ≈ 9.007·10^15, the largest
  integer a double holds exactly. SQLite keeps decimals as REAL (a double): a stored total (quantity × price) is
  within 0.03 cents of the exact one, so ROUND(total × 100) is its exact cents, and the 15 significant digits
  Django reads back from a SQLite decimal hold every total below 10^13 ₽.
- Whole cents added in one 64-bit integer would overflow past 2^63 / 10^14 ≈ 92,233 maximal orders (SQLite then
  raises "integer overflow"). So on SQLite each row's cents are cut into three parts (cents // 10^10, the next
  five digits, the last five), each below 10^5 (below 10^6 for rows stored before the bound, at most 10^14 ₽
  = 10^16 cents), and every part gets its own SUM. A part's SUM overflows only past 9.2·10^12 orders, more than
  any SQLite database holds: its largest file is 2^32 pages of 64 KiB ≈ 2.8·10^14 bytes, and every order takes
  more than 31 bytes (its two timestamps alone take 38). The parts are joined, carries included, into one
  zero-padded string of 29 digits, which sorts like the number it spells. (Reports and the dashboard first try
  the single SUM, faster, and fall back to the parts when SQLite reports the overflow: rows_with_cents_sum.)
- PostgreSQL adds numeric exactly, without a bound.
- A saved sum (a report's) is a MoneySumField of 30 digits: a table holds fewer than 10^13 orders (SQLite, above;
  PostgreSQL, 32 TB a table), of at most 10^14 ₽ each, so every sum is below 10^27 ₽.
"""

import re
from collections.abc import Callable, Iterable
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from django.db import OperationalError, connection, models
from django.db.models import F, Func, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, Round
from django.utils.formats import number_format
from django.utils.translation import gettext as _

CENT = Decimal("0.01")
CURRENCY_SIGN = "₽"
# The widest saved sum (MoneySumField): see the module's docstring.
SUM_MAX_DIGITS = 30
# Decimal arithmetic on amounts never rounds away a digit (the default context keeps 28).
MONEY_CONTEXT = Context(prec=60)
MONEY_SUM = models.DecimalField(max_digits=SUM_MAX_DIGITS, decimal_places=2)
# SQLite's cents of one row, cut into three parts that are summed apart (see the module's docstring).
_SQLITE_ROW_CENTS = "CAST(ROUND({column} * 100) AS INTEGER)"
_SQLITE_CENTS_PARTS = ("({cents} / 10000000000)", "({cents} / 100000 %% 100000)", "({cents} %% 100000)")


class CentsField(models.Field):
    """The type of cents_sum(): whole cents as a Python int, from PostgreSQL's numeric or SQLite's digit string."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else int(value)


class AmountFromCentsField(models.Field):
    """The type of amount_sum(): whole cents from the database, an amount with two decimals in Python."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else amount_from_cents(value)


class _SqliteCentsPart(Func):
    """One of the three parts of a row's whole cents on SQLite (no parameters: SQLite sees one SUM per part)."""

    def __init__(self, expression, part: int):
        super().__init__(expression, output_field=models.BigIntegerField())
        self.part = part

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        return _SQLITE_CENTS_PARTS[self.part].format(cents=_SQLITE_ROW_CENTS.format(column=column)), params


class _SqliteCentsTotal(Func):
    """The sums of the three parts joined, carries included, into one string of 29 digits: the whole cents."""

    def as_sql(self, compiler, connection, **extra_context):
        (high, high_params), (mid, mid_params), (low, low_params) = (
            (f"COALESCE({sql}, 0)", params)
            for sql, params in (compiler.compile(expression) for expression in self.source_expressions)
        )
        # SQLite folds identical aggregate calls into one: repeating a SUM here does not add the rows up again.
        carried_mid = f"({mid} + {low} / 100000)"
        sql = f"printf('%%019d%%05d%%05d', {high} + {carried_mid} / 100000, {carried_mid} %% 100000, {low} %% 100000)"
        return sql, (*high_params, *mid_params, *low_params, *mid_params, *low_params, *low_params)


def _exact_sum(field: str, condition: Q | None, output_field: models.Field):
    if connection.vendor == "sqlite":
        parts = (Sum(_SqliteCentsPart(F(field), part), filter=condition) for part in range(len(_SQLITE_CENTS_PARTS)))
        return _SqliteCentsTotal(*parts, output_field=output_field)
    # numeric adds exactly, straight from the (..., total_price) indexes.
    total = Coalesce(Sum(field, filter=condition), Value(Decimal("0.00")), output_field=MONEY_SUM)
    return models.ExpressionWrapper(total * Value(100), output_field=output_field)


def cents_sum(field: str = "total_price", *, condition: Q | None = None):
    """SUM(field) in whole cents (an int in Python), exact and free of overflow on every database.

    Ordering by it orders by the sum (on SQLite it is a zero-padded string of digits).
    """
    return _exact_sum(field, condition, CentsField())


def _sqlite_single_cents_sum(field: str, condition: Q | None):
    """SUM(field) in whole cents as one 64-bit integer: exact, fastest, but SQLite raises past 2^63 cents."""
    cents = Cast(Round(F(field) * Value(100)), output_field=models.BigIntegerField())
    return Coalesce(Sum(cents, filter=condition), Value(0), output_field=CentsField())


def rows_with_cents_sum(build: Callable[[Any], Iterable], field: str = "total_price", *,
                        condition: Q | None = None) -> list:
    """The rows of `build(cents)`, a query around a sum of whole cents: cents_sum()'s values, faster on SQLite.

    There the sum is first one 64-bit SUM, exact as long as it fits (up to 92,233 maximal orders in a group):
    cents_sum()'s three parts would make the yearly report and the dashboard half as slow again. Only when
    SQLite reports that the SUM overflowed is the query asked again with cents_sum(), which cannot overflow.
    """
    if connection.vendor == "sqlite":
        try:
            return list(build(_sqlite_single_cents_sum(field, condition)))
        except OperationalError as error:
            # A failed SELECT leaves SQLite's transaction as it was; nothing to roll back.
            if "integer overflow" not in str(error):
                raise
    return list(build(cents_sum(field, condition=condition)))


def amount_sum(field: str = "total_price", *, condition: Q | None = None):
    """SUM(field) as an amount (a Decimal in Python): cents_sum() for callers that want the amount."""
    return _exact_sum(field, condition, AmountFromCentsField())


def amount_from_cents(cents: int | str | Decimal | None) -> Decimal:
    """Whole cents (as cents_sum() gives them) as an amount with two decimals; exact at any size."""
    return Decimal(f"{int(cents or 0)}e-2")


def average_amount(total_cents: int | Decimal, count: int) -> Decimal:
    """The average of `count` amounts adding up to `total_cents`, rounded half up to the cent."""
    if not count:
        return Decimal("0.00")
    # Whole numbers all the way: no precision to run out of, however large the sum.
    quotient, remainder = divmod(abs(int(total_cents)), count)
    cents = quotient + (1 if 2 * remainder >= count else 0)
    return amount_from_cents(cents if int(total_cents) >= 0 else -cents)


def to_amount(value) -> Decimal:
    """A Decimal from a Decimal, an int or a plain decimal string ("1500.5"); float is read by its repr."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        value = repr(value)
    return Decimal(str(value).strip())


class AmountError(ValueError):
    """Text that is not an amount, or one that could be read two ways; the message says which, for people."""


# Digits, optionally grouped by three with single spaces, then at most one decimal separator (`,` or `.`).
_AMOUNT = re.compile(
    r"(?P<sign>[-+]?)(?P<whole>\d{1,3}(?: \d{3})+|\d*)(?:(?P<separator>[.,])(?P<fraction>\d*))?", re.ASCII
)
# Spaces people (and Excel, and format_money) put between thousands.
_GROUP_SPACES = str.maketrans({"\xa0": " ", "\u202f": " ", "\u2009": " "})


def parse_amount(text) -> Decimal:
    """An amount as people type it: `89990,50`, `89 990,50`, `89990.50`, `89 990.50` (any kind of space).

    Refused with an AmountError, never guessed at: letters, two separators (`1.234,50`, `1,234.50`, `1,5,0`),
    spaces that do not group thousands, and a lone `,` or `.` followed by exactly three digits after one to
    three digits (`1,234`, `1.500`), which reads as a thousands separator in half the world and would scale
    the amount by a thousand. The one parser of the admin's money fields, the API's and the imports.
    """
    if isinstance(text, bool):
        raise AmountError(invalid_amount_message())
    if isinstance(text, (int, float, Decimal)):
        try:
            number = to_amount(text)
        except InvalidOperation:
            raise AmountError(invalid_amount_message()) from None
    else:
        cleaned = str(text).translate(_GROUP_SPACES).strip()
        match = _AMOUNT.fullmatch(cleaned)
        if match is None or not (match["whole"] or match["fraction"]):
            raise AmountError(invalid_amount_message())
        whole, fraction = match["whole"], match["fraction"] or ""
        if match["separator"] and len(fraction) == 3 and 1 <= len(whole) <= 3 and whole[0] != "0":
            raise AmountError(
                _("“%(amount)s” can be read two ways: is the “%(separator)s” between thousands or before the "
                  "kopecks? Separate thousands with a space (1 234) and write kopecks with two digits (1,23).")
                % {"amount": cleaned, "separator": match["separator"]}
            )
        number = Decimal(f"{match['sign']}{whole.replace(' ', '') or '0'}.{fraction or '0'}"
                         if match["separator"] else f"{match['sign']}{whole.replace(' ', '')}")
    if not number.is_finite():
        raise AmountError(invalid_amount_message())
    return number


def invalid_amount_message() -> str:
    return _("Enter an amount such as 89 990,50: digits, spaces between thousands if you like, "
             "and one comma or point before the kopecks.")


def format_amount(value) -> str:
    """An amount with two decimals and no grouping: "1234.50" (the API, report text, files)."""
    return f"{to_amount(value).quantize(CENT, context=MONEY_CONTEXT):f}"


def format_money(value) -> str:
    """An amount for people, in the active language: "1 234,50 ₽" (ru), "1,234.50 ₽" (en).

    The space before the sign is non-breaking (as Russian grouping already is), so an amount never wraps.
    """
    number = number_format(to_amount(value or 0), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{number}\xa0{CURRENCY_SIGN}"


class MoneySumField(models.DecimalField):
    """A saved sum of amounts (a report's), exact at any size on every database.

    numeric(30, 2) on PostgreSQL. SQLite would keep a decimal as a REAL, and Django reads only 15 significant
    digits back (sums from 10^13 ₽ up would lose kopecks); here it keeps a zero-padded text instead, which
    compares and sorts like the number.
    """

    def __init__(self, *args, max_digits=SUM_MAX_DIGITS, decimal_places=2, **kwargs):
        super().__init__(*args, max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def get_internal_type(self):
        # Not "DecimalField": SQLite's converter for that type reads a float and keeps 15 digits.
        return "MoneySumField"

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "text"
        return connection.data_types["DecimalField"] % self.db_type_parameters(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if connection.vendor == "sqlite" and isinstance(value, Decimal):
            # One more character than digits for the point; a negative sum (none is) would not sort.
            width = self.max_digits + 1
            return f"{value.quantize(Decimal(1).scaleb(-self.decimal_places), context=MONEY_CONTEXT):0{width}f}"
        return value

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        # str() also reads a REAL left by an older schema exactly as SQLite printed it.
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-self.decimal_places), context=MONEY_CONTEXT)
