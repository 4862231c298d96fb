"""The screening file's columns as a person reads them: the header to type, what it means, how to write it.

The header is the one place a fact's name is shown: it is what the file must carry. Everything
else is in words, and an enumeration lists each accepted value with its label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from stdnum.cn import uscc as stdnum_uscc

from portal.rules.facts import FactDictionary, FactSpec
from portal.screening.inputs import EXAMPLE_ROW_ID, RATIO_SCALE, column_name
from portal.web.i18n import Translator
from portal.web.self_check import range_text


@dataclass(frozen=True)
class ColumnRow:
    header: str
    meaning: str
    format: str
    values: tuple[tuple[str, str], ...]
    """An enumeration's accepted values with their labels; empty for other types."""


def column_rows(facts: FactDictionary, specs: Sequence[FactSpec], t: Translator) -> list[ColumnRow]:
    return [
        ColumnRow(
            header=column_name(spec),
            meaning=spec.label.get(t.lang),
            format=_format(spec, t),
            values=tuple((v, facts.value_label(spec.qualified, v, t.lang)) for v in spec.values),
        )
        for spec in specs
    ]


def _format(spec: FactSpec, t: Translator) -> str:
    if spec.type == "text":
        return t("screening.col.uscc" if spec.name == "uscc" else "screening.col.text")
    kind = "share" if spec.type == "ratio" and spec.unit == "share" else spec.type
    text = t(f"screening.col.{kind}", scale=RATIO_SCALE)
    bounds = range_text(t, spec)
    return text if bounds is None else text + t("punct.full_stop") + bounds


_EXAMPLE_USCC_BODY = "91000000EXAMPLE00"
"""A code no enterprise holds (region 000000), whose check character makes it read as valid."""
_EXAMPLE_NUMBERS = {"int": Decimal(10), "money": Decimal("1500000.00"), "ratio": Decimal("1.5")}
_EXAMPLE_SHARE = Decimal("0.35")


def example_row(specs: Sequence[FactSpec]) -> list[str]:
    """The template's example row: a valid value of each column, as the columns page describes
    it, under the `row_id` that makes the upload skip the row (`EXAMPLE_ROW_ID`)."""
    return [EXAMPLE_ROW_ID, *(_example(spec) for spec in specs)]


def _example(spec: FactSpec) -> str:
    if spec.type == "bool":
        return "true"
    if spec.type == "date":
        return "2024-03-01"
    if spec.type == "enum":
        return spec.values[0] if spec.values else ""
    if spec.type == "text":
        body = _EXAMPLE_USCC_BODY
        return body + str(stdnum_uscc.calc_check_digit(body)) if spec.name == "uscc" else ""
    share = spec.type == "ratio" and spec.unit == "share"
    value = _EXAMPLE_SHARE if share else _EXAMPLE_NUMBERS[spec.type]
    if spec.maximum is not None:
        value = min(value, spec.maximum)
    if spec.minimum is not None:
        value = max(value, spec.minimum)
    return f"{value:.2f}" if spec.type == "money" else str(value)
