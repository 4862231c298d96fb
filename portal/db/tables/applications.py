"""Applications and everything hanging off one: answers, attachments, transitions."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKeyConstraint, Text, UniqueConstraint
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from portal.db.types import JsonDocument, UTCDateTime, utcnow


class Application(SQLModel, table=True):
    """One enterprise's case for one measure, carried through a workflow.

    `version` is SQLAlchemy's version counter: every ORM UPDATE runs `... WHERE version = <read>`
    and bumps it, so two sessions that read the same version cannot both write (the loser
    gets `sqlalchemy.orm.exc.StaleDataError`). Services compare the caller's
    `expected_version` first and never set `version` themselves.
    """

    __table_args__ = (
        # The profile snapshot must exist and belong to the same enterprise.
        ForeignKeyConstraint(
            ["enterprise_id", "profile_version"],
            ["enterprise_profile.enterprise_id", "enterprise_profile.version"],
            name="fk_application_profile_snapshot",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    measure_id: str = Field(index=True)
    rule_version: str
    workflow: str
    state: str = Field(index=True)
    version: int = 1
    profile_version: int | None = None
    answers_version: int | None = None
    # While returned for amendment: the review stage that asked, where resubmission goes back to.
    returned_from: str | None = None
    # Copied from the measure (bureau) and the enterprise (district) for jurisdiction queries.
    lead_unit: str = Field(index=True)
    district: str = Field(index=True)
    # The case's track (pack.yaml `tracks`): the answer of the form's `track_field` where it has
    # one, else the enterprise's registered track; what statistics, filters and exports count.
    track: str | None = Field(default=None, index=True)
    stage_entered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The stage deadline in working days, resolved to a date when the stage is entered.
    due_on: date | None = Field(default=None, index=True)
    sla_paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue: bool = False
    # The stage that was last escalated, so a sweep escalates each overdue stage once.
    escalated_for_stage: str | None = None
    eligibility_outcome: str | None = None
    eligibility_trace: dict[str, Any] | None = Field(default=None, sa_type=JsonDocument)
    rule_hash: str | None = None
    # 核定兑现金额 proposed by the lead unit before the decision, shown on the public notice and
    # copied onto the decision; NULL means the rule's computed amount.
    granted_amount: Decimal | None = Field(default=None, max_digits=18, decimal_places=2)
    granted_reason: str | None = Field(default=None, sa_type=Text)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The reviewer who has claimed (or been given) the case; NULL while it waits in the queue.
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class ApplicationAnswers(SQLModel, table=True):
    """One version of the form answers; resubmission adds a version, it never overwrites."""

    __tablename__ = "application_answers"
    __table_args__ = (UniqueConstraint("application_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    version: int
    answers: dict[str, Any] = Field(sa_type=JsonDocument)
    submitted: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")


class Attachment(SQLModel, table=True):
    """An uploaded file's metadata; the bytes live under PORTAL_DATA_DIR, named by sha256.

    Owned by the enterprise rather than one application, so a document is uploaded once and
    reused; the same bytes uploaded twice are one row.
    """

    __table_args__ = (UniqueConstraint("enterprise_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id")
    sha256: str = Field(max_length=64)
    size: int = Field(sa_type=BigInteger)
    content_type: str
    original_name: str
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApplicationAttachment(SQLModel, table=True):
    """Puts an attachment into one of a form's upload slots; a slot may hold several files."""

    __tablename__ = "application_attachment"
    __table_args__ = (UniqueConstraint("application_id", "slot", "attachment_id"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    attachment_id: int = Field(foreign_key="attachment.id", index=True)
    slot: str
    attached_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SubmittedAttachment(SQLModel, table=True):
    """Which file was in which slot at one submission, so a file later replaced or removed in an
    amendment stays on record. Append-only: written with the submission, never changed.

    `submission` counts the case's submissions (1 is the first, each resubmission adds one);
    `answers_version` is the answers it went with, which a resubmission that only changed files shares
    with the submission before it.
    """

    __tablename__ = "submitted_attachment"
    __table_args__ = (UniqueConstraint("application_id", "submission", "slot", "attachment_id"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    submission: int
    answers_version: int | None = None
    slot: str
    attachment_id: int = Field(foreign_key="attachment.id", index=True)
    submitted_at: datetime = Field(sa_type=UTCDateTime)


class Transition(SQLModel, table=True):
    """The case history shown to users; the tamper-evident record is `audit_event`."""

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    from_state: str
    to_state: str
    event: str
    # NULL for the system (the SLA sweep).
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    comment: str | None = Field(default=None, sa_type=Text)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A disbursing transition: the account the money was paid into, as it was then (the payment
    # notice prints it, whatever the enterprise's profile says later). NULL on every other
    # transition, and on disbursements recorded before it was kept.
    paid_bank_name: str | None = None
    paid_account_number: str | None = Field(default=None, max_length=30)
    # The transition that puts a case on public notice: the notice's formal number (公示编号),
    # taken as it opens. NULL on every other transition, and on notices opened before it was kept.
    notice_number: str | None = Field(default=None, unique=True, index=True)
