"""The one map from the portal's two languages to Babel locales, for pages, letters and hints.

A date in words is written here once (2026年11月27日 / November 27, 2026), so a page, a letter
and a form's field message say the same day the same way; an instant is that date and the time
to the minute (2026年11月27日 12:00 / November 27, 2026, 12:00), and a month that date's year
and month (2026年11月 / November 2026).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from babel import Locale
from babel.dates import DateTimePattern, parse_pattern
from babel.numbers import format_currency
from babel.numbers import parse_pattern as parse_number_pattern

BABEL_LOCALES: Final[Mapping[str, str]] = {"zh": "zh_Hans_CN", "en": "en_US"}

YUAN_EN: Final = "CNY "
"""What English writes before every amount (CNY 3,000,000.00, a hint's CNY 5,000,000): the ISO
code, since a bare ¥ could be yen and Babel's own CN¥ is not how English documents write it."""


@dataclass(frozen=True, slots=True)
class _Patterns:
    """One language's locale and patterns, parsed once: Babel's `format_date` and friends parse
    the locale and the pattern on every call, a measured hotspot of pages with long tables."""

    locale: Locale
    day: DateTimePattern
    month: DateTimePattern
    moment: DateTimePattern

    @classmethod
    def of(cls, code: str) -> "_Patterns":
        locale = Locale.parse(code)
        day = locale.date_formats["long"]
        # The locale's own glue of a long date and a time ("{1} {0}", "{1}, {0}") around its
        # 24-hour hours and minutes (the `Hm` skeleton), so the date part is `day` exactly.
        glue = str(locale.datetime_formats["long"])
        moment = glue.replace("{1}", day.pattern).replace("{0}", locale.datetime_skeletons["Hm"].pattern)
        return cls(locale, day, locale.datetime_skeletons["yMMMM"], parse_pattern(moment))


_PATTERNS: Final[Mapping[str, _Patterns]] = {lang: _Patterns.of(code) for lang, code in BABEL_LOCALES.items()}


def _patterns(lang: str) -> _Patterns:
    return _PATTERNS["en" if lang == "en" else "zh"]


def long_date(day: date, lang: str) -> str:
    """2026年11月27日 in Chinese, November 27, 2026 in English (any other `lang` reads as zh)."""
    found = _patterns(lang)
    return found.day.apply(day, found.locale)


def long_date_time(moment: datetime, lang: str) -> str:
    """A wall-clock time as its long date and the time to the minute: 2026年11月27日 12:00,
    November 27, 2026, 12:00. It prints `moment`'s own fields: convert to local time first
    (`Clock.in_words` does both)."""
    found = _patterns(lang)
    return found.moment.apply(moment, found.locale)


def long_month(month: date, lang: str) -> str:
    """The month of `month` in words: 2026年11月, November 2026."""
    found = _patterns(lang)
    return found.month.apply(month, found.locale)


_AMOUNT: Final = parse_number_pattern("#,##0.00")


def money(amount: Decimal, lang: str) -> str:
    """An amount in yuan to the fen, as pages, exports and letters write it: ¥3,000,000.00 in
    Chinese, CNY 3,000,000.00 in English (the fen shown in both, whole amounts too). The locale
    and the pattern are the ones parsed once, as for dates."""
    found = _patterns(lang)
    if lang == "en":
        return YUAN_EN + str(_AMOUNT.apply(amount, found.locale))
    return str(format_currency(amount, "CNY", locale=found.locale))
