"""message languages: notes rendered from their key alone, and the language of an addressee
without an account

A new notification stores only its message key and parameters, so its Chinese title and body
become optional (rows written before keys keep theirs and still show them). `notification.lang`
and `objection.objector_lang` keep the language a member of the public used, for the e-mails
they are sent.

Revision ID: 0018_message_languages
Revises: 0017_self_check_result
Create Date: 2026-12-05 07:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

revision: str = "0018_message_languages"
down_revision: str | Sequence[str] | None = "0017_self_check_result"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column("title", existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=True)
        batch_op.add_column(sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("objector_lang", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.drop_column("objector_lang")
    op.execute("UPDATE notification SET title = '' WHERE title IS NULL")
    op.execute("UPDATE notification SET body = '' WHERE body IS NULL")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("lang")
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("title", existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=False)
