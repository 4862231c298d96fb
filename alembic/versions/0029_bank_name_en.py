"""a partner bank has an English name

A bank had only its Chinese name, so English pages (the enterprise's consents and access log,
supervision, the administrator's page, their exports) named it in Chinese. `name_en` is what
they show now; banks registered before this revision keep NULL, and those pages fall back to
the Chinese name until an English one is set.

Added in place: a nullable column updates no row.

Revision ID: 0029_bank_name_en
Revises: 0028_access_call_kind
Create Date: 2026-12-07 21:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

revision: str = "0029_bank_name_en"
down_revision: str | Sequence[str] | None = "0028_access_call_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("bank", sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    op.drop_column("bank", "name_en")
