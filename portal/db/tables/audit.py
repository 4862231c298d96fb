"""The audit log: append-only and hash-chained (the logic is in `portal.db.audit`)."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Text
from sqlmodel import Field, SQLModel

from portal.db.types import JsonDocument, UTCDateTime, utcnow


class ChainedRow(SQLModel):
    """Columns of a hash-chained log: a gap-free sequence and the link hashes.

    `seq` is assigned by the appender (last + 1 under a lock), not by a database sequence,
    because sequences leave gaps on rollback and a gap must mean a deleted row.
    """

    seq: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditEvent(ChainedRow, table=True):
    """Who did what to which subject, when. The database refuses UPDATE and DELETE here.

    `actor_id` is a user id for the user roles, a bank id for role `bank`, and NULL for
    `system`; it has no foreign key so that the log never blocks, nor depends on, other rows.
    """

    __tablename__ = "audit_event"

    actor_id: int | None = None
    actor_role: str
    subject_type: str = Field(index=True)
    subject_id: str = Field(index=True)
    event: str
    from_state: str | None = None
    to_state: str | None = None
    comment: str | None = Field(default=None, sa_type=Text)
    payload: dict[str, Any] | None = Field(default=None, sa_type=JsonDocument)
    payload_hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement of each chain's head at one moment (append-only, like the chains).

    Published at `/audit/checkpoints/latest` and exportable, so a copy outside the database can
    later prove that no row up to the checkpoint was removed or rewritten.
    """

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    document: dict[str, Any] = Field(sa_type=JsonDocument)
