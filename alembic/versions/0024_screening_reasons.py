"""a screening run records why rows were not eligible

Per measure, how many ineligible rows each criterion failed and how many undetermined rows each
criterion could not judge, so that the run page says which criterion keeps most enterprises out.
NULL for runs finished before this revision (their page shows no reasons).

Revision ID: 0024_screening_reasons
Revises: 0023_case_track
Create Date: 2026-12-07 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024_screening_reasons"
down_revision: str | Sequence[str] | None = "0023_case_track"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("screening_run", sa.Column("reasons", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening_run") as batch:
        batch.drop_column("reasons")
