"""the bank access log records which call each row is

A refusal before the request body is read (no key, too many requests, a key without the scope, a
malformed body) or for want of consent says nothing of the call in its outcome, so supervision
could not count it as an eligibility query, a loan registration or a loan status read. Each new
row now names its call (`call_kind`), taken from the route, and hashes it into the chain. Rows
written before this revision keep NULL, and their hashes, which never covered the column.

Added in place, not through a batch (a batch would rebuild the table on SQLite and lose its
append-only triggers); adding a nullable column updates no row, so the guards never fire.

Revision ID: 0028_access_call_kind
Revises: 0027_notice_number
Create Date: 2026-12-07 18:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

revision: str = "0028_access_call_kind"
down_revision: str | Sequence[str] | None = "0027_notice_number"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "bank_access_log", sa.Column("call_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("bank_access_log", "call_kind")
