"""Decision letters: plain values in, PDF/A-3b bytes out, plus the codes that verify them.

The engine is pure. Services build a `LetterData` from a stored decision, call
`render_letter`, and keep the bytes with their sha256; /verify looks letters up by the code
from `new_verification_code`.
"""

from portal.documents.capitals import rmb_capital
from portal.documents.decision_json import letter_json
from portal.documents.model import BenefitLine, LetterData, TraceLine
from portal.documents.render import render_letter, render_letter_html
from portal.documents.verification import new_verification_code, normalize_verification_code, qr_svg

__all__ = [
    "BenefitLine",
    "LetterData",
    "TraceLine",
    "letter_json",
    "new_verification_code",
    "normalize_verification_code",
    "qr_svg",
    "render_letter",
    "render_letter_html",
    "rmb_capital",
]
