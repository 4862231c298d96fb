"""What an administrator does to an account: edit a staff account, lift a lockout, end its
sessions, disable or enable it;
and the one thing its holder sets by just using the portal, the language they read it in.

Each administrator's act is one audited transaction. Disabling ends every session of the
account in the same transaction, so a disabled user is signed out on every instance at once.
"""

from collections.abc import Mapping

from sqlmodel import Session

from portal.db.audit import append_audit
from portal.db.tables import User
from portal.messages import normalise_lang
from portal.services import web_sessions
from portal.services.claims import UNDECIDED_OR_REFUSED, claim_status
from portal.services.context import Portal
from portal.services.enterprises import staff_problems
from portal.services.errors import FieldProblem, Forbidden, NotFound, Refused, ValidationFailed
from portal.workflows import Actor


def _admin_target(session: Session, admin: Actor, user_id: int) -> User:
    if admin.role != "admin":
        raise Forbidden("仅管理员可以管理账号", "only an administrator may manage accounts")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def _audit(
    session: Session, admin: Actor, user_id: int, event: str, payload: Mapping[str, object] | None = None
) -> None:
    append_audit(
        session,
        actor_id=admin.user_id,
        actor_role=admin.role,
        subject_type="user",
        subject_id=str(user_id),
        event=event,
        payload=payload,
    )


def unlock(portal: Portal, admin: Actor, user_id: int) -> str:
    """Lift a lockout at once (the owner can also wait it out); returns the account's username."""
    with portal.transaction() as session:
        user = _admin_target(session, admin, user_id)
        user.failed_logins = 0
        user.locked_until = None
        session.add(user)
        _audit(session, admin, user_id, "account_unlocked")
        return user.username


def end_sessions(portal: Portal, admin: Actor, user_id: int) -> tuple[str, int]:
    """Sign the account out everywhere; returns its username and how many sessions ended."""
    with portal.transaction() as session:
        user = _admin_target(session, admin, user_id)
        ended = web_sessions.end_all_in(session, user_id, portal.now())
        _audit(session, admin, user_id, "sessions_ended")
        return user.username, ended


def set_active(portal: Portal, admin: Actor, user_id: int, *, active: bool) -> str:
    """Disable (ending every session) or re-enable an account; an admin cannot disable themself.
    Returns the account's username."""
    with portal.transaction() as session:
        user = _admin_target(session, admin, user_id)
        if not active and user_id == admin.user_id:
            raise Forbidden("不能停用自己的账号", "you cannot disable your own account")
        if active and claim_status(session, user_id) in UNDECIDED_OR_REFUSED:
            # Only the enterprise's users or its district decide who joins it (services.claims).
            raise Refused(
                "claim_open",
                "该账号加入企业的申请尚未获同意，须由该企业已有账号的管理人或所在区审核人员决定，不能在此启用",
                "this account's request to join its enterprise has not been accepted; the enterprise's "
                "users or its district decide it, so it cannot be enabled here",
            )
        user.active = active
        session.add(user)
        if not active:
            web_sessions.end_all_in(session, user_id, portal.now())
        _audit(session, admin, user_id, "account_enabled" if active else "account_disabled")
        return user.username


def set_language(portal: Portal, user_id: int, lang: str) -> None:
    """Remember the language a person chose (zh or en): their notifications are e-mailed in it.

    A preference like the page's cookie, not an act on anyone's case, so it is not audited.
    """
    code = normalise_lang(lang)
    with portal.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("user", user_id)
        if user.locale != code:
            user.locale = code
            session.add(user)


MAX_NAME = 100


def update_staff(
    portal: Portal,
    admin: Actor,
    user_id: int,
    *,
    display_name: str,
    role: str,
    district: str | None,
    bureau: str | None,
) -> User:
    """Change a staff account's name, role, district and lead unit (checked as for a new account).

    An enterprise's account is not staff (NotFound); an administrator keeps their own role, so
    the portal never loses its last administrator by a slip. Sessions end when the role or scope
    changes, so the new rights apply at the next sign-in on every instance.
    """
    problems = staff_problems(portal, role, district, bureau)
    name = display_name.strip()
    if not name:
        problems.append(FieldProblem("display_name", "required", "required"))
    elif len(name) > MAX_NAME:
        problems.append(FieldProblem("display_name", "too long", "too_long", {"n": MAX_NAME}))
    with portal.transaction() as session:
        user = _admin_target(session, admin, user_id)
        if user.role == "enterprise":
            raise NotFound("staff account", user_id)
        if user_id == admin.user_id and role != user.role:
            problems.append(FieldProblem("role", "an administrator keeps their own role", "own_role"))
        if problems:
            raise ValidationFailed(problems)
        before = {
            "display_name": user.display_name,
            "role": user.role,
            "district": user.district,
            "bureau": user.bureau,
        }
        after = {"display_name": name, "role": role, "district": district, "bureau": bureau}
        for field, value in after.items():
            setattr(user, field, value)
        session.add(user)
        if (before["role"], before["district"], before["bureau"]) != (role, district, bureau):
            web_sessions.end_all_in(session, user_id, portal.now())
        _audit(session, admin, user_id, "account_updated", {"before": before, "after": after})
        return user


def staff_account(portal: Portal, admin: Actor, user_id: int) -> User:
    """One staff account for the administrator's edit page (an enterprise's account is NotFound)."""
    with portal.reading() as session:
        user = _admin_target(session, admin, user_id)
        if user.role == "enterprise":
            raise NotFound("staff account", user_id)
        return user
