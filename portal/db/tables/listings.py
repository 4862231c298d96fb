"""Public registers an approval enters: procurement catalogue entries and award register lines.

An entry is created by the approving decision, in its transaction, and is never deleted:
an expired or revoked entry stays in the archive. Its history (listed, reminded, renewed,
suspended, reinstated, revoked, expired) is `listing_event`, shown on the entry's page.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from portal.db.tables.base import ListingStatus, one_of
from portal.db.types import UTCDateTime, utcnow


class Listing(SQLModel, table=True):
    """One entry of a public register; `register` and the columns come from the rule's `listing:`."""

    __table_args__ = (
        one_of("status", [s.value for s in ListingStatus], name="status"),
        one_of("register_kind", ["catalogue", "awards"], name="register_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The approved application that created the entry (a renewal keeps the entry and its URL).
    application_id: int = Field(foreign_key="application.id", unique=True)
    measure_id: str = Field(index=True)
    register_kind: str = Field(index=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    district: str = Field(index=True)
    name: str
    kind: str | None = None
    track: str | None = None
    summary: str | None = Field(default=None, sa_type=Text)
    specs: str | None = Field(default=None, sa_type=Text)
    # The approval letter in force for the entry: its number is the entry's reference number.
    letter_id: int = Field(foreign_key="letter.id")
    doc_number: str
    verification_code: str
    listed_on: date = Field(index=True)
    expires_on: date | None = Field(default=None, index=True)
    status: str = Field(index=True)
    # The granted amount (awards register); shown only where the rule's listing publishes it.
    amount: Decimal | None = Field(default=None, max_digits=18, decimal_places=2)
    # An open renewal application started from this entry, until it is decided.
    renewal_application_id: int | None = Field(default=None, foreign_key="application.id")
    # The expiry date the enterprise was last reminded of, so a sweep reminds once per term.
    reminded_for: date | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ListingEvent(SQLModel, table=True):
    """One step in an entry's life, with the reasons and letter where there are some."""

    __tablename__ = "listing_event"

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listing.id", index=True)
    event: str
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # NULL for the system (the sweep).
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    reasons: str | None = Field(default=None, sa_type=Text)
    letter_id: int | None = Field(default=None, foreign_key="letter.id", index=True)
    application_id: int | None = Field(default=None, foreign_key="application.id")
    expires_on: date | None = None
