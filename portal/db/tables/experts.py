"""Expert review: declared conflicts of interest, assignments with declarations, scores."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.db.types import JsonDocument, UTCDateTime, utcnow


class ExpertConflict(SQLModel, table=True):
    """A known relationship that bars an expert: with one enterprise, or with an employer."""

    __tablename__ = "expert_conflict"
    __table_args__ = (
        CheckConstraint("enterprise_id IS NOT NULL OR employer IS NOT NULL", name="names_a_party"),
    )

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="user_account.id", index=True)
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id")
    employer: str | None = None
    note: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ExpertAssignment(SQLModel, table=True):
    """An expert on a case. Documents stay hidden until `declared_at` is set.

    A conflict found later sets `conflicted` and `excluded_at`; the row stays, and the
    score is left out of the consensus.
    """

    __tablename__ = "expert_assignment"
    __table_args__ = (UniqueConstraint("application_id", "expert_id"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    expert_id: int = Field(foreign_key="user_account.id", index=True)
    assigned_by: int | None = Field(default=None, foreign_key="user_account.id")
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    declared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    declaration_text: str | None = Field(default=None, sa_type=Text)
    conflicted: bool = False
    excluded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, sa_type=Text)


class ExpertScore(SQLModel, table=True):
    """One expert's rubric scores (per criterion) and their weighted total."""

    __tablename__ = "expert_score"

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="expert_assignment.id", unique=True)
    scores: dict[str, Any] = Field(sa_type=JsonDocument)
    total: Decimal = Field(max_digits=9, decimal_places=4)
    # The expert's comment per criterion id (criteria left without a comment are absent).
    comments: dict[str, Any] | None = Field(default=None, sa_type=JsonDocument)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
