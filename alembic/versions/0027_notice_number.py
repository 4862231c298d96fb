"""a public notice has a formal number (公示编号)

The transition that puts a case on public notice records the notice's number, taken when the
notice opens from the lead unit's own per-year counter for notices (the document-number
counter, series `notice`), e.g. 穗科公示〔2026〕3号. Unique; NULL on every other transition.

Notices opened before this revision are not numbered on upgrade: their number is made from the
pack's unit abbreviations and workflows, which a migration does not read. The public pages say
such a notice has no number (they never fall back to the case id).

Revision ID: 0027_notice_number
Revises: 0026_check_benefit
Create Date: 2026-12-07 16:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

revision: str = "0027_notice_number"
down_revision: str | Sequence[str] | None = "0026_check_benefit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("transition", sa.Column("notice_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_index("ix_transition_notice_number", "transition", ["notice_number"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_transition_notice_number", table_name="transition")
    with op.batch_alter_table("transition") as batch:
        batch.drop_column("notice_number")
