"""Locale formatting for letters: dates, yuan, ratios and plain numbers, through Babel.

Chinese letters follow GB/T 9704-2012 for dates (Arabic numerals with 年月日, e.g.
2026年11月27日) and zh_CN conventions for money (¥1,000,000.00); English letters use
Babel's `en` patterns, where the yuan sign reads CN¥ so it cannot be taken for yen.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import format_currency, format_decimal, format_percent

from portal.documents.model import BenefitKind, Language
from portal.locales import BABEL_LOCALES, long_date


def format_date(day: date, lang: Language) -> str:
    """2026年11月27日 in Chinese, November 27, 2026 in English."""
    return long_date(day, lang)


def format_amount(amount: Decimal, kind: BenefitKind, lang: Language) -> str:
    """A benefit value in figures: yuan with two decimals, a ratio as a percentage, or a number."""
    locale = BABEL_LOCALES[lang]
    text: str
    if kind == "money":
        text = format_currency(amount, "CNY", locale=locale)
    elif kind == "ratio":
        # Ratios are fractions in the rule files (0.5 means 50 %); show up to two decimals of a percent.
        text = format_percent(amount, format="#,##0.##%", locale=locale)
    else:
        text = format_decimal(amount, locale=locale)
    return text
