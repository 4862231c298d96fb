"""One JSON form for stored documents and hashed content.

The hash chains must give the same digest before and after a database round trip, on SQLite
and on PostgreSQL (whose JSONB reorders keys). So values are normalised once, on the way in:
Decimals become strings (money is never a float), dates become ISO text, keys are sorted.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TypeAlias, cast

JsonValue: TypeAlias = bool | int | str | list["JsonValue"] | dict[str, "JsonValue"] | None


class NotStorableError(TypeError):
    """A value that has no exact JSON form (a float, a non-string key, an arbitrary object)."""


def to_jsonable(value: object) -> JsonValue:
    """Convert `value` into plain JSON values, refusing anything that would lose exactness."""
    # Exact types first, the bulk of every document: the isinstance checks below (one against an
    # ABC) cost several times more, and a hashed audit row goes through here three times.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return cast(JsonValue, value)
    if kind is dict:
        return _object(cast(dict[object, object], value))
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotStorableError(f"cannot store the non-finite Decimal {value}")
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        # A float in a stored document means money or a ratio lost its exactness upstream.
        raise NotStorableError(f"cannot store the float {value!r}; use decimal.Decimal")
    if isinstance(value, Mapping):
        return _object(value)
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    raise NotStorableError(f"cannot store a {type(value).__name__} as JSON")


def _object(value: Mapping[object, object]) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise NotStorableError(f"JSON object keys must be strings, got {key!r}")
        out[key] = to_jsonable(item)
    return out


# One encoder for every call: json.dumps builds a new one whenever it is given options.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: object) -> str:
    """Compact, key-sorted JSON: the text that is hashed."""
    return _CANONICAL.encode(to_jsonable(value))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
