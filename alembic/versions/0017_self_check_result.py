"""self check result: each measure's outcome of a self-check, for the supervision funnel

Only the outcome is kept (not the answers typed), and the enterprise when one was signed in.

Revision ID: 0017_self_check_result
Revises: 0016_enterprise_payee_account
Create Date: 2026-12-05 07:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

import portal.db.types

revision: str = "0017_self_check_result"
down_revision: str | Sequence[str] | None = "0016_enterprise_payee_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "self_check_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("measure_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_self_check_result_enterprise_id_enterprise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_check_result")),
    )
    with op.batch_alter_table("self_check_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_self_check_result_checked_at"), ["checked_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_self_check_result_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_self_check_result_measure_id"), ["measure_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("self_check_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_self_check_result_measure_id"))
        batch_op.drop_index(batch_op.f("ix_self_check_result_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_self_check_result_checked_at"))

    op.drop_table("self_check_result")
