"""Changing and resetting passwords; both end the account's other sessions everywhere.

A reset starts from a user name or e-mail address and always answers the same way, so it tells
nobody whether an account exists; the link goes only to the address on the account. The token is
random (256 bits), stored as its sha256, valid for 30 minutes and used once. Completing a reset
also lifts a lockout: it is how an owner gets back in without waiting or asking an administrator.
"""

from __future__ import annotations

import hashlib
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from sqlmodel import Session, col, func, select, update

from portal.db.audit import append_audit
from portal.db.tables import PasswordReset, User
from portal.services import web_sessions
from portal.services.auth import PasswordWeakness, check_password_strength, hash_password, verify_password
from portal.services.context import Portal
from portal.services.errors import FieldProblem, Refused, ValidationFailed
from portal.workflows import Actor

RESET_VALID_FOR = timedelta(minutes=30)


@dataclass(frozen=True)
class ResetMail:
    """A reset link to send, to the address on the account (sent after the commit)."""

    to: str
    display_name: str
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _audit(session: Session, user: User, event: str) -> None:
    append_audit(
        session,
        actor_id=user.id,
        actor_role=user.role,
        subject_type="user",
        subject_id=str(user.id),
        event=event,
    )


def _set_password(
    session: Session, portal: Portal, user: User, new_password: str, *, keep: str | None
) -> None:
    weakness: PasswordWeakness | None = check_password_strength(
        new_password, (user.username, user.display_name, user.email)
    )
    if weakness is not None:
        raise ValidationFailed([FieldProblem("new_password", weakness)])
    user.password_hash = hash_password(new_password, portal.password_cost)
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    assert user.id is not None
    web_sessions.end_all_in(session, user.id, portal.now(), keep=keep)


def change_password(
    portal: Portal, actor: Actor, current: str, new: str, *, session_token: str | None
) -> None:
    """The signed-in user's new password; every other session of the account ends."""
    with portal.transaction() as session:
        user = session.get(User, actor.user_id)
        if user is None or not verify_password(current, user.password_hash):
            raise ValidationFailed([FieldProblem("current_password", "wrong")])
        _set_password(session, portal, user, new, keep=session_token)
        _audit(session, user, "password_changed")


def request_reset(portal: Portal, identifier: str) -> ResetMail | None:
    """A reset link for the active account with this user name or e-mail, if it has an address."""
    wanted = identifier.strip()
    if not wanted:
        return None
    now = portal.now()
    with portal.transaction() as session:
        user = session.exec(
            select(User).where(
                col(User.active).is_(True),
                (col(User.username) == wanted) | (func.lower(col(User.email)) == wanted.lower()),
            )
        ).first()
        if user is None or user.id is None or not user.email:
            return None
        token = secrets.token_urlsafe(32)
        session.add(
            PasswordReset(
                token_hash=_hash(token), user_id=user.id, created_at=now, expires_at=now + RESET_VALID_FOR
            )
        )
        _audit(session, user, "password_reset_requested")
        return ResetMail(user.email, user.display_name, token)


def reset_is_usable(portal: Portal, token: str) -> bool:
    """Whether the link still works (to show the form, or say it has expired, before any typing)."""
    with portal.reading() as session:
        row = session.get(PasswordReset, _hash(token))
    return row is not None and row.used_at is None and row.expires_at > portal.now()


def complete_reset(portal: Portal, token: str, new_password: str) -> None:
    """Set the new password from a valid link; the link is spent and every session ends."""
    now = portal.now()
    with portal.transaction() as session:
        spent = session.exec(
            update(PasswordReset)
            .where(
                col(PasswordReset.token_hash) == _hash(token),
                col(PasswordReset.used_at).is_(None),
                col(PasswordReset.expires_at) > now,
            )
            .values(used_at=now)
            .returning(col(PasswordReset.user_id))
        ).first()
        if spent is None:
            raise Refused(
                "reset_link_invalid", "重置链接无效或已过期", "the reset link is invalid or has expired"
            )
        user = session.get(User, spent[0])
        if user is None or not user.active:
            raise Refused(
                "reset_link_invalid", "重置链接无效或已过期", "the reset link is invalid or has expired"
            )
        _set_password(session, portal, user, new_password, keep=None)
        _audit(session, user, "password_reset")


def send_reset_mail(portal: Portal, mail: ResetMail, *, subject: str, body: str) -> None:
    """Send the link by SMTP; without SMTP configured there is nothing to send it with."""
    if portal.smtp is None:
        return
    message = EmailMessage()
    message["From"] = portal.smtp.sender
    message["To"] = mail.to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(portal.smtp.host, portal.smtp.port, timeout=10) as smtp:
        smtp.send_message(message)
