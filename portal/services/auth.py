"""Passwords and sign-in: argon2 hashes (pwdlib), and a lockout after repeated failures.

Every failure, lock and success is audited, so an attack on an account is visible in the
same tamper-evident log as the decisions it might have been after.
"""

from collections.abc import Mapping
from datetime import timedelta
from functools import cache

from pwdlib import PasswordHash
from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import User
from portal.services.context import Portal
from portal.services.errors import Refused

MIN_PASSWORD_LENGTH = 10


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """An argon2id hash with pwdlib's recommended parameters."""
    return _hasher().hash(password)


def check_password_strength(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    return None


def _audit_user(
    session: Session, user: User, event: str, payload: Mapping[str, object] | None = None
) -> None:
    """A sign-in event of a known account, recorded as done by that account."""
    append_audit(
        session,
        actor_id=user.id,
        actor_role=user.role,
        subject_type="user",
        subject_id=str(user.id),
        event=event,
        payload=payload,
    )


def _bad_login() -> Refused:
    return Refused("bad_credentials", "用户名或密码错误", "wrong user name or password")


def authenticate(portal: Portal, username: str, password: str) -> User:
    """The user for these credentials, or Refused; a locked account is refused even with the right password.

    The failure counter and the lock are committed even though sign-in fails, which is why
    this use case commits before raising.
    """
    now = portal.now()
    refusal: Refused | None = None
    with portal.transaction() as session:
        user = session.exec(select(User).where(col(User.username) == username)).first()
        if user is None or not user.active:
            # Hash anyway so that response time does not reveal which user names exist.
            _hasher().verify(password, _dummy_hash())
            append_audit(
                session,
                actor_id=None,
                actor_role="public",
                subject_type="login",
                subject_id=username[:64],
                event="login_failed",
                payload={"reason": "unknown_user"},
            )
            refusal = _bad_login()
        elif user.locked_until is not None and user.locked_until > now:
            refusal = Refused(
                "account_locked",
                "登录失败次数过多，账户已暂时锁定，请稍后再试",
                "too many failed sign-ins; the account is locked for a while",
                detail=user.locked_until.isoformat(),
            )
            _audit_user(session, user, "login_refused_locked")
        elif not _hasher().verify(password, user.password_hash):
            user.failed_logins += 1
            event = "login_failed"
            if user.failed_logins >= portal.login_max_failures:
                user.locked_until = now + timedelta(minutes=portal.login_lock_minutes)
                user.failed_logins = 0
                event = "account_locked"
            session.add(user)
            _audit_user(
                session,
                user,
                event,
                {"locked_until": user.locked_until} if event == "account_locked" else None,
            )
            refusal = _bad_login()
        else:
            user.failed_logins = 0
            user.locked_until = None
            session.add(user)
            _audit_user(session, user, "login")
            return user
    assert refusal is not None
    raise refusal


@cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")
