"""Passwords and sign-in: argon2 hashes (pwdlib), strength by zxcvbn, and a lockout after failures.

Every failure, lock and success is audited, so an attack on an account is visible in the
same tamper-evident log as the decisions it might have been after. A locked account answers
exactly as a wrong password does, in wording and in time, so the answer confirms nothing.
"""

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import cache
from typing import Literal, cast

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, col, select, update
from zxcvbn import zxcvbn

from portal.db.audit import append_audit
from portal.db.tables import User
from portal.services.claims import awaiting_claimants, claim_status
from portal.services.context import Portal
from portal.services.errors import Refused

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_BYTES = 1024
# zxcvbn's scale: 3 is "safely unguessable" against online attacks, which a throttled login is.
MIN_STRENGTH = 3
# zxcvbn's own cap: it scores this prefix (cost grows with length); longer is only stronger.
_SCORED_LENGTH = 72
PasswordWeakness = Literal["too_short", "too_long", "personal", "too_common"]


PasswordCost = tuple[int, int, int]


@cache
def _hasher(cost: PasswordCost | None = None) -> PasswordHash:
    """pwdlib's recommended argon2id, or one of `cost` (memory KiB, passes, lanes)."""
    if cost is None:
        return PasswordHash.recommended()
    memory, passes, lanes = cost
    return PasswordHash((Argon2Hasher(memory_cost=memory, time_cost=passes, parallelism=lanes),))


def hash_password(password: str, cost: PasswordCost | None = None) -> str:
    """An argon2id hash at `cost` (the portal's `password_cost`; None: pwdlib's recommended)."""
    return _hasher(cost).hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches an argon2 hash; the hash carries its own cost."""
    return bool(_hasher().verify(password, password_hash))


USERNAME_LIMIT = 40
_USERNAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{2,{USERNAME_LIMIT - 1}}}")


def check_username(username: str) -> str | None:
    """Why a new user name is unacceptable ("username_length" or "username_format"), or None.

    A user name is typed at every sign-in and printed in the audit trail and admin lists: 3 to
    40 letters, digits, dots, underscores or hyphens, starting with a letter or digit.
    """
    if not 3 <= len(username) <= USERNAME_LIMIT:
        return "username_length"
    return None if _USERNAME.fullmatch(username) else "username_format"


def check_password_strength(password: str, personal: Iterable[str | None] = ()) -> PasswordWeakness | None:
    """Why a new password is unacceptable, or None.

    `personal` holds the account's own names (user name, display name, e-mail, enterprise
    name): a password built from them is the first thing an attacker tries.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return "too_long"
    own = [p.strip().lower() for p in personal if p and p.strip()]
    if any(p and (p in password.lower() or password.lower() in p) for p in own if len(p) >= 4):
        return "personal"
    if zxcvbn(password[:_SCORED_LENGTH], user_inputs=own)["score"] < MIN_STRENGTH:
        return "too_common"
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


def _claim_attempt(portal: Portal, username: str) -> User | None:
    """The account, with one attempt counted against it before its password is checked.

    Counting first, in its own committed statement, is what bounds concurrent guessing: the
    counter is incremented atomically and only while the account is open and under the limit,
    so at most `login_max_failures` passwords are ever checked before the lock, however many
    requests race. None: no such account, disabled, locked, or out of attempts. An account
    closed only while its claim is pending (or after it was refused) is counted the same way,
    since its right password is answered with the claim's state (`authenticate`).
    """
    now = portal.now()
    with portal.transaction() as session:
        claimed = session.exec(
            update(User)
            .where(
                col(User.username) == username,
                col(User.active).is_(True) | col(User.id).in_(awaiting_claimants()),
                col(User.failed_logins) < portal.login_max_failures,
                col(User.locked_until).is_(None) | (col(User.locked_until) <= now),
            )
            .values(failed_logins=col(User.failed_logins) + 1)
            .returning(col(User.id))
        ).first()
        if claimed is None:
            return None
        return session.get(User, claimed[0])


def authenticate(portal: Portal, username: str, password: str) -> User:
    """The user for these credentials, or Refused with one answer for every kind of failure.

    The attempt is counted before the (slow) hash check and committed apart from the outcome,
    which is why this use case runs in two short transactions.
    """
    user = _claim_attempt(portal, username)
    if user is None or not verify_password(password, user.password_hash):
        if user is None:
            # Hash anyway, so that the time taken does not tell which accounts exist or are locked.
            verify_password(password, _dummy_hash(portal.password_cost))
        _record_failure(portal, username, user)
        raise _bad_login()
    if not user.active:
        _refuse_claimant(portal, user)
    with portal.transaction() as session:
        session.exec(update(User).where(col(User.id) == user.id).values(failed_logins=0, locked_until=None))
        _audit_user(session, user, "login")
    return user


def _refuse_claimant(portal: Portal, user: User) -> None:
    """The right password of an account whose claim is pending or refused: say which.

    Only someone who knows the password learns it, and the registration page still says
    nothing; the attempt counter is reset as on a successful sign-in.
    """
    with portal.transaction() as session:
        session.exec(update(User).where(col(User.id) == user.id).values(failed_logins=0, locked_until=None))
        status = claim_status(session, cast(int, user.id))
        _audit_user(session, user, "login_failed", {"reason": f"claim_{status}"})
    if status == "pending":
        raise Refused(
            "claim_pending",
            "账号正等待企业已有账号的管理人确认加入申请",
            "the account waits for the enterprise's users to accept its request to join",
        )
    if status == "refused":
        raise Refused("claim_refused", "加入申请未获同意", "the request to join the enterprise was refused")
    raise _bad_login()  # decided in between and opened: a new sign-in will do


def _record_failure(portal: Portal, username: str, user: User | None) -> None:
    """Audit a refused sign-in; the attempt that used up the last try locks the account."""
    now = portal.now()
    with portal.transaction() as session:
        if user is None:
            known = session.exec(select(User).where(col(User.username) == username)).first()
            append_audit(
                session,
                actor_id=None,
                actor_role="public",
                subject_type="login",
                subject_id=username[:64],
                event="login_failed",
                payload={"reason": "unknown_user" if known is None else "not_open"},
            )
            return
        locked_until = now + timedelta(minutes=portal.login_lock_minutes)
        locked = session.exec(
            update(User)
            .where(col(User.id) == user.id, col(User.failed_logins) >= portal.login_max_failures)
            .values(locked_until=locked_until, failed_logins=0)
            .returning(col(User.id))
        ).first()
        if locked is not None:
            _audit_user(session, user, "account_locked", {"locked_until": locked_until})
        else:
            _audit_user(session, user, "login_failed")


@cache
def _dummy_hash(cost: PasswordCost | None) -> str:
    return hash_password("not-a-real-password", cost)
