"""Language choice, the zh/en message catalogue and locale-aware formatting.

zh-CN is the default; English is chosen with the `lang` cookie (set by /lang/{code}). Numbers,
money, dates and months go through Babel so that 1234567.5 reads 1,234,567.50, a date reads
2026年6月1日 or June 1, 2026 and a month 2026年6月 or June 2026, the way each audience expects.
An instant (a date and a time) needs the pack's time zone, so the clock says it (`Clock.in_words`;
`local_time` in templates).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Final

from babel.numbers import format_decimal
from starlette.requests import HTTPConnection
from starlette.responses import Response

from portal.locales import BABEL_LOCALES, long_date, long_month, money
from portal.messages import Lang, catalogue, normalise_lang
from portal.rules.display import format_threshold

LANG_COOKIE: Final = "lang"
# Media types of stored files to the word for their kind (`file.kind.<kind>` in the catalogue).
_FILE_KINDS: Final = {
    "application/pdf": "pdf",
    "image/jpeg": "image",
    "image/png": "image",
    "application/ofd": "ofd",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/csv": "csv",
}


def request_lang(conn: HTTPConnection) -> Lang:
    """The language of this request: the `lang` cookie, else zh."""
    return normalise_lang(conn.cookies.get(LANG_COOKIE))


class Translator:
    """`t("key", name=...)` in templates; unknown keys raise so a typo fails the tests, not users."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang
        self.locale = BABEL_LOCALES[lang]

    def __call__(self, key: str, **params: object) -> str:
        text = catalogue()[key][self.lang]
        return text.format(**params) if params else text

    def label_or(self, key: str, fallback: str) -> str:
        """For optional labels such as enum values: the catalogue text if there is one."""
        texts = catalogue().get(key)
        return texts[self.lang] if texts is not None else fallback

    def money(self, value: Decimal | int | str | None) -> str:
        if value is None:
            return ""
        return money(Decimal(value), self.lang)

    def number(self, value: Decimal | int | str | None) -> str:
        if value is None:
            return ""
        return str(format_decimal(Decimal(value), locale=self.locale, decimal_quantization=False))

    def percent(self, value: Decimal | str | None) -> str:
        if value is None:
            return ""
        return format_threshold(Decimal(value), "ratio", self.lang)

    def date(self, value: dt.date | str | None) -> str:
        if value is None:
            return ""
        day = dt.date.fromisoformat(value) if isinstance(value, str) else value
        return long_date(day, self.lang)

    def month(self, value: dt.date | str) -> str:
        """A month (a date in it, or YYYY-MM as the dashboard groups by) as 2026年10月 / October 2026."""
        day = dt.date.fromisoformat(f"{value}-01") if isinstance(value, str) else value
        return long_month(day, self.lang)

    def file(self, content_type: str, size: int) -> str:
        """A stored file's kind and size as people read them ("PDF 文件 · 1.2 MB"), never a MIME type."""
        kind = self(f"file.kind.{_FILE_KINDS.get(content_type, 'other')}")
        shown = f"{size} B"
        for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
            if size >= scale:
                shown = f"{self.number((Decimal(size) / scale).quantize(Decimal('0.1')))} {unit}"
                break
        return self("file.kind_size", kind=kind, size=shown)


def remember_language(request: HTTPConnection, response: Response, lang: str) -> None:
    """Keep `lang` for this browser for a year (the cookie every page reads)."""
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.https,
    )
