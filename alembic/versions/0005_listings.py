"""listings: public register entries (procurement catalogue, award registers) and their history

Also widens the letter kinds with the letters about an entry (suspension, reinstatement,
revocation). On SQLite a CHECK constraint can only change by rebuilding the table, which
drops its append-only triggers, so they are created again right after.

Revision ID: 0005_listings
Revises: 0004_password_resets
Create Date: 2026-12-04 15:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_listings'
down_revision: str | Sequence[str] | None = '0004_password_resets'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("approval", "rejection", "disbursement")
NEW_KINDS = (*OLD_KINDS, "suspension", "reinstatement", "revocation")


def _kinds_check(kinds: tuple[str, ...]) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def _set_letter_kinds(kinds: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_letter_kind"), "letter", type_="check")
        op.create_check_constraint(op.f("ck_letter_kind"), "letter", _kinds_check(kinds))
        return
    with op.batch_alter_table("letter", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_letter_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_letter_kind"), _kinds_check(kinds))
    # The rebuild dropped the table's triggers: the letter table is append-only again.
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER letter_no_{operation.lower()} BEFORE {operation} ON letter "
            f"BEGIN SELECT RAISE(ABORT, 'letter is append-only: {operation} refused'); END"
        )


def upgrade() -> None:
    _set_letter_kinds(NEW_KINDS)
    op.create_table('listing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.String(), nullable=False),
    sa.Column('register_kind', sa.String(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('district', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=True),
    sa.Column('track', sa.String(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('specs', sa.Text(), nullable=True),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('doc_number', sa.String(), nullable=False),
    sa.Column('verification_code', sa.String(), nullable=False),
    sa.Column('listed_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('renewal_application_id', sa.Integer(), nullable=True),
    sa.Column('reminded_for', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("register_kind IN ('catalogue', 'awards')", name=op.f('ck_listing_register_kind')),
    sa.CheckConstraint("status IN ('listed', 'suspended', 'expired', 'revoked')", name=op.f('ck_listing_status')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_listing_application_id_application')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_listing_enterprise_id_enterprise')),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_listing_letter_id_letter')),
    sa.ForeignKeyConstraint(['renewal_application_id'], ['application.id'], name=op.f('fk_listing_renewal_application_id_application')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing')),
    sa.UniqueConstraint('application_id', name=op.f('uq_listing_application_id'))
    )
    op.create_index(op.f('ix_listing_district'), 'listing', ['district'], unique=False)
    op.create_index(op.f('ix_listing_enterprise_id'), 'listing', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_listing_expires_on'), 'listing', ['expires_on'], unique=False)
    op.create_index(op.f('ix_listing_listed_on'), 'listing', ['listed_on'], unique=False)
    op.create_index(op.f('ix_listing_measure_id'), 'listing', ['measure_id'], unique=False)
    op.create_index(op.f('ix_listing_register_kind'), 'listing', ['register_kind'], unique=False)
    op.create_index(op.f('ix_listing_status'), 'listing', ['status'], unique=False)
    op.create_table('listing_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('letter_id', sa.Integer(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_listing_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_listing_event_application_id_application')),
    sa.ForeignKeyConstraint(['letter_id'], ['letter.id'], name=op.f('fk_listing_event_letter_id_letter')),
    sa.ForeignKeyConstraint(['listing_id'], ['listing.id'], name=op.f('fk_listing_event_listing_id_listing')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_event'))
    )
    op.create_index(op.f('ix_listing_event_letter_id'), 'listing_event', ['letter_id'], unique=False)
    op.create_index(op.f('ix_listing_event_listing_id'), 'listing_event', ['listing_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_listing_event_listing_id'), table_name='listing_event')
    op.drop_index(op.f('ix_listing_event_letter_id'), table_name='listing_event')
    op.drop_table('listing_event')
    for name in ('status', 'register_kind', 'measure_id', 'listed_on', 'expires_on', 'enterprise_id', 'district'):
        op.drop_index(op.f(f'ix_listing_{name}'), table_name='listing')
    op.drop_table('listing')
    # Fails, naming the constraint, if letters of the new kinds exist: letters are never deleted.
    _set_letter_kinds(OLD_KINDS)
