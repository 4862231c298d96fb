"""What a measure gives, as people read it: 50%, 20 万元 / ¥200,000, 最高 … / up to ….

Babel's patterns and locales are parsed once here (parsing them per call costs three times the
formatting itself, docs/performance.md); the catalogue formats a few amounts per measure per page.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

from portal.locales import BABEL_LOCALES

_LOCALES: Final = {lang: Locale.parse(code) for lang, code in BABEL_LOCALES.items()}
_NUMBER: Final[NumberPattern] = parse_pattern("#,##0.##")
_PERCENT: Final[NumberPattern] = parse_pattern("#,##0.##%")
_WAN: Final = Decimal(10_000)


def amount_text(amount: Decimal, kind: str, lang: str) -> str:
    """A ratio in %, money in 万元/元 (zh) or ¥ (en), anything else as a plain number."""
    locale = _LOCALES.get(lang, _LOCALES["zh"])
    if kind == "ratio":
        return str(_PERCENT.apply(amount, locale))
    if kind == "money" and lang == "zh":
        if abs(amount) >= _WAN:
            return f"{_NUMBER.apply(amount / _WAN, locale)} 万元"
        return f"{_NUMBER.apply(amount, locale)} 元"
    if kind == "money":
        return f"¥{_NUMBER.apply(amount, locale)}"
    return str(_NUMBER.apply(amount, locale))
