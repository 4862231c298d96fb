"""The audit trail exported for a reader outside the portal, with the chain's verification.

Only the administrator exports it: the trail spans every district and records sign-ins and
account changes, while a reviewer already sees the trail of each case they may open on its page.
The chain is verified first and the rows are read up to the verified head, so an unfiltered
export ends exactly on the head hash a later `portal audit verify` (or a checkpoint) reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import col, select

from portal.db.audit import verify_chain
from portal.db.chain import VerifyReport
from portal.db.tables import Application, AuditEvent, Enterprise, Role, User
from portal.services.context import Portal
from portal.services.errors import Forbidden
from portal.workflows import Actor

# Roles whose audit `actor_id` is a user id (a bank's is a bank id, the system's is NULL).
_USER_ROLES = tuple(role.value for role in Role)


@dataclass(frozen=True)
class AuditFilter:
    """Which rows to export; None means any. Dates are inclusive days in the pack's time zone."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    application_id: int | None = None
    enterprise_uscc: str | None = None
    actor_username: str | None = None
    event: str | None = None


@dataclass(frozen=True)
class AuditExport:
    """The chosen rows in chain order and the verification of the whole chain at export time."""

    rows: list[AuditEvent]
    report: VerifyReport

    @property
    def last_hash(self) -> str | None:
        """The hash of the last exported row: a reader finds it in the chain to anchor the file."""
        return self.rows[-1].hash if self.rows else None


def export_audit(portal: Portal, actor: Actor, chosen: AuditFilter) -> AuditExport:
    if actor.role != "admin":
        raise Forbidden("仅管理员可以导出审计记录", "only an administrator exports the audit trail")
    with portal.reading() as session:
        report = verify_chain(session)
        query = select(AuditEvent).order_by(col(AuditEvent.seq))
        if report.ok:
            query = query.where(col(AuditEvent.seq) <= report.checked)
        if chosen.date_from is not None:
            query = query.where(col(AuditEvent.at) >= portal.clock.start_of(chosen.date_from))
        if chosen.date_to is not None:
            query = query.where(
                col(AuditEvent.at) < portal.clock.start_of(chosen.date_to + dt.timedelta(days=1))
            )
        if chosen.application_id is not None:
            query = query.where(_subject("application", [chosen.application_id]))
        if chosen.event:
            query = query.where(col(AuditEvent.event) == chosen.event)
        if chosen.actor_username:
            user_id = session.exec(select(User.id).where(User.username == chosen.actor_username)).first()
            query = query.where(
                col(AuditEvent.actor_id) == user_id, col(AuditEvent.actor_role).in_(_USER_ROLES)
            )
        if chosen.enterprise_uscc:
            enterprise_id = session.exec(
                select(Enterprise.id).where(Enterprise.uscc == chosen.enterprise_uscc.strip().upper())
            ).first()
            if enterprise_id is None:
                query = query.where(false())
            else:
                cases = session.exec(select(Application.id).where(Application.enterprise_id == enterprise_id))
                query = query.where(
                    or_(_subject("enterprise", [enterprise_id]), _subject("application", list(cases)))
                )
        return AuditExport(list(session.exec(query).all()), report)


def _subject(kind: str, ids: list[int | None]) -> ColumnElement[bool]:
    return and_(col(AuditEvent.subject_type) == kind, col(AuditEvent.subject_id).in_([str(i) for i in ids]))
