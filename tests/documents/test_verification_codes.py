"""Verification codes: entropy, alphabet, grouping, and reading back what people type."""

import math

import pytest

from portal.documents import new_verification_code
from portal.documents.verification import (
    CODE_SYMBOLS,
    CROCKFORD_ALPHABET,
    normalize_verification_code,
    qr_svg,
)


def test_codes_carry_at_least_80_bits() -> None:
    assert len(set(CROCKFORD_ALPHABET)) == 32
    assert CODE_SYMBOLS * math.log2(len(CROCKFORD_ALPHABET)) >= 80


def test_codes_are_grouped_crockford_symbols_and_do_not_repeat() -> None:
    codes = {new_verification_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        groups = code.split("-")
        assert [len(group) for group in groups] == [5, 5, 5, 5]
        assert set("".join(groups)) <= set(CROCKFORD_ALPHABET)
        assert not set("ILOU") & set(code)


def test_every_symbol_is_used() -> None:
    # A biased generator (say, digits only) would still pass the format test above.
    seen = set("".join(new_verification_code().replace("-", "") for _ in range(200)))
    assert seen == set(CROCKFORD_ALPHABET)


def test_typed_codes_are_read_back_to_the_canonical_form() -> None:
    assert normalize_verification_code(" 7kq3h 9xw2m-c0v4d-rt8nb ") == "7KQ3H-9XW2M-C0V4D-RT8NB"
    # Look-alikes: I and L read as 1, O as 0.
    assert normalize_verification_code("ILO00-00000-00000-00000") == "11000-00000-00000-00000"


@pytest.mark.parametrize(
    "text",
    ["", "7KQ3H-9XW2M-C0V4D", "7KQ3H-9XW2M-C0V4D-RT8NBX", "7KQ3H-9XW2M-C0V4D-RT8NU", "../../etc/passwd"],
)
def test_anything_else_is_not_a_code(text: str) -> None:
    with pytest.raises(ValueError, match="not a verification code"):
        normalize_verification_code(text)


def test_qr_svg_is_a_standalone_svg_document() -> None:
    svg = qr_svg("https://zcdx.gz.example/verify/7KQ3H-9XW2M-C0V4D-RT8NB")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "<path" in svg
    assert qr_svg("https://zcdx.gz.example/verify/other") != svg
