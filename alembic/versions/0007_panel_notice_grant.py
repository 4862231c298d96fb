"""expert comments, public objections with their objector, granted amounts, e-mail-only notifications

Expert review keeps a comment per rubric criterion; an objection lodged on the public notice
page names its objector (and an optional file); the lead unit's granted amount (核定兑现金额)
lives on the case until the decision copies it; a notification may go to an e-mail address
that belongs to no account (the objector).

Revision ID: 0007_panel_notice_grant
Revises: 0006_procrastinate_jobs
Create Date: 2026-12-04 15:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007_panel_notice_grant'
down_revision: str | Sequence[str] | None = '0006_procrastinate_jobs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_OBJECTOR = ('objector_name', 'objector_contact', 'objector_email', 'attachment_name', 'attachment_content_type')


def upgrade() -> None:
    op.add_column('expert_score', sa.Column('comments', JSON_DOCUMENT, nullable=True))
    for name in _OBJECTOR:
        op.add_column('objection', sa.Column(name, sa.String(), nullable=True))
    op.add_column('objection', sa.Column('attachment_sha256', sa.String(length=64), nullable=True))
    op.add_column('objection', sa.Column('attachment_size', sa.BigInteger(), nullable=True))
    for table in ('application', 'decision'):
        op.add_column(table, sa.Column('granted_amount', sa.Numeric(precision=18, scale=2), nullable=True))
        op.add_column(table, sa.Column('granted_reason', sa.Text(), nullable=True))
    op.add_column('notification', sa.Column('email', sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notification') as batch:
        batch.drop_column('email')
    for table in ('decision', 'application'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('granted_reason')
            batch.drop_column('granted_amount')
    with op.batch_alter_table('objection') as batch:
        for name in (*_OBJECTOR, 'attachment_sha256', 'attachment_size'):
            batch.drop_column(name)
    with op.batch_alter_table('expert_score') as batch:
        batch.drop_column('comments')
