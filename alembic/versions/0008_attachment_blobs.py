"""attachment bytes in the database, for instances that share no disk

Revision ID: 0008_attachment_blobs
Revises: 0007_panel_notice_grant
Create Date: 2026-12-04 18:20:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_attachment_blobs'
down_revision: str | Sequence[str] | None = '0007_panel_notice_grant'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'attachment_blob',
        sa.Column('sha256', sa.String(length=64), primary_key=True),
        sa.Column('content', sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('attachment_blob')
