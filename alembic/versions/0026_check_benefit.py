"""an eligibility check records the benefit it answered

The bank API's answers about a registered loan now carry the benefit (the compensation ratio,
for one) of the eligibility check the loan quotes. The access-log row of each check keeps it,
by name as exact decimal text, hashed into the chain. NULL on every other kind of row and on
checks made before this revision.

Added in place, not through a batch (a batch would rebuild the table on SQLite and lose its
append-only triggers); adding a nullable column updates no row, so the guards never fire.

Revision ID: 0026_check_benefit
Revises: 0025_transition_paid_into
Create Date: 2026-12-07 16:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0026_check_benefit"
down_revision: str | Sequence[str] | None = "0025_transition_paid_into"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("bank_access_log", sa.Column("benefit", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    op.drop_column("bank_access_log", "benefit")
