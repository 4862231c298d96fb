"""Validation messages in the API's own words, for every field error an API answers with.

pydantic's stock phrases ("Field required", "Input should be greater than or equal to 1",
"Extra inputs are not permitted", "... instance of LoanFacts") read as a library's, not the
API's, and some name a Python class or print a regular expression. Each error type a request
can meet is worded here: what is wrong with the field, then what it should be, e.g.
"required: a whole number of months from 1 to 600". `expected` is the field's own
description; without one the message says what is wrong in general terms.
"""

from collections.abc import Mapping
from typing import Any

# By pydantic error type: what is wrong, in words (formatted with the error's `ctx`).
_WRONG = {
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "dataclass_type": "must be a JSON object",
    "dataclass_exact_type": "must be a JSON object",
    "is_instance_of": "has the wrong type",
    "is_subclass_of": "has the wrong type",
    "string_pattern_mismatch": "is not in the expected form",
    "string_type": "must be text",
    "string_too_short": "is too short (at least {min_length} characters)",
    "string_too_long": "is too long (at most {max_length} characters)",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number, without decimals",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "list_type": "must be a list",
    "date_type": "must be a date as YYYY-MM-DD",
    "date_parsing": "must be a date as YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date as YYYY-MM-DD",
    "none_required": "must be left out",
    "json_invalid": "is not valid JSON",
}


def plain_message(error: Mapping[str, Any], expected: str | None = None) -> str:
    """A validation error's message (an item of `ValidationError.errors()`) in plain words.

    `expected` describes the field ("a whole number of months from 1 to 600"); given, a value
    of the wrong type or range is told "must be <expected>", a missing one "required: <expected>".
    """
    kind = str(error.get("type", ""))
    if kind == "missing":
        return f"required: {expected}" if expected else "required"
    if kind == "extra_forbidden":
        loc = error.get("loc") or ()
        name = str(loc[-1]) if loc else "?"
        return f"unknown field `{name}`: not part of this request; leave it out"
    wrong = _WRONG.get(kind)
    if wrong is None:  # the API's own (custom) errors are already worded
        return str(error.get("msg", ""))
    if expected:
        return f"must be {expected}"
    try:
        return wrong.format(**{k: _shown(v) for k, v in (error.get("ctx") or {}).items()})
    except (KeyError, IndexError):
        return wrong.split(" {", 1)[0]


def _shown(value: object) -> str:
    return str(value).replace("'", "")
