"""RMB capital numerals against 支付结算办法 附一 (CRITERIA-SOURCES §11) and edge cases."""

from decimal import Decimal

import pytest

from portal.documents.capitals import rmb_capital


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        # The four examples of CRITERIA-SOURCES §11.
        ("1409.50", "壹仟肆佰零玖元伍角"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("1000000", "壹佰万元整"),
        # Edge cases: fen only, a leading 壹拾, 亿 and 万 groups with zeros between them,
        # 角 = 0 with 分 ≠ 0 after a long run of zeros, and zero itself.
        ("0.05", "伍分"),
        ("10.00", "壹拾元整"),
        ("100000000", "壹亿元整"),
        ("100010000", "壹亿零壹万元整"),
        ("1000000000.01", "壹拾亿元零壹分"),
        ("0", "零元整"),
        ("10.05", "壹拾元零伍分"),
        ("1000100", "壹佰万零壹佰元整"),
        ("105000", "壹拾万伍仟元整"),
        ("0.10", "壹角"),
        # Trailing zeros beyond the fen are the same amount, not extra precision.
        ("1.000", "壹元整"),
        ("-0.00", "零元整"),
    ],
)
def test_capitals_follow_the_payment_rules(amount: str, expected: str) -> None:
    assert rmb_capital(Decimal(amount)) == expected


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("-1"), "negative"),
        (Decimal("-0.01"), "negative"),
        (Decimal("1.005"), "more than two decimal places"),
        (Decimal("0.001"), "more than two decimal places"),
        (Decimal("NaN"), "finite Decimal"),
        (Decimal("Infinity"), "finite Decimal"),
        (Decimal("1E+16"), "too large"),
    ],
)
def test_bad_amounts_are_refused_not_rounded(amount: Decimal, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rmb_capital(amount)


def test_a_float_is_refused() -> None:
    with pytest.raises(ValueError, match="finite Decimal"):
        rmb_capital(1409.5)  # type: ignore[arg-type]
