"""Validation messages per JSON-Schema keyword, in zh and en, one per field, in form order."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from portal.forms import FieldError, FormSpec, load_form

# The engine never reads the clock: every check is judged on the day its caller passes.
TODAY = dt.date(2026, 11, 27)

VALID = {
    "enterprise_name": "广州智算科技有限公司",
    "uscc": "91350100M000100Y43",
    "contact_person": "王芳",
    "contact_phone": "13812345678",
    "tech_field": "electronic_info",
    "revenue": "40000000.00",
    "rd_expense_3y": "6,000,000",
    "rd_expense_domestic_3y": "5800000",
    "hightech_revenue": "30000000",
    "employees": "120",
    "st_staff": "40",
    "invention_patents": "3",
    "no_major_violation": "true",
}


def errors(spec: FormSpec, lang: str = "zh", **changes: object) -> dict[str, str]:
    answers = {**VALID, **changes}
    return {
        e.path: e.message
        for e in spec.validate({k: v for k, v in answers.items() if v is not None}, lang, today=TODAY)
    }


def test_valid_answers_pass(hte: FormSpec) -> None:
    assert hte.validate(VALID, today=TODAY) == []


def test_coercion_gives_exact_typed_values(hte: FormSpec) -> None:
    typed, problems = hte.coerce(VALID)
    assert problems == []
    assert typed["revenue"] == Decimal("40000000.00")
    assert typed["rd_expense_3y"] == Decimal("6000000")
    assert typed["employees"] == 120
    assert typed["no_major_violation"] is True


def test_float_money_is_refused(hte: FormSpec) -> None:
    assert errors(hte, revenue=0.1) == {"revenue": "请填写数字（如 1234.56）。"}


@pytest.mark.parametrize(
    ("changes", "field", "zh", "en"),
    [
        ({"contact_person": None}, "contact_person", "此项为必填项。", "This field is required."),
        ({"employees": "12.5"}, "employees", "请填写整数。", "Enter a whole number."),
        ({"revenue": "lots"}, "revenue", "请填写数字（如 1234.56）。", "Enter a number (e.g. 1234.56)."),
        ({"revenue": "-1"}, "revenue", "不能小于 0。", "Must be at least 0."),
        ({"revenue": "1.005"}, "revenue", "最多保留 2 位小数。", "Use at most 2 decimal places."),
        ({"employees": "0"}, "employees", "不能小于 1。", "Must be at least 1."),
        # A length with both ends says both, as the help does, whichever end was missed.
        (
            {"enterprise_name": "x" * 101},
            "enterprise_name",
            "请填写 2 至 100 字。",
            "Use 2 to 100 characters.",
        ),
        ({"enterprise_name": "x"}, "enterprise_name", "请填写 2 至 100 字。", "Use 2 to 100 characters."),
        ({"tech_field": "astrology"}, "tech_field", "请从列表中选择。", "Choose one of the listed options."),
        (
            {"contact_email": "not-an-email"},
            "contact_email",
            "请填写有效的电子邮箱。",
            "Enter a valid email address.",
        ),
        (
            {"uscc": "91350100M000100Y44"},
            "uscc",
            "统一社会信用代码无效（应为 18 位且校验位正确）。",
            "Not a valid unified social credit code (18 characters with a correct check digit).",
        ),
        (
            {"no_major_violation": "false"},
            "no_major_violation",
            "须作出此项承诺方可申报。",
            "You must make this declaration to apply.",
        ),
        (
            {"contact_phone": "12345"},
            "contact_phone",
            "请填写手机号或带区号的固定电话。",
            "Enter a mobile number or a landline with its area code.",
        ),
    ],
)
def test_messages_per_keyword(
    hte: FormSpec, changes: dict[str, object], field: str, zh: str, en: str
) -> None:
    assert errors(hte, "zh", **changes) == {field: zh}
    assert errors(hte, "en", **changes) == {field: en}


def test_date_format_is_checked(forms: dict[str, FormSpec]) -> None:
    spec = forms["subsidy.model_filing"]
    result = spec.validate({"filed_on": "2026-02-30"}, "en", today=TODAY)
    assert FieldError("filed_on", "Enter a date as YYYY-MM-DD.") in result


def test_maximum_is_checked(forms: dict[str, FormSpec]) -> None:
    spec = forms["subsidy.ai_scenario_demo"]
    result = {e.path: e.message for e in spec.validate({"requested_amount": "5000000.01"}, today=TODAY)}
    assert result["requested_amount"] == "不能大于 5000000。"


@pytest.mark.parametrize(
    ("lang", "help_says", "error_says"),
    [
        ("zh", "50 至 2000 字", "请填写 50 至 2000 字。"),
        ("en", "50 to 2,000 characters", "Use 50 to 2,000 characters."),
    ],
)
def test_a_length_error_speaks_like_the_fields_help(
    forms: dict[str, FormSpec], lang: str, help_says: str, error_says: str
) -> None:
    """项目简介's help gives its length in 字; its error says the same bounds the same way."""
    spec = forms["subsidy.ai_scenario_demo"]
    summary = spec.fields["summary"]
    assert summary.help is not None and help_says in summary.help.get(lang)
    for typed in ("太短", "长" * 2001):
        result = {e.path: e.message for e in spec.validate({"summary": typed}, lang, today=TODAY)}
        assert result["summary"] == error_says


