"""enterprise verification by papers, claims to an enterprise already held, identity-provider links

Enterprises registered before this revision are marked verified (`verified_via` says so),
so that no existing account loses what it could do; an operator can list them by that value.

Revision ID: 0010_enterprise_verification
Revises: 0009_email_outcomes
Create Date: 2026-12-04 18:25:13.342821

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate renders sqlmodel.sql.sqltypes.AutoString (see STACK-NOTES)
from alembic import op

import portal.db.types

revision: str = '0010_enterprise_verification'
down_revision: str | Sequence[str] | None = '0009_email_outcomes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('enterprise_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('claimant_id', sa.Integer(), nullable=False),
    sa.Column('claimed_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', portal.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', portal.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'refused')", name=op.f('ck_enterprise_claim_status')),
    sa.ForeignKeyConstraint(['claimant_id'], ['user_account.id'], name=op.f('fk_enterprise_claim_claimant_id_user_account')),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], name=op.f('fk_enterprise_claim_decided_by_user_account')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_enterprise_claim_enterprise_id_enterprise')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_claim')),
    sa.UniqueConstraint('claimant_id', name=op.f('uq_enterprise_claim_claimant_id'))
    )
    with op.batch_alter_table('enterprise_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_claim_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_claim_status'), ['status'], unique=False)

    op.create_table('enterprise_verification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('district', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('workflow', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('authorisation_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', portal.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', portal.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['authorisation_id'], ['attachment.id'], name=op.f('fk_enterprise_verification_authorisation_id_attachment')),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], name=op.f('fk_enterprise_verification_decided_by_user_account')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_enterprise_verification_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['licence_id'], ['attachment.id'], name=op.f('fk_enterprise_verification_licence_id_attachment')),
    sa.ForeignKeyConstraint(['requested_by'], ['user_account.id'], name=op.f('fk_enterprise_verification_requested_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_verification'))
    )
    with op.batch_alter_table('enterprise_verification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_verification_district'), ['district'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_verification_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_verification_state'), ['state'], unique=False)

    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_at', portal.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('verified_via', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.execute("UPDATE enterprise SET verified_at = created_at, verified_via = 'before_verification'")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oidc_subject', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_oidc_subject'), ['oidc_subject'])



def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_oidc_subject'), type_='unique')
        batch_op.drop_column('oidc_subject')
    with op.batch_alter_table('enterprise', schema=None) as batch_op:
        batch_op.drop_column('verified_via')
        batch_op.drop_column('verified_at')

    with op.batch_alter_table('enterprise_verification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_verification_state'))
        batch_op.drop_index(batch_op.f('ix_enterprise_verification_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_enterprise_verification_district'))

    op.drop_table('enterprise_verification')
    with op.batch_alter_table('enterprise_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_claim_status'))
        batch_op.drop_index(batch_op.f('ix_enterprise_claim_enterprise_id'))

    op.drop_table('enterprise_claim')
