"""The 一链一行 bank side: banks, their API keys, consents, the access log and loans."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Index
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from portal.db.tables.audit import ChainedRow
from portal.db.types import JsonDocument, UTCDateTime, utcnow


class Bank(SQLModel, table=True):
    """A partner bank. `name` is its registered Chinese name; `name_en` what English pages call it
    (NULL: they fall back to `name`; see `services.banks.bank_name`)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    name: str
    name_en: str | None = None
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """A bank's API key. Only a hash is stored; `prefix` finds the row and is shown to admins.

    `scopes` is space-separated, as in OAuth (`eligibility:read loans:write`).
    """

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(foreign_key="bank.id", index=True)
    prefix: str = Field(unique=True)
    key_hash: str
    scopes: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BankConsent(SQLModel, table=True):
    """An enterprise lets one bank check it for some products until `expires_on` (inclusive)."""

    __tablename__ = "bank_consent"

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    bank_id: int = Field(foreign_key="bank.id", index=True)
    # A JSON list of product names, e.g. ["credit_risk_compensation", "guarantee_fee"].
    products: list[str] = Field(sa_type=JsonDocument)
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_on: date
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    granted_by: int | None = Field(default=None, foreign_key="user_account.id")


class BankAccessLog(ChainedRow, table=True):
    """Every bank query, refused ones included; the enterprise sees these rows.

    Chained like the audit log but as its own chain: it is the enterprise-facing record with
    its own columns, and bank traffic then never waits on the audit chain's lock.
    `bank_id` and `api_key_id` are NULL when the key was missing or unknown.
    """

    __tablename__ = "bank_access_log"
    # A key's last use is read from its newest row (the bank list), never kept on the key:
    # the request path then writes nothing but this row.
    __table_args__ = (Index("ix_bank_access_log_api_key_at", "api_key_id", "at"),)

    bank_id: int | None = Field(default=None, foreign_key="bank.id", index=True)
    api_key_id: int | None = Field(default=None, foreign_key="api_key.id")
    uscc_queried: str | None = None
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
    product: str | None = None
    # eligible | ineligible | undetermined, or why it was refused (no_consent, bad_request, ...).
    outcome: str
    http_status: int
    # The profile facts the criteria read, by qualified name: what the bank was shown.
    facts_read: list[str] = Field(default_factory=list, sa_type=JsonDocument)
    # The loan facts an eligibility check was answered for (amount as decimal text, term, ...):
    # a loan registered on the check is held to them. NULL on every other kind of row.
    loan_facts: dict[str, Any] | None = Field(default=None, sa_type=JsonDocument)
    # The benefits (by name) an `eligible` check could not determine, [] when it determined them
    # all: no loan is registered on a check that left one open. NULL on every other kind of row,
    # and on checks made before the column existed.
    benefit_undetermined: list[str] | None = Field(default=None, sa_type=JsonDocument)
    # The benefits an eligibility check answered, by name as exact decimal text ({} when none):
    # the answers about a loan registered on the check show them. NULL on every other kind of
    # row, and on checks made before the column existed.
    benefit: dict[str, str] | None = Field(default=None, sa_type=JsonDocument)
    query_id: str = Field(unique=True)
    # Which call the row records (eligibility | loan_registration | loan_status), known from the
    # route even when the request was refused before its body was read; hashed into the chain.
    # NULL on rows written before the column existed.
    call_kind: str | None = None


class LoanTerms(SQLModel):
    """A registered loan's terms, defined once: the columns of `loan`, the fields of the services'
    view and of the bank API's answer (which narrows them: the pack's product codes, money as text).
    """

    product: str
    amount: Decimal = Field(max_digits=18, decimal_places=2)
    granted_on: date
    term_months: int
    query_id: str


class Loan(LoanTerms, table=True):
    """A loan a bank registered under a pool (放款备案), carried through the pack's loan workflow.

    `version` is SQLAlchemy's version counter, as on `Application`.
    """

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("term_months > 0", name="term_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bank_id: int = Field(foreign_key="bank.id", index=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    # The eligibility check the bank relied on.
    query_id: str = Field(foreign_key="bank_access_log.query_id")
    workflow: str
    state: str
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow}
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]
