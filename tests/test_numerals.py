"""Numbers as a Chinese keyboard types them: one reader (portal.numerals) for every numeric input."""

from decimal import Decimal

import pytest

from portal.numerals import plain_number, read_decimal


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("１２３４５", "12345"),
        ("５０．５", "50.5"),
        ("－３", "-3"),  # full-width minus: read, and the field's own rule refuses a negative
        ("\u22123.5", "-3.5"),  # the minus sign a spreadsheet pastes (NFKC leaves it)
        ("１２，３４５", "12345"),  # full-width comma grouping thousands
        ("1,234,567.08", "1234567.08"),
        ("6 000 000", "6000000"),
        ("１２　３４５", "12345"),  # ideographic space grouping thousands
        ("　８５　", "85"),
    ],
)
def test_full_width_and_grouped_numbers_are_read(typed: str, plain: str) -> None:
    assert plain_number(typed) == plain
    assert read_decimal(typed) == Decimal(plain)


@pytest.mark.parametrize(
    "typed",
    ["１２，３４", "12,34", "1,2345", "1.234,5", "1e5", "NaN", "Infinity", "12、345", "٣", "五十", "", "-"],
)
def test_what_might_be_misread_is_refused(typed: str) -> None:
    """A decimal comma, an exponent or a numeral of another script is not guessed at."""
    assert plain_number(typed) is None
    assert read_decimal(typed) is None
