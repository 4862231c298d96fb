"""Verification codes and the QR code that carries a letter's /verify URL.

A code is read aloud over the phone and typed from paper, so it uses Crockford's base32:
no I, L, O or U, case-insensitive, and the look-alikes a person may type (i, l → 1; o → 0)
are read as what was meant. Twenty symbols carry 100 bits from `secrets`, above the 80 the
issue asks for, so a code cannot be guessed by walking /verify. Groups of five keep it
readable: 7KQ3H-9XW2M-C0V4D-RT8NB.
"""

from __future__ import annotations

import io
import secrets

import segno

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_SYMBOLS = 20
GROUP = 5
# Quiet zone in modules around the symbol; the letter leaves white space beyond it too.
QR_BORDER = 2
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_verification_code() -> str:
    """A fresh code with 100 bits of entropy, in its canonical grouped form."""
    return _group("".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(CODE_SYMBOLS)))


def normalize_verification_code(text: str) -> str:
    """The canonical grouped form of a code a person typed or scanned.

    Case, spaces and hyphens do not matter; I/L/O are read as 1/1/0. Raises ValueError for
    anything that cannot be a code, so /verify can answer a plain "not found" without a lookup.
    """
    compact = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    if len(compact) != CODE_SYMBOLS or any(symbol not in CROCKFORD_ALPHABET for symbol in compact):
        raise ValueError("not a verification code")
    return _group(compact)


def qr_svg(url: str) -> str:
    """A standalone SVG document (with its namespace, so it works as a data: URI) encoding `url`.

    For web pages. Letters print `qr_png` instead: WeasyPrint draws an SVG path in Python one
    segment at a time, which made the QR code the costliest single item of a letter.
    """
    out = io.BytesIO()
    _qr(url).save(out, kind="svg", xmldecl=False, scale=4, border=QR_BORDER)
    return out.getvalue().decode("utf-8")


def qr_png(url: str) -> bytes:
    """The same symbol as `qr_svg` as a PNG with one pixel per module, for printing.

    The letter scales it up with `image-rendering: pixelated`, which keeps every module a sharp
    square and writes /Interpolate false, as PDF/A requires of images.
    """
    out = io.BytesIO()
    _qr(url).save(out, kind="png", scale=1, border=QR_BORDER)
    return out.getvalue()


def _qr(url: str) -> segno.QRCode:
    # Medium error correction, so that a creased or stamped print still scans.
    return segno.make(url, error="m", micro=False)


def _group(compact: str) -> str:
    return "-".join(compact[start : start + GROUP] for start in range(0, len(compact), GROUP))
