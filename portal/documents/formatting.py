"""Locale formatting for letters: yuan and plain numbers through Babel, ratios as pages write them.

Letters write money as pages do (`portal.locales.money`: ¥1,000,000.00, CNY 1,000,000.00). Dates are
`portal.locales.long_date`, as on pages: GB/T 9704-2012's Arabic numerals with 年月日
(2026年11月27日) in Chinese.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal

from portal.documents.model import BenefitKind, Language
from portal.locales import BABEL_LOCALES, money
from portal.rules.display import format_threshold


def format_amount(amount: Decimal, kind: BenefitKind, lang: Language) -> str:
    """A benefit value in figures: yuan with two decimals, a ratio as a percentage, or a number."""
    locale = BABEL_LOCALES[lang]
    text: str
    if kind == "money":
        text = money(amount, lang)
    elif kind == "ratio":  # a fraction in the rule files (0.5 means 50 %), as every page writes it
        text = format_threshold(amount, "ratio", lang)
    else:
        text = format_decimal(amount, locale=locale)
    return text
