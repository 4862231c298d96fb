"""Which characters no text the portal accepts may hold, decided once for every boundary.

The web's input guard (`portal.web.input_guard`), the CLI's inputs and upload names all use
these rules, so that a value refused at one door is refused at every door. NUL breaks
PostgreSQL text; other C0 controls and DEL have no place in text people type (tab, CR and LF
only where text spans lines); bidi embeddings, overrides and isolates make a name read
differently from what it is (`scan\\u202efdp.hta` shows as "scanath.pdf").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

_BIDI: Final = "\u202a-\u202e\u2066-\u2069"
SINGLE_LINE_BAD: Final = re.compile(rf"[\x00-\x1f\x7f{_BIDI}]")
MULTI_LINE_BAD: Final = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{_BIDI}]")
# Every bidi formatting character, the implicit marks included: none belongs in a file name.
_BIDI_FORMATTING: Final = re.compile(rf"[{_BIDI}\u200e\u200f\u061c]")


def first_refused(items: Iterable[tuple[str, object]], *, multi_line: bool) -> str | None:
    """The name of the first field whose name or text value holds a refused character."""
    pattern = MULTI_LINE_BAD if multi_line else SINGLE_LINE_BAD
    for name, value in items:
        if SINGLE_LINE_BAD.search(name):
            return "(field name)"
        if isinstance(value, str) and pattern.search(value):
            return name
    return None


def without_bidi(text: str) -> str:
    """`text` with every bidi formatting character removed, so it reads as it is stored."""
    return _BIDI_FORMATTING.sub("", text)
