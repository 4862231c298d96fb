"""an eligibility check records the benefits it could not determine

A check may be `eligible` and still leave a benefit open (the compensation ratio reads a loan
fact the bank did not send). The access-log row now keeps the names of those benefits, hashed
into the chain, so that no loan is registered on such a check. NULL on every other kind of
row and on checks made before this revision.

Added in place, not through a batch (a batch would rebuild the table on SQLite and lose its
append-only triggers); adding a nullable column updates no row, so the guards never fire.

Revision ID: 0020_check_benefit_undetermined
Revises: 0019_key_last_use
Create Date: 2026-12-06 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020_check_benefit_undetermined"
down_revision: str | Sequence[str] | None = "0019_key_last_use"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("bank_access_log", sa.Column("benefit_undetermined", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    op.drop_column("bank_access_log", "benefit_undetermined")
