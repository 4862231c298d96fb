"""supervisor role: a read-only account for the supervision dashboard (监管评估)

Widens the CHECK on `user_account.role`. SQLite changes a CHECK only by rebuilding the table
(batch mode); `user_account` has no triggers to restore afterwards. Downgrading refuses while a
supervisor account exists, rather than deleting people.

Revision ID: 0012_supervisor_role
Revises: 0011_queue_ownership
Create Date: 2026-12-04 21:10:00

"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0012_supervisor_role"
down_revision: str | Sequence[str] | None = "0011_queue_ownership"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("enterprise", "reviewer", "expert", "admin")
NEW_ROLES = (*OLD_ROLES, "supervisor")


def _set_roles(roles: tuple[str, ...]) -> None:
    check = "role IN ({})".format(", ".join(f"'{role}'" for role in roles))
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_user_account_role"), "user_account", type_="check")
        op.create_check_constraint(op.f("ck_user_account_role"), "user_account", check)
        return
    with op.batch_alter_table("user_account", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_user_account_role"), type_="check")
        batch.create_check_constraint(op.f("ck_user_account_role"), check)


def upgrade() -> None:
    _set_roles(NEW_ROLES)


def downgrade() -> None:
    held = op.get_bind().execute(text("SELECT count(*) FROM user_account WHERE role = 'supervisor'"))
    if held.scalar_one():
        raise RuntimeError("supervisor accounts exist: disable and remove them before downgrading")
    _set_roles(OLD_ROLES)
