"""a case carries its own track

The track a case is counted under (statistics, the queue's filter, exports) is the answer of its
form's `track_field` where the form has one, else the enterprise's registered track. Existing
cases start from the enterprise's track; the next draft save or submission of a case whose form
names a track field sets it from the answers.

Revision ID: 0023_case_track
Revises: 0022_submitted_files
Create Date: 2026-12-07 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

revision: str = "0023_case_track"
down_revision: str | Sequence[str] | None = "0022_submitted_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("application", sa.Column("track", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_index("ix_application_track", "application", ["track"])
    op.execute(
        "UPDATE application SET track = "
        "(SELECT enterprise.ai_track FROM enterprise WHERE enterprise.id = application.enterprise_id)"
    )


def downgrade() -> None:
    op.drop_index("ix_application_track", table_name="application")
    with op.batch_alter_table("application") as batch:
        batch.drop_column("track")
