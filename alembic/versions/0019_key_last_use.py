"""a key's last use comes from the access log

`api_key.last_used_at` was never written: the admin page said "never" for keys in daily use.
The bank list now reads each key's newest access-log row, found through an index on
(api_key_id, at), so the request path keeps writing one row only.

Revision ID: 0019_key_last_use
Revises: 0018_message_languages
Create Date: 2026-12-05 21:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db.types

revision: str = "0019_key_last_use"
down_revision: str | Sequence[str] | None = "0018_message_languages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_bank_access_log_api_key_at", "bank_access_log", ["api_key_id", "at"])
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))
    op.drop_index("ix_bank_access_log_api_key_at", table_name="bank_access_log")
