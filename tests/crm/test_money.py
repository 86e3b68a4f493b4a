"""crm/money.py: the one place that parses, sums and writes amounts."""

from decimal import Decimal

import pytest
from django.utils import translation

from crm import money


@pytest.mark.parametrize(("typed", "amount"), [
    ("1500.50", Decimal("1500.50")),
    ("1500,50", Decimal("1500.50")),
    ("1 500,50", Decimal("1500.50")),
    ("1\xa0500,50", Decimal("1500.50")),
    (" 7 ", Decimal("7")),
    (12, Decimal("12")),
    (0.1, Decimal("0.1")),
])
def test_parse_amount_reads_what_people_type(typed, amount):
    assert money.parse_amount(typed) == amount


@pytest.mark.parametrize(("typed", "amount"), [
    ("89990,50", Decimal("89990.50")),
    ("89 990,50", Decimal("89990.50")),
    ("89990.50", Decimal("89990.50")),
    ("89 990.50", Decimal("89990.50")),
    ("89\u202f990,50", Decimal("89990.50")),  # a narrow non-breaking space, as some locales group
    ("1 000 000", Decimal("1000000")),
    ("1 234,567", Decimal("1234.567")),  # spaces group the thousands, so the comma is a decimal one
    ("1234,567", Decimal("1234.567")),  # four digits before the comma: no thousands separator
    ("0,125", Decimal("0.125")),  # no group of thousands starts with 0
    (",5", Decimal("0.5")),
    ("-1,50", Decimal("-1.50")),  # the model's bound refuses it, with its own message
])
def test_parse_amount_reads_a_decimal_comma_or_point_and_spaces_between_thousands(typed, amount):
    assert money.parse_amount(typed) == amount


@pytest.mark.parametrize("typed", ["", "abc", "NaN", "Infinity", "1.2.3", True, "1e3", "1 500 руб", "٣", "1,5,0",
                                   "1.234,50", "1,234.50", "12 34", "1 5 0", "1  500", ",", "-", "1,,5"])
def test_parse_amount_refuses_what_is_not_an_amount(typed):
    with pytest.raises(money.AmountError, match="Enter an amount such as 89 990,50"):
        with translation.override("en"):
            money.parse_amount(typed)


@pytest.mark.parametrize("typed", ["1,234", "1.234", "12.500", "999,999", "+1,000"])
def test_parse_amount_refuses_a_lone_separator_before_three_digits_rather_than_guess(typed):
    """1,234 is 1234 to an English reader and 1.234 to a Russian one: refused, never scaled by a thousand."""
    with pytest.raises(money.AmountError, match="can be read two ways"):
        with translation.override("en"):
            money.parse_amount(typed)


def test_cents_and_averages_are_exact():
    assert money.amount_from_cents(30) == Decimal("0.30")
    assert money.amount_from_cents(None) == Decimal("0.00")
    assert money.average_amount(100, 3) == Decimal("0.33")
    assert money.average_amount(5, 2) == Decimal("0.03")  # 0.025 rounds half up
    assert money.average_amount(0, 0) == Decimal("0.00")


def test_format_amount_is_plain_with_two_decimals():
    assert money.format_amount(Decimal("1234.5")) == "1234.50"
    assert money.format_amount("7") == "7.00"
    assert money.format_amount(Decimal("1E+3")) == "1000.00"


def test_format_money_is_grouped_in_the_active_language_and_never_wraps():
    with translation.override("ru"):
        assert money.format_money(Decimal("1234.5")) == "1\xa0234,50\xa0₽"
    with translation.override("en"):
        assert money.format_money(Decimal("1234.5")) == "1,234.50\xa0₽"
    with translation.override("ru"):
        assert money.format_money(None) == "0,00\xa0₽"
