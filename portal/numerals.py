"""How a number people type is read, decided once for every numeric input.

A Chinese input method types full-width digits (１２３４５, ５０．５, －３). NFKC folds them,
the full-width comma and the ideographic space to ASCII; the minus sign that spreadsheets and
word processors paste (−, U+2212) it leaves, so it is read as "-" here. The profile, the
self-check, application forms, scores and amounts thus read what people type the same way. Thousands may be
grouped by commas or spaces, in threes only (12,345 or １２，３４５); `12,34` might be a decimal
comma, `1e5` and `NaN` are no amounts, so those are refused rather than guessed at. What the
number may be (negative, whole, in range) is each field's own rule, checked after reading.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Final

_PLAIN: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_GROUPED: Final = re.compile(r"-?[0-9]{1,3}([, ][0-9]{3})+(\.[0-9]+)?")


def plain_number(text: str) -> str | None:
    """`text` as a plain ASCII decimal ("-12345.5"), or None when it is not a number."""
    folded = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")
    if _GROUPED.fullmatch(folded):
        folded = folded.replace(",", "").replace(" ", "")
    return folded if _PLAIN.fullmatch(folded) else None


def read_decimal(text: str) -> Decimal | None:
    """The exact number `text` stands for, or None when it is not one."""
    plain = plain_number(text)
    return None if plain is None else Decimal(plain)