def test_full_width_digits_from_a_chinese_keyboard_are_read(hte: FormSpec) -> None:
    """An IME types １２０ and ４０，０００，０００．００: read as the ASCII number (portal.numerals)."""
    typed, problems = hte.coerce(
        {**VALID, "revenue": "４０，０００，０００．５０", "employees": "１２０", "st_staff": "４０"}
    )
    assert problems == []
    assert (typed["revenue"], typed["employees"], typed["st_staff"]) == (Decimal("40000000.50"), 120, 40)
    assert errors(hte, revenue="－５") == {"revenue": "不能小于 0。"}  # read, then refused for what it is
    assert errors(hte, employees="１２，３４") == {
        "employees": "请填写整数。"
    }  # a decimal comma? not guessed


def test_errors_follow_form_order_one_per_field(hte: FormSpec) -> None:
    result = hte.validate({}, today=TODAY)
    paths = [e.path for e in result]
    assert paths == [name for name in hte.fields if hte.fields[name].required]
    assert len(paths) == len(set(paths))


def test_unknown_answers_are_refused(hte: FormSpec) -> None:
    result = hte.validate({**VALID, "is_admin": "true"}, "en", today=TODAY)
    assert result == [FieldError("is_admin", "The form contains an unknown field.")]


def test_stored_answers_with_decimal_strings_validate(hte: FormSpec) -> None:
    typed, _ = hte.coerce(VALID)
    stored = {k: str(v) if isinstance(v, Decimal) else v for k, v in typed.items()}
    assert hte.validate(stored, today=TODAY) == []


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        # 10^60 used to reach jsonschema's `multipleOf` and raise decimal.DivisionImpossible.
        ("revenue", "1" + "0" * 60, "too_large"),
        ("revenue", 10**40, "too_large"),
        ("revenue", Decimal("1E+60"), "too_large"),
        ("revenue", Decimal("NaN"), "number"),
        ("revenue", Decimal("Infinity"), "number"),
        # int() of a 5000-digit string raised ValueError (Python's digit limit).
        ("employees", "9" * 5000, "too_large"),
        ("employees", Decimal("Infinity"), "integer"),
    ],
)
def test_absurd_numbers_get_a_field_error(hte: FormSpec, field: str, value: object, key: str) -> None:
    expected = {
        "too_large": "This number is too large; check it.",
        "number": "Enter a number (e.g. 1234.56).",
        "integer": "Enter a whole number.",
    }[key]
    assert errors(hte, "en", **{field: value}) == {field: expected}


def test_large_real_amounts_still_pass(hte: FormSpec) -> None:
    assert errors(hte, revenue="999999999999999999.99") == {}


@pytest.mark.parametrize(
    ("lang", "text"),
    [("zh", "请以小数填写比例（如 0.75 即 75%）。"), ("en", "Enter the share as a decimal (0.75 is 75%).")],
)
def test_a_ratio_typed_as_a_percentage_is_told_the_decimal_form(
    forms: dict[str, FormSpec], lang: str, text: str
) -> None:
    listing = forms["procurement.ai_product_listing"]
    [ratio] = [f.name for f in listing.fields.values() if f.widget == "ratio"]
    _, problems = listing.coerce({ratio: "75%"}, lang)
    assert problems == [FieldError(ratio, text)]


STEPPED = """
measure: demo.measure
title: {zh: 示例, en: Demo}
schema:
  $schema: https://json-schema.org/draft/2020-12/schema
  type: object
  properties:
    share: {type: number, multipleOf: 0.001}
    lots: {type: integer, multipleOf: 100}
ui:
  sections:
    - id: main
      title: {zh: 主要, en: Main}
      fields:
        - {name: share, label: {zh: 比例, en: Share}}
        - {name: lots, label: {zh: 数量, en: Lots}}
"""


@pytest.mark.parametrize(
    ("answers", "zh", "en"),
    [
        # A step of 10⁻ⁿ is said as decimal places, which is how a clerk thinks of it.
        ({"share": "0.1234"}, "最多保留 3 位小数。", "Use at most 3 decimal places."),
        # Any other step is a multiple.
        ({"lots": "150"}, "须为 100 的整数倍。", "Must be a multiple of 100."),
    ],
)
def test_a_step_is_said_as_decimal_places_or_a_multiple(
    tmp_path: Path, answers: dict[str, str], zh: str, en: str
) -> None:
    path = tmp_path / "demo.measure.yaml"
    path.write_text(STEPPED, encoding="utf-8")
    spec = load_form(path)
    assert [e.message for e in spec.validate(answers, "zh", today=TODAY)] == [zh]
    assert [e.message for e in spec.validate(answers, "en", today=TODAY)] == [en]
