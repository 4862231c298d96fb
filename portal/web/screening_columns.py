"""The screening file's columns as a person reads them: the header to type, what it means, how to write it.

The header is the one place a fact's name is shown: it is what the file must carry. Everything
else is in words, and an enumeration lists each accepted value with its label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portal.rules.facts import FactDictionary, FactSpec
from portal.screening.inputs import RATIO_SCALE, column_name
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
