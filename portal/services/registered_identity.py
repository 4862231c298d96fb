"""Recording a change of an enterprise's registration (登记信息变更): its name or its district.

The enterprise cannot edit its registered name and district: the district decides which reviewers
have its cases and is what the rules read as where it is registered. When the register changes (a
renamed firm, a move to another district), the administrator records it on the enterprise's file,
with the reason, and the enterprise is told. Cases already filed keep the district they were filed
in (their reviewers do not change under them); every later reading of the profile takes the new
identity, since the register's identity is overlaid on what the profile stored (`profile_facts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlmodel import Session, col, select

from portal.db.tables import AuditEvent, Enterprise, User
from portal.services.context import Portal
from portal.services.enterprises import audit_enterprise, district_problems
from portal.services.errors import FieldProblem, Forbidden, NotFound, ValidationFailed
from portal.services.notifications import notify
from portal.services.registration import MAX_TEXT
from portal.workflows import Actor

EVENT = "registration_changed"
MAX_REASON = 500


@dataclass(frozen=True)
class RegistrationChange:
    """One recorded change, as the enterprise's file lists it."""

    at: datetime
    by: str
    name: tuple[str, str]
    district: tuple[str, str]
    reason: str


def _admin_only(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden("仅平台管理员可以变更企业登记信息", "only the administrator changes a registration")


def registration_of(portal: Portal, actor: Actor, uscc: str) -> Enterprise:
    """The enterprise as registered, for the administrator's change form; NotFound for no such code."""
    _admin_only(actor)
    with portal.reading() as session:
        return _registered(session, uscc)


def _registered(session: Session, uscc: str) -> Enterprise:
    """The enterprise with this code; NotFound for none."""
    enterprise = session.exec(select(Enterprise).where(col(Enterprise.uscc) == uscc)).first()
    if enterprise is None:
        raise NotFound("enterprise", uscc)
    return enterprise


def change_registration(
    portal: Portal, actor: Actor, uscc: str, *, name: str, district: str, reason: str
) -> Enterprise:
    """Set the registered name and district of the enterprise with `uscc`; the administrator only.

    ValidationFailed names each field at fault, a change that changes nothing included, so that a
    slip does not leave an empty record in the audit chain.
    """
    if actor.role != "admin":
        raise Forbidden(
            "仅平台管理员可以变更企业登记信息", "only the administrator may change a registration"
        )
    name, reason = name.strip(), reason.strip()
    problems = _problems(portal, name, district, reason)
    with portal.transaction() as session:
        enterprise = _registered(session, uscc)
        enterprise_id = cast(int, enterprise.id)  # a stored row (`_registered`)
        if not problems and (name, district) == (enterprise.name, enterprise.district):
            problems.append(FieldProblem("name", "neither the name nor the district changes", "unchanged"))
        elif name != enterprise.name and _name_held(session, name):
            problems.insert(0, FieldProblem("name", "another enterprise is registered under it", "name_held"))
        if problems:
            raise ValidationFailed(problems)
        before = {"name": enterprise.name, "district": enterprise.district}
        enterprise.name, enterprise.district = name, district
        session.add(enterprise)
        audit_enterprise(
            session,
            actor,
            enterprise_id,
            EVENT,
            {"before": before, "after": {"name": name, "district": district}, "reason": reason},
        )
        notify(
            session,
            kind="registration",
            enterprise_id=enterprise_id,
            link="/profile",
            message="note.registration_changed",
            params={"name": name, "district": district, "date": portal.today().isoformat()},
        )
        return enterprise


def _name_held(session: Session, name: str) -> bool:
    """Whether another enterprise is registered under `name`: one register never holds a name twice."""
    return session.exec(select(Enterprise.id).where(col(Enterprise.name) == name)).first() is not None


def _problems(portal: Portal, name: str, district: str, reason: str) -> list[FieldProblem]:
    problems = []
    if not name:
        problems.append(FieldProblem("name", "required", "required"))
    elif len(name) > MAX_TEXT:
        problems.append(FieldProblem("name", f"at most {MAX_TEXT} characters", "too_long", {"n": MAX_TEXT}))
    problems += district_problems(portal, district)
    if not reason:
        problems.append(FieldProblem("reason", "required", "required"))
    elif len(reason) > MAX_REASON:
        problems.append(
            FieldProblem("reason", f"at most {MAX_REASON} characters", "too_long", {"n": MAX_REASON})
        )
    return problems


def registration_changes(session: Session, enterprise_id: int) -> list[RegistrationChange]:
    """The enterprise's recorded registration changes, newest first, as the audit chain holds them."""
    query = (
        select(AuditEvent, User.display_name)
        .join(User, col(User.id) == AuditEvent.actor_id, isouter=True)
        .where(
            col(AuditEvent.subject_type) == "enterprise",
            col(AuditEvent.subject_id) == str(enterprise_id),
            col(AuditEvent.event) == EVENT,
        )
        .order_by(col(AuditEvent.seq).desc())
    )
    changes = []
    for event, by in session.exec(query).all():
        payload = event.payload or {}
        before, after = payload.get("before", {}), payload.get("after", {})
        changes.append(
            RegistrationChange(
                at=event.at,
                by=by or "",
                name=(str(before.get("name", "")), str(after.get("name", ""))),
                district=(str(before.get("district", "")), str(after.get("district", ""))),
                reason=str(payload.get("reason", "")),
            )
        )
    return changes
