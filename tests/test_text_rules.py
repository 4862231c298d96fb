"""The JSON-escape check agrees with decoding the body and searching the decoded strings."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.text_rules import MULTI_LINE_BAD, escapes_refused

_TEXT = st.text(
    alphabet=st.sampled_from(
        ["a", "u", "0", "2", "e", "\\", '"', "\t", "\n", "\x00", "\x1f", "\x7f", "\u202e", "\u2066", "政"]
    ),
    max_size=12,
)
_DOCUMENTS = st.recursive(
    _TEXT | st.integers(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


def _strings(document: object) -> list[str]:
    if isinstance(document, str):
        return [document]
    if isinstance(document, list):
        return [s for item in document for s in _strings(item)]
    if isinstance(document, dict):
        return [s for key, value in document.items() for s in (key, *_strings(value))]
    return []


@settings(max_examples=400, deadline=None)
@given(_DOCUMENTS, st.booleans())
def test_the_body_check_finds_exactly_the_refused_strings(document: object, ascii_only: bool) -> None:
    text = json.dumps(document, ensure_ascii=ascii_only)
    expected = any(MULTI_LINE_BAD.search(s) for s in _strings(document))
    assert bool(MULTI_LINE_BAD.search(text) or escapes_refused(text)) == expected


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ('"\\u0000"', True),
        ('"\\u202E"', True),  # escapes may be upper case
        ('"\\\\u0000"', False),  # an escaped backslash, then the letters u0000
        ('"\\\\\\u0000"', True),
        ('"\\u0009\\u000a\\u000D"', False),  # tab and line breaks are allowed in bodies
        ('"\\u4e2d"', False),
    ],
)
def test_escape_edges(text: str, refused: bool) -> None:
    assert escapes_refused(text) is refused
