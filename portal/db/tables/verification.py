"""Who may act for an enterprise: its verification by papers, and claims to an enterprise already held."""

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from portal.db.tables.base import one_of
from portal.db.types import UTCDateTime, utcnow


class EnterpriseVerification(SQLModel, table=True):
    """One request to verify an enterprise by its business licence and the holder's authorisation.

    Its `state` is a state of the pack's verification workflow (pack.yaml `verification`);
    a refused request stays as it was and the enterprise may file a new one.
    """

    __tablename__ = "enterprise_verification"

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    district: str = Field(index=True)
    workflow: str
    state: str = Field(index=True)
    version: int = 1
    licence_id: int = Field(foreign_key="attachment.id")
    authorisation_id: int = Field(foreign_key="attachment.id")
    requested_by: int = Field(foreign_key="user_account.id")
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    reason: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EnterpriseClaim(SQLModel, table=True):
    """A second person's claim to act for an enterprise that already has an account.

    The claimant's account exists but is inactive until the enterprise's users or a reviewer
    of its district accept the claim; registration answers the claimant exactly as it
    answers a new enterprise, so nobody learns from it which codes are registered.
    """

    __tablename__ = "enterprise_claim"
    __table_args__ = (one_of("status", ["pending", "accepted", "refused"], name="status"),)

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    claimant_id: int = Field(foreign_key="user_account.id", unique=True)
    claimed_name: str
    status: str = Field(default="pending", index=True)
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    reason: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
