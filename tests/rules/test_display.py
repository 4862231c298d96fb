"""Hints and trace messages show rounded numbers, but never round a failure into a pass."""

from datetime import date
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.documents.formatting import format_amount
from portal.rules import Outcome, Pack
from portal.rules.display import (
    digits_for,
    format_gap,
    format_shortfall,
    format_threshold,
    format_value,
    layout,
)
from portal.web.i18n import Translator

ON = date(2026, 6, 1)


def hint_parts(value: str, threshold: str, kind: str, lang: str) -> tuple[str, str, str]:
    """Value, threshold and gap as a failed `>=` hint shows them."""
    seen, bound = Decimal(value), Decimal(threshold)
    digits = digits_for(seen, [bound], kind, lang, bound - seen)
    return (
        format_value(seen, kind, lang, digits),
        format_value(bound, kind, lang, digits),
        format_gap(bound - seen, kind, lang, digits),
    )


def test_an_unrounded_share_prints_with_one_decimal(pack: Pack) -> None:
    facts = {
        "enterprise": {
            "registered_on": "2020-03-01",
            "employees": 97,
            "st_staff": 9,  # 9 / 97 = 9.2783…%
            "revenue": "40000000",
            "revenue_3y": "100000000",
            "rd_expense_3y": "5000000",
            "rd_expense_domestic_3y": "3000000",
            "hightech_revenue": "24000000",
            "core_ip": True,
            "tech_in_key_fields": True,
            "major_violation_last_year": False,
        }
    }
    result = pack.evaluate("tax.high_tech_enterprise", pack.facts.parse(facts), ON)
    assert result.outcome is Outcome.INELIGIBLE
    assert result.hints == ["科技人员占比 9.3%，需 ≥ 10%（差 0.7 个百分点）"]
    assert result.hints_in("en") == ["S&T staff share 9.3%, needs ≥ 10% (short by 0.7 percentage points)"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.3999", ("39.99%", "40%", "0.01 个百分点")),  # one decimal would read 40% vs 40%
        ("0.39996", ("39.996%", "40%", "0.004 个百分点")),
        ("0.39999999", ("39.999999%", "40%", "0.000001 个百分点")),
        ("0.3949", ("39.5%", "40%", "0.5 个百分点")),
        ("0.38888888888888888888888889", ("38.9%", "40%", "1.1 个百分点")),
    ],
)
def test_a_near_miss_never_reads_as_its_threshold(value: str, shown: tuple[str, str, str]) -> None:
    assert hint_parts(value, "0.40", "ratio", "zh") == shown


def test_a_threshold_is_shown_exactly() -> None:
    assert hint_parts("0.03", "0.0425", "ratio", "en") == ("3%", "4.25%", "1.25 percentage points")
    assert format_threshold(Decimal("0.0425"), "ratio", "zh") == "4.25%"


@pytest.mark.parametrize(
    ("ratio", "shown"), [("0.50", "50%"), ("0.5", "50%"), ("0.125", "12.5%"), ("0.10", "10%")]
)
def test_a_ratio_reads_one_way_on_cards_hints_and_letters(ratio: str, shown: str) -> None:
    """Trailing zeros dropped, real decimals kept: a card, a hint, a page and a letter agree."""
    amount = Decimal(ratio)
    assert format_threshold(amount, "ratio", "zh") == format_threshold(amount, "ratio", "en") == shown
    assert Translator("en").percent(amount) == format_amount(amount, "ratio", "en") == shown


def test_money_reads_in_wan_or_cny_with_separators() -> None:
    assert format_value(Decimal(50_000_000), "money", "zh") == "5,000万元"
    assert format_value(Decimal("1234567.891"), "money", "zh") == "123.46万元"
    assert format_value(Decimal("1234567.891"), "money", "en") == "CNY 1,234,567.89"
    assert format_value(Decimal("9999.5"), "money", "zh") == "9,999.5元"
    assert format_value(12_000, "int", "en") == "12,000"
    assert hint_parts("49999950", "50000000", "money", "zh") == ("4,999.995万元", "5,000万元", "50元")
    assert hint_parts("49999950", "50000000", "money", "en") == ("CNY 49,999,950", "CNY 50,000,000", "CNY 50")


