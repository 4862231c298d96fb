"""What every table shares: constraint names, and the closed vocabularies stored as text.

Constraint names follow one convention so that Alembic's batch mode on SQLite can find
and alter them, and so that autogenerate compares like with like on both databases.
Vocabularies are stored as plain strings guarded by CHECK constraints rather than native
enums, because a new value is then one migration line instead of an ALTER TYPE dance.
"""

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Role(StrEnum):
    ENTERPRISE = "enterprise"
    REVIEWER = "reviewer"
    EXPERT = "expert"
    ADMIN = "admin"
    # Reads the supervision dashboard, city-wide or (with a district) for one district; acts on nothing.
    SUPERVISOR = "supervisor"


class LetterKind(StrEnum):
    APPROVAL = "approval"
    REJECTION = "rejection"
    DISBURSEMENT = "disbursement"
    # Letters about a public register entry (procurement catalogue), on the listing's decision.
    SUSPENSION = "suspension"
    REINSTATEMENT = "reinstatement"
    REVOCATION = "revocation"


class ListingStatus(StrEnum):
    LISTED = "listed"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    REVOKED = "revoked"


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


def one_of(column: str, values: Iterable[str], name: str) -> CheckConstraint:
    """A CHECK that `column` holds one of `values` (NULL passes, as in SQL)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)
