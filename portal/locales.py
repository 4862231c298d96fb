"""The one map from the portal's two languages to Babel locales, for pages, letters and hints.

A date in words is written here once (2026年11月27日 / November 27, 2026), so a page, a letter
and a form's field message say the same day the same way.
"""

from collections.abc import Mapping
from datetime import date
from typing import Final

from babel import Locale
from babel.dates import format_date

BABEL_LOCALES: Final[Mapping[str, str]] = {"zh": "zh_Hans_CN", "en": "en_US"}
# Parsed once: Locale.parse reads Babel's data files, which format_date would redo per call.
_LOCALES: Final[Mapping[str, Locale]] = {lang: Locale.parse(code) for lang, code in BABEL_LOCALES.items()}


def long_date(day: date, lang: str) -> str:
    """2026年11月27日 in Chinese, November 27, 2026 in English (any other `lang` reads as zh)."""
    return str(format_date(day, format="long", locale=_LOCALES["en" if lang == "en" else "zh"]))
