"""submitted files: which file was in which slot at each submission

`application_attachment` holds a case's files as they are now: a file the enterprise removes or
replaces in an amendment leaves it. `submitted_attachment` keeps, for every submission, the files
each slot held, so the reviewer can compare a resubmission with the one before and an audit can
see what was sent. Its rows are evidence, append-only like the audit chain.

The back-fill records the files of every case submitted before this revision as its latest
submission (numbered by its submit and resubmit transitions), as the case holds them now: for a
case being amended at upgrade time that includes changes not yet resubmitted.

Revision ID: 0022_submitted_files
Revises: 0021_payment_line_by_case
Create Date: 2026-12-06 20:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

import portal.db.types

revision: str = "0022_submitted_files"
down_revision: str | Sequence[str] | None = "0021_payment_line_by_case"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "submitted_attachment"

BACK_FILL = """
INSERT INTO submitted_attachment (application_id, submission, answers_version, slot, attachment_id, submitted_at)
SELECT link.application_id,
       (SELECT CASE WHEN count(*) > 0 THEN count(*) ELSE 1 END FROM transition
         WHERE transition.application_id = application.id AND transition.event IN ('submit', 'resubmit')),
       application.answers_version, link.slot, link.attachment_id, application.submitted_at
  FROM application_attachment AS link
  JOIN application ON application.id = link.application_id
 WHERE application.submitted_at IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("submission", sa.Integer(), nullable=False),
        sa.Column("answers_version", sa.Integer(), nullable=True),
        sa.Column("slot", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["application.id"], name=op.f("fk_submitted_attachment_application_id_application")
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachment.id"], name=op.f("fk_submitted_attachment_attachment_id_attachment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submitted_attachment")),
        sa.UniqueConstraint(
            "application_id",
            "submission",
            "slot",
            "attachment_id",
            name=op.f("uq_submitted_attachment_application_id_submission_slot_attachment_id"),
        ),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submitted_attachment_attachment_id"), ["attachment_id"], unique=False)
    op.execute(BACK_FILL)
    # The same guards as the chains (0001 created PostgreSQL's portal_refuse_change()).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION portal_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION portal_refuse_change()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{operation.lower()} BEFORE {operation} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {operation} refused'); END"
        )


def downgrade() -> None:
    # Dropping the table drops its triggers.
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submitted_attachment_attachment_id"))
    op.drop_table(TABLE)
