"""Decision letters: plain values in, PDF/A-3b bytes out, plus the codes that verify them.

The engine is pure. Build a `LetterData` (with `BenefitLine`s and `TraceLine`s), call
`render_letter` for the PDF bytes (or `render_letter_html` to inspect the wording), and keep
the bytes with their sha256; /verify looks letters up by the code from `new_verification_code`.
Rendering reaches nothing outside the package: `AssetOnlyFetcher` serves `data:` URLs and the
packaged assets and refuses every other URL.

The renderer and its fetcher load WeasyPrint (about a second) on first use, not on import, so
code that only builds letters or makes codes stays quick to start.
"""

import importlib
from typing import TYPE_CHECKING

from portal.documents.model import BenefitLine, LetterData, PaymentNotice, TraceLine
from portal.documents.verification import new_verification_code

if TYPE_CHECKING:
    from portal.documents.fetcher import AssetOnlyFetcher
    from portal.documents.render import render_letter, render_letter_html

__all__ = [
    "AssetOnlyFetcher",
    "BenefitLine",
    "LetterData",
    "PaymentNotice",
    "TraceLine",
    "new_verification_code",
    "render_letter",
    "render_letter_html",
]

_ON_FIRST_USE = {
    "AssetOnlyFetcher": "portal.documents.fetcher",
    "render_letter": "portal.documents.render",
    "render_letter_html": "portal.documents.render",
}

if not TYPE_CHECKING:  # type checkers see the imports above; an unknown name stays an error for them

    def __getattr__(name: str) -> object:
        module = _ON_FIRST_USE.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
