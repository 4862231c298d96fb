"""What a measure gives, as people read it: 50%, 20万元 / CNY 200,000, 最高 … / up to ….

Money and counts are written by the rule engine's own formatter (`portal.rules.display`), so a
catalogue card, a screening hit and a check's hint say the same amount the same way. Ratios keep
their plain percent here (50%, not the hints' 50.0%, whose fixed decimal tells a failing value
from its threshold). Babel's percent pattern is parsed once (parsing it per call costs three times
the formatting itself, docs/performance.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

from portal.locales import BABEL_LOCALES
from portal.rules.display import format_threshold

_LOCALES: Final = {lang: Locale.parse(code) for lang, code in BABEL_LOCALES.items()}
_PERCENT: Final[NumberPattern] = parse_pattern("#,##0.##%")


def amount_text(amount: Decimal, kind: str, lang: str) -> str:
    """A ratio in %, money as the hints write it (20万元 / 5,000元, CNY 200,000), else a number."""
    if kind == "ratio":
        return str(_PERCENT.apply(amount, _LOCALES.get(lang, _LOCALES["zh"])))
    return format_threshold(amount, kind, lang)
