"""screening runs: a supervisor's screening started from the web, its progress and findings

Revision ID: 0013_screening_runs
Revises: 0012_supervisor_role
Create Date: 2026-12-04 21:01:22.638954

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

import portal.db.types

revision: str = "0013_screening_runs"
down_revision: str | Sequence[str] | None = "0012_supervisor_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "screening_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=False),
        sa.Column("measures", portal.db.types.JsonDocument(none_as_null=True), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("source_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("source_format", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("source_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("source_bytes", sa.Integer(), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("counts", portal.db.types.JsonDocument(none_as_null=True), nullable=False),
        sa.Column("notified", sa.Integer(), nullable=True),
        sa.Column("hits_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("rejects_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("error_detail", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')", name=op.f("ck_screening_run_status")
        ),
        sa.ForeignKeyConstraint(
            ["started_by"], ["user_account.id"], name=op.f("fk_screening_run_started_by_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_run")),
    )
    with op.batch_alter_table("screening_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screening_run_started_by"), ["started_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_screening_run_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("screening_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_run_status"))
        batch_op.drop_index(batch_op.f("ix_screening_run_started_by"))

    op.drop_table("screening_run")
