"""Outcomes: public-notice objections, decisions, and the immutable letters that carry them."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, LargeBinary, Text
from sqlmodel import Field, SQLModel

from portal.db.tables.base import DecisionOutcome, LetterKind, one_of
from portal.db.types import JsonDocument, UTCDateTime, utcnow


class Objection(SQLModel, table=True):
    """An objection raised during public notice (公示); `sustained` is NULL until decided."""

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    text: str = Field(sa_type=Text)
    filed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # NULL when filed anonymously through the public notice page.
    filed_by: int | None = Field(default=None, foreign_key="user_account.id")
    sustained: bool | None = None
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_comment: str | None = Field(default=None, sa_type=Text)
    # Who objected, as typed on the public notice page; `objector_email` is where the outcome goes.
    objector_name: str | None = None
    objector_contact: str | None = None
    objector_email: str | None = None
    # The language of the page they objected on: the outcome is e-mailed in it.
    objector_lang: str | None = None
    # An optional supporting file, stored content-addressed like applicants' uploads.
    attachment_sha256: str | None = Field(default=None, max_length=64)
    attachment_name: str | None = None
    attachment_content_type: str | None = None
    attachment_size: int | None = Field(default=None, sa_type=BigInteger)

    @property
    def reference(self) -> str:
        """The number an objector quotes when asking after their objection (受理编号)."""
        return f"YY-{self.id:06d}"


class Decision(SQLModel, table=True):
    """The final outcome of an application: one per application, never rewritten.

    A correction does not change the decision; it issues a new letter that supersedes the
    old one. Disbursement is a further letter on the same decision.
    """

    __table_args__ = (one_of("outcome", [o.value for o in DecisionOutcome], name="outcome"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", unique=True)
    outcome: str
    benefit: dict[str, Any] | None = Field(default=None, sa_type=JsonDocument)
    reasons: str | None = Field(default=None, sa_type=Text)
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    rule_hash: str | None = None
    trace: dict[str, Any] | None = Field(default=None, sa_type=JsonDocument)
    # 核定兑现金额: the money granted, at or below the rule's computed amount; the reason when lower.
    granted_amount: Decimal | None = Field(default=None, max_digits=18, decimal_places=2)
    granted_reason: str | None = Field(default=None, sa_type=Text)


class Letter(SQLModel, table=True):
    """A rendered decision letter. The database refuses UPDATE and DELETE on this table."""

    __table_args__ = (one_of("kind", [k.value for k in LetterKind], name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    kind: str
    lang: str
    doc_number: str = Field(unique=True)
    pdf: bytes = Field(sa_type=LargeBinary)
    sha256: str = Field(max_length=64, index=True)
    verification_code: str = Field(unique=True)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    issued_by: int | None = Field(default=None, foreign_key="user_account.id")
    supersedes_id: int | None = Field(default=None, foreign_key="letter.id")


class DocNumberCounter(SQLModel, table=True):
    """The last document number (发文字号) used per issuing unit and year.

    Services take the next number with `UPDATE ... SET last = last + 1` inside the letter's
    transaction, so numbers have no gaps and no duplicates.
    """

    __tablename__ = "doc_number_counter"

    unit: str = Field(primary_key=True)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0
