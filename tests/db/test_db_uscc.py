"""The USCC validator that registration and the bank API call before touching the database."""

import pytest

from portal.uscc import InvalidUSCCError, validate_uscc

VALID = "91350100M000100Y43"


def test_a_valid_code_is_returned_in_canonical_form() -> None:
    assert validate_uscc(VALID) == VALID
    assert validate_uscc(f" {VALID.lower()} ") == VALID


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (VALID[:-1] + "4", "check digit"),  # the same code with its last character changed
        (VALID[:-1], "length"),
        ("91350100M000100YI3", "format"),  # I is not in the GB 32100 alphabet
    ],
)
def test_invalid_codes_say_why(code: str, reason: str) -> None:
    with pytest.raises(InvalidUSCCError, match=reason) as raised:
        validate_uscc(code)
    assert code in str(raised.value)
