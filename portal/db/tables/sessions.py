"""Signed-in sessions, kept server-side so that every instance sees a logout at once."""

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from portal.db.types import JsonDocument, UTCDateTime, utcnow


class WebSession(SQLModel, table=True):
    """One browser session. The cookie holds a random token; only its sha256 is stored here.

    A saved cookie is worth nothing once its row is revoked or has timed out, on whichever
    instance it is presented: this is what makes logout, a password change or an administrator's
    "sign out everywhere" take effect for every process at once.
    """

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    # What pages keep between requests (the CSRF token); never anything the client may set.
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JsonDocument)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PasswordReset(SQLModel, table=True):
    """A single-use password-reset link; only the token's sha256 is stored, valid for 30 minutes."""

    __tablename__ = "password_reset"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
