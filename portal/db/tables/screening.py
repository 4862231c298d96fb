"""Screening runs started from the web: who asked for what, how far the job got, what it found."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from portal.db.tables.base import one_of
from portal.db.types import JsonDocument, UTCDateTime, utcnow


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ScreeningRun(SQLModel, table=True):
    """One screening of an uploaded file (or the enterprise register) against chosen measures.

    The upload's bytes live in the attachment blob store under `source_sha256`, so any instance
    or worker can read them. `attempt` is the run's fencing token: each claim raises it, and a
    progress write of an older attempt matches no row, so a superseded runner stops.
    """

    __tablename__ = "screening_run"
    __table_args__ = (one_of("status", [s.value for s in RunStatus], name="status"),)

    id: int | None = Field(default=None, primary_key=True)
    started_by: int = Field(foreign_key="user_account.id", index=True)
    # Measure ids chosen; empty means every enterprise measure in force on `evaluated_on`.
    measures: list[str] = Field(default_factory=list, sa_type=JsonDocument)
    evaluated_on: date
    # The uploaded file: its display name, format (csv | parquet) and bytes; all None for the register.
    source_name: str | None = None
    source_format: str | None = None
    source_sha256: str | None = Field(default=None, max_length=64)
    source_bytes: int = 0
    notify: bool = False
    status: str = Field(default=RunStatus.QUEUED.value, index=True)
    attempt: int = 0
    rows_total: int | None = None
    rows_done: int = 0
    rows_rejected: int = 0
    # measure → outcome → rows, filled as the pieces are screened.
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JsonDocument)
    # measure → {"failed": criterion id → ineligible rows it explains, "unknown": criterion id →
    # undetermined rows it explains}, written when the run succeeds; None for a run before 0024.
    reasons: dict[str, Any] | None = Field(default=None, sa_type=JsonDocument)
    notified: int | None = None
    # The eligible rows (CSV) and the rejected rows (CSV), in the blob store.
    hits_sha256: str | None = Field(default=None, max_length=64)
    rejects_sha256: str | None = Field(default=None, max_length=64)
    # Why it failed: a catalogue code for the page, and the engine's detail (escaped).
    error_code: str | None = None
    error_detail: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SelfCheckResult(SQLModel, table=True):
    """One measure's outcome of one self-check (政策计算器): what the supervision dashboard's
    "eligible by self-check → applied" funnel counts.

    The answers typed are not kept, only the outcome; `enterprise_id` is set when a signed-in
    enterprise ran the check (an anonymous visitor's checks count, but lead to no case).
    """

    __tablename__ = "self_check_result"

    id: int | None = Field(default=None, primary_key=True)
    checked_at: datetime = Field(sa_type=UTCDateTime, index=True)
    measure_id: str = Field(index=True)
    outcome: str
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
