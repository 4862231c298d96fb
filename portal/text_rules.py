"""Which characters no text the portal accepts may hold, decided once for every boundary.

The web's input guard (`portal.web.input_guard`), the CLI's inputs and upload names all use
these rules, so that a value refused at one door is refused at every door. NUL breaks
PostgreSQL text; other C0 controls and DEL have no place in text people type (tab, CR and LF
only where text spans lines); bidi embeddings, overrides and isolates make a name read
differently from what it is (`scan\\u202efdp.hta` shows as "scanath.pdf").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Final

_BIDI: Final = "\u202a-\u202e\u2066-\u2069"
SINGLE_LINE_BAD: Final = re.compile(rf"[\x00-\x1f\x7f{_BIDI}]")
MULTI_LINE_BAD: Final = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{_BIDI}]")
# Every bidi formatting character, the implicit marks included: none belongs in a file name.
_BIDI_FORMATTING: Final = re.compile(rf"[{_BIDI}\u200e\u200f\u061c]")


# A JSON string escape of a refused character (tab, LF and CR stay allowed, as in multi-line text).
# It begins with a literal backslash-u, so the regex engine jumps from candidate to candidate
# instead of trying every position, which took 40 µs on a 1.5 KB body.
_ESCAPED_REFUSED: Final = re.compile(r"\\u(?:00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])|202[a-eA-E]|206[6-9])")


def escapes_refused(json_text: str) -> bool:
    """Whether JSON text escapes a refused character (raw controls are not valid JSON).

    A candidate counts only when its backslash is not itself escaped: an even run of
    backslashes before it.
    """
    for match in _ESCAPED_REFUSED.finditer(json_text):
        start = before = match.start()
        while before and json_text[before - 1] == "\\":
            before -= 1
        if (start - before) % 2 == 0:
            return True
    return False


def first_refused(items: Iterable[tuple[str, object]], *, multi_line: bool) -> str | None:
    """The name of the first field whose name or text value holds a refused character."""
    pattern = MULTI_LINE_BAD if multi_line else SINGLE_LINE_BAD
    for name, value in items:
        if SINGLE_LINE_BAD.search(name):
            return "(field name)"
        if isinstance(value, str) and pattern.search(value):
            return name
    return None


def escaped(text: str) -> str:
    """`text` with each refused character written as an escape, safe to print in a message."""
    return SINGLE_LINE_BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def without_bidi(text: str) -> str:
    """`text` with every bidi formatting character removed, so it reads as it is stored."""
    return _BIDI_FORMATTING.sub("", text)


def first_refused_member(document: object) -> str | None:
    """The dotted path of the first refused string (a key or a value) in a JSON-like document."""
    for path, value in _strings(document, ""):
        if MULTI_LINE_BAD.search(value):
            return path or "(document)"
    return None


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if SINGLE_LINE_BAD.search(str(key)):
                yield child, str(key)
            yield from _strings(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


_EMAIL: Final = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}")


def is_email_address(text: str) -> bool:
    """Whether `text` has an e-mail address's shape (name@domain.tld), at most 254 characters.

    Every form that takes an address uses this one test, so a typo is refused where it is typed,
    at once with the form's other problems, not found out when the mail bounces.
    """
    return len(text) <= 254 and _EMAIL.fullmatch(text) is not None