def test_an_exact_amount_is_written_one_way_and_as_the_hints_write_money() -> None:
    """Pages, letters and hints write the yuan the same way in English (CNY, never CN¥ beside it);
    exact amounts keep the fen in both languages, a hint's whole yuan drop it in both (150万元)."""
    amount = Decimal(3_000_000)
    assert Translator("en").money(amount) == format_amount(amount, "money", "en") == "CNY 3,000,000.00"
    assert Translator("zh").money(amount) == format_amount(amount, "money", "zh") == "¥3,000,000.00"
    assert Translator("en").money("-1234.5") == "CNY -1,234.50"
    assert format_value(Decimal(1_500_000), "money", "en") == "CNY 1,500,000"
    assert format_value(Decimal(1_500_000), "money", "zh") == "150万元"


def test_rounding_is_half_up() -> None:
    assert format_value(Decimal("0.12345"), "ratio", "zh") == "12.3%"
    assert format_value(Decimal("0.12350"), "ratio", "zh") == "12.4%"
    assert format_value(Decimal("0.12250"), "ratio", "zh") == "12.3%"  # half-even would give 12.2


@settings(max_examples=300, deadline=None)
@given(
    threshold=st.decimals(min_value="0.0001", max_value=1, places=4),
    below=st.decimals(min_value="1E-12", max_value="0.5", places=12),
    kind=st.sampled_from(["ratio", "money", "number"]),
    lang=st.sampled_from(["zh", "en"]),
)
def test_a_failing_value_and_its_gap_always_show_as_failing(
    threshold: Decimal, below: Decimal, kind: str, lang: str
) -> None:
    scale = Decimal(100_000_000) if kind == "money" else Decimal(1)
    bound = threshold * scale
    value = bound - below * scale
    digits = digits_for(value, [bound], kind, lang, bound - value)
    assert format_value(value, kind, lang, digits) != format_value(bound, kind, lang, digits)
    gap = format_gap(bound - value, kind, lang, digits)
    assert any(ch in "123456789" for ch in gap), gap


@settings(max_examples=400, deadline=None)
@given(
    value=st.one_of(
        st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False, places=8),
        st.integers(min_value=-(10**12), max_value=10**12),
    ),
    expected=st.one_of(
        st.decimals(min_value=0, max_value=10**9, places=4), st.integers(min_value=0, max_value=10**9)
    ),
    kind=st.sampled_from(["ratio", "money", "int", "number"]),
    lang=st.sampled_from(["zh", "en"]),
)
def test_format_shortfall_is_digits_for_and_format_value(
    value: Decimal | int, expected: Decimal | int, kind: str, lang: str
) -> None:
    """The one-pass hint formatting gives the texts of the three calls it replaces."""
    gap = expected - value
    digits = digits_for(value, [expected], kind, lang, gap)
    assert format_shortfall(value, expected, gap, kind, lang) == (
        format_value(value, kind, lang, digits),
        format_value(expected, kind, lang, digits),
        format_gap(gap, kind, lang, digits),
    )


def test_a_strict_bound_met_with_equality_names_no_gap(pack: Pack) -> None:
    facts = pack.facts.parse(
        {
            "enterprise": {"is_sme": True},
            "loan": {"pledge_kind": "patent", "amount": 0, "uses_policy_tool": True},
        }
    )
    result = pack.evaluate("finance.ip_pledge_compensation", facts, date(2024, 1, 1))
    assert result.hints == ["贷款金额 0元，需 > 0元", "不应满足：使用货币政策工具资金：是"]
    assert result.hints_in("en")[0] == "Loan amount CNY 0, needs > CNY 0"


def test_default_messages_read_as_sentences(pack: Pack) -> None:
    rule = pack.select("finance.ip_pledge_compensation", date(2024, 1, 1))
    assert rule is not None and rule.compiled is not None
    messages = {info.leaf.id: info.message for info in rule.compiled.leaf_infos}
    assert messages["big_enough"].zh == "贷款金额 > 0元"
    assert messages["big_enough"].en == "Loan amount > CNY 0"
    assert messages["pledge"].zh == "质押物类型 为 patent、trademark、copyright 之一"
    assert messages["sme"].en == "SME: yes"


LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


@given(
    number=st.decimals(min_value=-(10**15), max_value=10**15, allow_nan=False, allow_infinity=False),
    digits=st.integers(min_value=0, max_value=12),
    lang=st.sampled_from(sorted(LOCALES)),
)
def test_layout_is_babels_pattern(number: Decimal, digits: int, lang: str) -> None:
    """The hot-path layout is exactly Babel's `#,##0.##` for the locale."""
    shown = number.quantize(Decimal(1).scaleb(-digits))
    pattern = f"#,##0.{'#' * digits}" if digits else "#,##0"
    assert layout(shown, digits, lang) == format_decimal(shown, format=pattern, locale=LOCALES[lang])
