"""notification message key and parameters: the inbox reads each note in the reader's language

Existing notes keep their stored Chinese title and body (no key); new ones carry both.

Revision ID: 0015_notification_message
Revises: 0014_payment_batches
Create Date: 2026-12-04 21:55:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

import portal.db.types

revision: str = "0015_notification_message"
down_revision: str | Sequence[str] | None = "0014_payment_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("params", portal.db.types.JsonDocument(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("params")
        batch_op.drop_column("message")
