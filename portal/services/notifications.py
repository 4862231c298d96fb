"""In-app notifications, and their delivery by e-mail when SMTP is configured.

Writing a notification is part of the use case's transaction; sending mail is not, because
an SMTP server must never be able to roll back a decision. `deliver_email` sends what is
pending afterwards and stamps `emailed_at`, so a crash between the two resends at worst.
"""

import smtplib
from email.message import EmailMessage

from sqlalchemy import ColumnElement, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from portal.db.tables import Notification, User
from portal.services.context import Portal
from portal.services.errors import NotFound
from portal.workflows import Actor


def notify(
    session: Session,
    *,
    kind: str,
    title: str,
    body: str,
    recipient_user_id: int | None = None,
    enterprise_id: int | None = None,
    role: str | None = None,
    district: str | None = None,
    bureau: str | None = None,
    link: str | None = None,
    dedupe_key: str | None = None,
    email: str | None = None,
) -> Notification | None:
    """Queue one notification; with a `dedupe_key` already used, do nothing and return None.

    `email` addresses someone without an account (a member of the public who objected).
    """
    row = Notification(
        recipient_user_id=recipient_user_id,
        enterprise_id=enterprise_id,
        role=role,
        district=district,
        bureau=bureau,
        kind=kind,
        title=title,
        body=body,
        link=link,
        dedupe_key=dedupe_key,
        email=email,
    )
    if dedupe_key is None:
        session.add(row)
        return row
    existing = session.exec(select(Notification.id).where(col(Notification.dedupe_key) == dedupe_key)).first()
    if existing is not None:
        return None
    # A concurrent writer may have used the key since the check; the savepoint keeps the
    # surrounding use case alive when the unique index says so.
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def _addressed_to(actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause of "notifications this actor receives"."""
    clauses = [col(Notification.recipient_user_id) == actor.user_id]
    if actor.enterprise_id is not None:
        clauses.append(col(Notification.enterprise_id) == actor.enterprise_id)
    clauses.append(
        (col(Notification.role) == actor.role)
        & or_(col(Notification.district).is_(None), col(Notification.district) == actor.district)
        & or_(col(Notification.bureau).is_(None), col(Notification.bureau) == actor.bureau)
    )
    return or_(*clauses)


def inbox(portal: Portal, actor: Actor, *, unread_only: bool = False, limit: int = 100) -> list[Notification]:
    """The actor's notifications, newest first."""
    query = select(Notification).where(_addressed_to(actor))
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    query = query.order_by(col(Notification.created_at).desc(), col(Notification.id).desc()).limit(limit)
    with portal.reading() as session:
        return list(session.exec(query).all())


def mark_read(portal: Portal, actor: Actor, notification_id: int) -> None:
    """Mark one of the actor's notifications read; someone else's is NotFound."""
    with portal.transaction() as session:
        row = session.exec(
            select(Notification).where(Notification.id == notification_id).where(_addressed_to(actor))
        ).first()
        if row is None:
            raise NotFound("notification", notification_id)
        if row.read_at is None:
            row.read_at = portal.now()
            session.add(row)


def _recipients(session: Session, note: Notification) -> list[str]:
    """The e-mail addresses a notification goes to: its own address, or its active users'."""
    if note.email is not None:
        return [note.email]
    query = select(User).where(col(User.active).is_(True)).where(col(User.email).is_not(None))
    if note.recipient_user_id is not None:
        query = query.where(User.id == note.recipient_user_id)
    elif note.enterprise_id is not None:
        query = query.where(User.enterprise_id == note.enterprise_id)
    else:
        query = query.where(User.role == note.role)
        if note.district is not None:
            query = query.where(User.district == note.district)
        if note.bureau is not None:
            query = query.where(User.bureau == note.bureau)
    return [str(user.email) for user in session.exec(query).all()]


def deliver_email(portal: Portal, *, batch: int = 200) -> int:
    """Send pending notifications by SMTP and return how many messages went out (0 without SMTP).

    The pending rows are claimed with FOR UPDATE SKIP LOCKED (PostgreSQL), so two sweeps or
    workers running at once send disjoint batches instead of every message twice; SQLite takes
    its write lock when the transaction begins, which serialises them. A crash after sending and
    before the commit sends that batch again: delivery is at least once, never silently lost.
    """
    if portal.smtp is None:
        return 0
    sent = 0
    with portal.transaction() as session:
        pending = session.exec(
            select(Notification)
            .where(col(Notification.emailed_at).is_(None))
            .order_by(col(Notification.id))
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not pending:
            return 0
        with smtplib.SMTP(portal.smtp.host, portal.smtp.port, timeout=10) as smtp:
            for note in pending:
                for address in _recipients(session, note):
                    message = EmailMessage()
                    message["From"] = portal.smtp.sender
                    message["To"] = address
                    message["Subject"] = note.title
                    body = (
                        note.body
                        if note.link is None
                        else f"{note.body}\n\n{portal.public_base_url}{note.link}"
                    )
                    message.set_content(body)
                    smtp.send_message(message)
                    sent += 1
                note.emailed_at = portal.now()
                session.add(note)
    return sent
