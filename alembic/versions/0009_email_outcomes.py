"""each e-mail's delivery outcome: attempts, the last error, failure, and a sender's claim

Revision ID: 0009_email_outcomes
Revises: 0008_attachment_blobs
Create Date: 2026-12-04 18:45:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_email_outcomes'
down_revision: str | Sequence[str] | None = '0008_attachment_blobs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('notification', sa.Column('email_failed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        'notification', sa.Column('email_attempts', sa.Integer(), nullable=False, server_default='0')
    )
    op.add_column('notification', sa.Column('email_error', sa.String(), nullable=True))
    op.add_column('notification', sa.Column('email_claimed_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notification') as batch:
        for name in ('email_claimed_until', 'email_error', 'email_attempts', 'email_failed_at'):
            batch.drop_column(name)
