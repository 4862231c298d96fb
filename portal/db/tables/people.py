"""Who acts: user accounts, enterprises and their versioned profile facts."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.db.tables.base import Role, one_of
from portal.db.types import JsonDocument, UTCDateTime, utcnow


class Enterprise(SQLModel, table=True):
    """A registered enterprise; `uscc` is checked with `portal.uscc.validate_uscc` first."""

    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True)
    name: str
    district: str = Field(index=True)
    # The action plan's four tracks (造 车 健 城), as codes; not every enterprise has one.
    ai_track: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Unverified until a district reviewer accepts its papers or an identity provider vouches
    # for it; until then it may save drafts but not submit, consent or be seen by banks.
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_via: str | None = None
    # The account it is paid into (收款账户), set by its own users on the profile page.
    payee_bank_name: str | None = None
    payee_account_number: str | None = None


class User(SQLModel, table=True):
    """A person who signs in. Reviewers carry a district and/or a bureau (a lead_unit code).

    The table is `user_account` because `user` is a reserved word on PostgreSQL.
    """

    __tablename__ = "user_account"
    __table_args__ = (
        one_of("role", [role.value for role in Role], name="role"),
        CheckConstraint(
            "role <> 'enterprise' OR enterprise_id IS NOT NULL", name="enterprise_user_has_enterprise"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True)
    display_name: str
    email: str | None = None
    password_hash: str
    role: str
    district: str | None = None
    bureau: str | None = None
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
    # Experts only: compared with conflicts of interest declared as "same employer".
    employer: str | None = None
    locale: str = Field(default="zh-CN")
    # Heads their unit (the district and/or bureau they serve): may move an absent colleague's
    # cases. Set by the admin; a role attribute kept as data, not a role of its own.
    unit_head: bool = False
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # "<issuer> <subject>" of the identity provider's account this user signs in with, if any.
    oidc_subject: str | None = Field(default=None, unique=True)


class EnterpriseProfile(SQLModel, table=True):
    """One version of an enterprise's facts; versions are never edited, only added.

    Applications point at the (enterprise_id, version) they were submitted with, so a later
    edit of the profile can never change a submitted case.
    """

    __tablename__ = "enterprise_profile"
    __table_args__ = (UniqueConstraint("enterprise_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id")
    version: int
    # Keyed by entity then fact, as in facts.yaml: {"enterprise": {"revenue": "1200000.00", ...}}.
    facts: dict[str, Any] = Field(sa_type=JsonDocument)
    confirmed: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")


class SavedView(SQLModel, table=True):
    """A reviewer's named set of queue filters: the `/review` query string, under a name."""

    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("user_id", "name", name="saved_view_user_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=60)
    query: str = Field(max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
