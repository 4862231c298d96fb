"""a case's latest payment line is found through an index

A payment the bank reported failed holds the case's disbursement until the case joins a new
batch: the case page and the disbursement read the case's newest payment line, found through
an index on (application_id, id) rather than by scanning every batch's lines.

Revision ID: 0021_payment_line_by_case
Revises: 0020_check_benefit_undetermined
Create Date: 2026-12-06 10:00:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021_payment_line_by_case"
down_revision: str | Sequence[str] | None = "0020_check_benefit_undetermined"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_payment_line_application_id_id", "payment_line", ["application_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_payment_line_application_id_id", table_name="payment_line")
