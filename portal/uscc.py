"""The 统一社会信用代码 (GB 32100-2015), checked in one place with python-stdnum's implementation.

Registration, forms, the bank API and the services all ask this module, so a code is valid
everywhere or nowhere. `InvalidUSCCError.reason` (length, checksum or format) lets a page say
what is wrong in the reader's language.
"""

from typing import Literal

from stdnum.cn import uscc as _stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

Reason = Literal["length", "checksum", "format"]


class InvalidUSCCError(ValueError):
    """Not a valid USCC; the message says what is wrong (length, characters or check digit)."""

    def __init__(self, message: str, reason: Reason) -> None:
        super().__init__(message)
        self.reason: Reason = reason


def validate_uscc(value: str) -> str:
    """The code in its canonical form (upper case, no spaces), or InvalidUSCCError."""
    try:
        return str(_stdnum_uscc.validate(value))
    except ValidationError as exc:
        reason: Reason = (
            "length"
            if isinstance(exc, InvalidLength)
            else "checksum"
            if isinstance(exc, InvalidChecksum)
            else "format"
        )
        raise InvalidUSCCError(f"统一社会信用代码 {value!r} is invalid: {exc}", reason) from exc


def is_valid_uscc(value: str) -> bool:
    """True for a valid code (for format checkers that want a yes or no)."""
    return bool(_stdnum_uscc.is_valid(value))
