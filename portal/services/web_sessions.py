"""Server-side sessions: the cookie carries a random token, the database says what it is worth.

Because every instance reads the same rows, a logout, a password change or an account being
disabled ends the session everywhere at once, and a cookie copied before logout is refused.
Only the token's sha256 is stored, so a database reader cannot replay a live session.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, update

from portal.db.tables import WebSession
from portal.services.context import Portal

# A session seen within this interval is not written again just to say so: one write a minute
# per active user instead of one per request.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionTimeouts:
    """How long a session lives without use (idle) and at most (absolute)."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class LiveSession:
    """What a usable token stands for; `stored` is False for an anonymous cookie with no row yet."""

    user_id: int | None
    data: dict[str, Any]
    stored: bool


def new_token() -> str:
    """A 256-bit random token for the cookie."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expired(row: WebSession, now: datetime, timeouts: SessionTimeouts) -> bool:
    return (
        row.revoked_at is not None
        or now - row.created_at >= timeouts.absolute
        or now - row.last_seen_at >= timeouts.idle
    )


def resolve(portal: Portal, token: str, timeouts: SessionTimeouts) -> LiveSession | None:
    """What `token` stands for, or None when its session was revoked or timed out.

    A token with no row is an anonymous visitor's (it only binds their CSRF token), so it is
    usable but stands for nobody.
    """
    now = portal.now()
    key = token_hash(token)
    with portal.reading() as session:
        row = session.get(WebSession, key)
    if row is None:
        return LiveSession(None, {}, stored=False)
    if _expired(row, now, timeouts):
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        with portal.transaction() as session:
            session.exec(
                update(WebSession)
                .where(col(WebSession.token_hash) == key, col(WebSession.revoked_at).is_(None))
                .values(last_seen_at=now)
            )
    return LiveSession(row.user_id, dict(row.data), stored=True)


def start(portal: Portal, user_id: int | None, data: dict[str, Any], *, replaces: str | None) -> str:
    """A new session (sign-in rotates the token, so a planted pre-login token is useless)."""
    token = new_token()
    now = portal.now()
    with portal.transaction() as session:
        if replaces is not None:
            _revoke(session, token_hash(replaces), now)
        session.add(
            WebSession(
                token_hash=token_hash(token), user_id=user_id, data=data, created_at=now, last_seen_at=now
            )
        )
    return token


def store(portal: Portal, token: str, data: dict[str, Any]) -> None:
    """Give an anonymous token a row, because a page put something in its session."""
    now = portal.now()
    with portal.transaction() as session:
        session.add(WebSession(token_hash=token_hash(token), data=data, created_at=now, last_seen_at=now))


def save_data(portal: Portal, token: str, data: dict[str, Any]) -> None:
    """Store what a page put in the session (a live row only: a revoked one stays revoked)."""
    with portal.transaction() as session:
        session.exec(
            update(WebSession)
            .where(col(WebSession.token_hash) == token_hash(token), col(WebSession.revoked_at).is_(None))
            .values(data=data, last_seen_at=portal.now())
        )


def end(portal: Portal, token: str) -> None:
    """Logout: this session is over on every instance."""
    with portal.transaction() as session:
        _revoke(session, token_hash(token), portal.now())


def end_all(portal: Portal, user_id: int, *, keep: str | None = None) -> int:
    """End every session of an account (password change keeps the one that made it)."""
    with portal.transaction() as session:
        return end_all_in(session, user_id, portal.now(), keep=keep)


def end_all_in(session: Session, user_id: int, now: datetime, *, keep: str | None = None) -> int:
    """`end_all` inside a caller's transaction (disabling an account, changing a password)."""
    statement = update(WebSession).where(
        col(WebSession.user_id) == user_id, col(WebSession.revoked_at).is_(None)
    )
    if keep is not None:
        statement = statement.where(col(WebSession.token_hash) != token_hash(keep))
    result = session.exec(statement.values(revoked_at=now))
    return int(result.rowcount or 0)


def purge(portal: Portal, timeouts: SessionTimeouts) -> int:
    """Delete rows that can never be valid again, so the table holds live sessions only."""
    now = portal.now()
    with portal.transaction() as session:
        result = session.exec(
            delete(WebSession).where(
                col(WebSession.revoked_at).is_not(None)
                | (col(WebSession.created_at) <= now - timeouts.absolute)
                | (col(WebSession.last_seen_at) <= now - timeouts.idle)
            )
        )
        return int(result.rowcount or 0)


def _revoke(session: Session, key: str, now: datetime) -> None:
    session.exec(
        update(WebSession)
        .where(col(WebSession.token_hash) == key, col(WebSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )
