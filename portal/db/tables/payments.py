"""Payment batches (拨付批次): approved cases paid together, and the bank's return files.

A batch snapshots each line's payee, account and amount when the case joins it, so the file
sent to the bank and the file reconciled against are the same whatever changes later. A case
is in at most one open batch: the partial unique index over pending lines says so to the
database, whatever the service checked before.
"""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from portal.db.tables.base import one_of
from portal.db.types import JsonDocument, UTCDateTime, utcnow


class BatchStatus(StrEnum):
    OPEN = "open"  # being collected; lines may be added and removed
    SENT = "sent"  # the file went to the bank; waiting for its return file
    CLOSED = "closed"  # every line is settled (paid or failed)


class LineOutcome(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


class ReturnResult(StrEnum):
    """What a return-file line did: only `paid` and `failed` change anything."""

    PAID = "paid"
    FAILED = "failed"
    UNMATCHED = "unmatched"  # no pending line of the batch has this reference
    AMOUNT_MISMATCH = "amount_mismatch"
    SETTLED = "settled"  # the line was settled before (by an earlier file)
    CASE_MOVED = "case_moved"  # the case left the stage disbursement starts from


_PENDING = text("outcome = 'pending'")


class PaymentBatch(SQLModel, table=True):
    """One batch of one issuing unit; `version` guards concurrent edits of its lines and status."""

    __tablename__ = "payment_batch"
    __table_args__ = (one_of("status", [s.value for s in BatchStatus], name="status"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_unit: str = Field(index=True)
    status: str = BatchStatus.OPEN.value
    version: int = 1
    created_by: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_by: int | None = Field(default=None, foreign_key="user_account.id")
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PaymentLine(SQLModel, table=True):
    """One case in a batch, with what the payment file says about it."""

    __tablename__ = "payment_line"
    __table_args__ = (
        one_of("outcome", [o.value for o in LineOutcome], name="outcome"),
        UniqueConstraint("batch_id", "application_id", name="payment_line_batch_case"),
        Index(
            "payment_line_one_open_batch",
            "application_id",
            unique=True,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
        # A case's latest line (its last attempt to be paid) holds or frees its disbursement.
        Index("ix_payment_line_application_id_id", "application_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="payment_batch.id", index=True)
    application_id: int = Field(foreign_key="application.id")
    decision_id: int = Field(foreign_key="decision.id")
    payee_name: str
    uscc: str = Field(max_length=18)
    bank_name: str
    account_number: str = Field(max_length=30)
    amount: Decimal = Field(max_digits=18, decimal_places=2)
    outcome: str = LineOutcome.PENDING.value
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    bank_message: str | None = Field(default=None, sa_type=Text)
    added_by: int = Field(foreign_key="user_account.id")
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentReturn(SQLModel, table=True):
    """One imported bank return file; the same bytes imported again find this row and do nothing."""

    __tablename__ = "payment_return"
    __table_args__ = (UniqueConstraint("batch_id", "sha256", name="payment_return_batch_file"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="payment_batch.id", index=True)
    sha256: str = Field(max_length=64)
    file_name: str
    imported_by: int = Field(foreign_key="user_account.id")
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JsonDocument)


class PaymentReturnLine(SQLModel, table=True):
    """One line of a return file as read, and what it did (the follow-up list reads these)."""

    __tablename__ = "payment_return_line"
    __table_args__ = (one_of("result", [r.value for r in ReturnResult], name="result"),)

    id: int | None = Field(default=None, primary_key=True)
    return_id: int = Field(foreign_key="payment_return.id", index=True)
    line_no: int
    reference: str
    amount: Decimal = Field(max_digits=18, decimal_places=2)
    paid: bool
    bank_message: str | None = Field(default=None, sa_type=Text)
    result: str
    payment_line_id: int | None = Field(default=None, foreign_key="payment_line.id")
