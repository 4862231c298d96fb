"""The 统一社会信用代码 (GB 32100-2015), checked with python-stdnum's maintained implementation."""

from stdnum.cn import uscc as _stdnum_uscc
from stdnum.exceptions import ValidationError


class InvalidUSCCError(ValueError):
    """Not a valid USCC; the message says what is wrong (length, characters or check digit)."""


def validate_uscc(value: str) -> str:
    """The code in its canonical form (upper case, no spaces), or InvalidUSCCError."""
    try:
        return str(_stdnum_uscc.validate(value))
    except ValidationError as exc:
        raise InvalidUSCCError(f"统一社会信用代码 {value!r} is invalid: {exc}") from exc
