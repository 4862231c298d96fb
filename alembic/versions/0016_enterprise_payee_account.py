"""enterprise payee account: the account an enterprise is paid into, kept on its profile

Revision ID: 0016_enterprise_payee_account
Revises: 0015_notification_message
Create Date: 2026-12-04 22:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

revision: str = "0016_enterprise_payee_account"
down_revision: str | Sequence[str] | None = "0015_notification_message"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payee_bank_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("payee_account_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("enterprise", schema=None) as batch_op:
        batch_op.drop_column("payee_account_number")
        batch_op.drop_column("payee_bank_name")
