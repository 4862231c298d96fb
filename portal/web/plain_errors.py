"""Validation messages in plain words, for every field error an API answers with.

pydantic's own messages are mostly plain ("Field required", "Input should be a valid
integer"), but a few name a Python class ("... instance of LoanFacts") or print a regular
expression; a client should read what is wrong, not how the portal is built.
"""

from collections.abc import Mapping
from typing import Any

# By pydantic error type: the messages that would name a class or print a pattern.
_PLAIN_MESSAGES = {
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "dataclass_type": "must be a JSON object",
    "dataclass_exact_type": "must be a JSON object",
    "is_instance_of": "has the wrong type",
    "is_subclass_of": "has the wrong type",
    "string_pattern_mismatch": "is not in the expected form",
}


def plain_message(error: Mapping[str, Any]) -> str:
    """A validation error's message (an item of `ValidationError.errors()`) in plain words."""
    return _PLAIN_MESSAGES.get(str(error.get("type", "")), str(error.get("msg", "")))
