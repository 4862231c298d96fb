"""payment batches: batches, their lines, bank return files

New tables only; a case is in at most one open batch (partial unique index over pending lines).

Revision ID: 0014_payment_batches
Revises: 0013_screening_runs
Create Date: 2026-12-04 21:01:40.346627

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

import portal.db.types

revision: str = "0014_payment_batches"
down_revision: str | Sequence[str] | None = "0013_screening_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_unit", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_by", sa.Integer(), nullable=True),
        sa.Column("sent_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'sent', 'closed')", name=op.f("ck_payment_batch_status")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_payment_batch_created_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["sent_by"], ["user_account.id"], name=op.f("fk_payment_batch_sent_by_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_batch")),
    )
    with op.batch_alter_table("payment_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_batch_lead_unit"), ["lead_unit"], unique=False)

    op.create_table(
        "payment_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=False),
        sa.Column("imported_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("counts", portal.db.types.JsonDocument(none_as_null=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payment_batch.id"], name=op.f("fk_payment_return_batch_id_payment_batch")
        ),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["user_account.id"], name=op.f("fk_payment_return_imported_by_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_return")),
        sa.UniqueConstraint("batch_id", "sha256", name="payment_return_batch_file"),
    )
    with op.batch_alter_table("payment_return", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_return_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "payment_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("payee_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("uscc", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("bank_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("account_number", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("settled_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bank_message", sa.Text(), nullable=True),
        sa.Column("added_by", sa.Integer(), nullable=False),
        sa.Column("added_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("outcome IN ('pending', 'paid', 'failed')", name=op.f("ck_payment_line_outcome")),
        sa.ForeignKeyConstraint(
            ["added_by"], ["user_account.id"], name=op.f("fk_payment_line_added_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"], ["application.id"], name=op.f("fk_payment_line_application_id_application")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payment_batch.id"], name=op.f("fk_payment_line_batch_id_payment_batch")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decision.id"], name=op.f("fk_payment_line_decision_id_decision")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_line")),
        sa.UniqueConstraint("batch_id", "application_id", name="payment_line_batch_case"),
    )
    with op.batch_alter_table("payment_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_line_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            "payment_line_one_open_batch",
            ["application_id"],
            unique=True,
            sqlite_where=sa.text("outcome = 'pending'"),
            postgresql_where=sa.text("outcome = 'pending'"),
        )

    op.create_table(
        "payment_return_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("bank_message", sa.Text(), nullable=True),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payment_line_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "result IN ('paid', 'failed', 'unmatched', 'amount_mismatch', 'settled', 'case_moved')",
            name=op.f("ck_payment_return_line_result"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_line_id"],
            ["payment_line.id"],
            name=op.f("fk_payment_return_line_payment_line_id_payment_line"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"], ["payment_return.id"], name=op.f("fk_payment_return_line_return_id_payment_return")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_return_line")),
    )
    with op.batch_alter_table("payment_return_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_return_line_return_id"), ["return_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_return_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_return_line_return_id"))

    op.drop_table("payment_return_line")
    with op.batch_alter_table("payment_line", schema=None) as batch_op:
        batch_op.drop_index(
            "payment_line_one_open_batch",
            sqlite_where=sa.text("outcome = 'pending'"),
            postgresql_where=sa.text("outcome = 'pending'"),
        )
        batch_op.drop_index(batch_op.f("ix_payment_line_batch_id"))

    op.drop_table("payment_line")
    with op.batch_alter_table("payment_return", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_return_batch_id"))

    op.drop_table("payment_return")
    with op.batch_alter_table("payment_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_batch_lead_unit"))

    op.drop_table("payment_batch")
