"""a disbursing transition keeps the account the money was paid into

The payment notice (拨付通知书) prints the bank and account a case's money went to. A case paid in
a batch has its payment line for that; a case a reviewer records as paid by hand had only the
enterprise's current account, read at render time, so a later change of the profile's account
changed what a re-render printed. The disbursing transition now stores the account it paid into.
NULL for every other transition and for disbursements recorded before this revision (their
notices keep reading the account the case is paid into).

Revision ID: 0025_transition_paid_into
Revises: 0024_screening_reasons
Create Date: 2026-12-07 15:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

revision: str = "0025_transition_paid_into"
down_revision: str | Sequence[str] | None = "0024_screening_reasons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("transition", sa.Column("paid_bank_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column(
        "transition",
        sa.Column("paid_account_number", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("transition") as batch:
        batch.drop_column("paid_account_number")
        batch.drop_column("paid_bank_name")
