"""Column types shared by the tables: UTC timestamps and JSON documents; exact sums of money.

Both hide a difference between SQLite and PostgreSQL so that the rest of the code, and the
hash chains, see the same Python values on either database.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

from portal.clock import Clock
from portal.db.canonical import JsonValue, to_jsonable

_UTC_CLOCK = Clock(UTC)


def utcnow() -> datetime:
    """A column's fallback stamp, in UTC, read from the one clock (services stamp rows with
    `Portal.now()`, which a test can pin; pages show times in the pack's time zone)."""
    return _UTC_CLOCK.now()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that always comes back as an aware UTC datetime.

    SQLite has no time-zone type and would hand back naive values; PostgreSQL hands back the
    session's zone. Naive input is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store aware datetimes (UTC)")
        value = value.astimezone(UTC)
        # SQLite's DATETIME text format has no offset; the value is UTC by the rule above.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JsonDocument(TypeDecorator[JsonValue]):
    """JSON on SQLite, JSONB on PostgreSQL; Decimals and dates are stored as strings."""

    # SQL NULL for None, so that "no trace yet" is distinguishable from a stored JSON null.
    impl = JSON(none_as_null=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(JSON(none_as_null=True))

    def process_bind_param(self, value: object, dialect: Dialect) -> JsonValue:
        return to_jsonable(value)


def money_sum(value: Any) -> Decimal:
    """A SUM of money as exact yuan: SQLite hands back an int or text, PostgreSQL a Decimal."""
    return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.01"))
