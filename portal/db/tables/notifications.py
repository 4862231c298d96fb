"""The in-app inbox, and the e-mail outbox with each message's delivery outcome."""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Text
from sqlmodel import Field, SQLModel

from portal.db.types import JsonDocument, UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    """A message to one user, to an enterprise's users, or to a role (optionally per district/bureau).

    `dedupe_key` is unique: a sweep or a 免申即享 screening that runs twice inserts the same
    key twice and the second insert is skipped, so nobody is told twice.
    """

    __table_args__ = (
        CheckConstraint(
            "recipient_user_id IS NOT NULL OR enterprise_id IS NOT NULL OR role IS NOT NULL",
            name="has_recipient",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    recipient_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
    role: str | None = None
    district: str | None = None
    bureau: str | None = None
    kind: str
    # The Chinese text of a note written before message keys; a note with a key has none.
    title: str | None = None
    body: str | None = Field(default=None, sa_type=Text)
    # A message-catalogue key and its language-neutral parameters (a measure id, a state name,
    # an ISO date): inbox and e-mail render `<message>.title` / `<message>.body` in the reader's
    # own language (portal.services.notifications.note_text).
    message: str | None = None
    params: dict[str, Any] | None = Field(default=None, sa_type=JsonDocument)
    link: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The outbox, per message: set once SMTP accepted it; or given up on after the last attempt.
    emailed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_attempts: int = Field(default=0)
    email_error: str | None = None
    # A sender's claim: nobody else sends the message before this instant (a crashed sender's
    # claim runs out, and the message goes again).
    email_claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dedupe_key: str | None = Field(default=None, unique=True)
    # An address outside the accounts (a member of the public who objected); the row's role is
    # then one no account holds, so the message goes by e-mail only, in `lang` (zh when unknown).
    email: str | None = None
    lang: str | None = None
