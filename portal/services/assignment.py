"""Who works a case: claim, unclaim, assign to a colleague, and a unit head's bulk move.

Ownership is not part of the workflow: it never changes the stage or the case's version, so
a reviewer's open form stays valid when a colleague takes the case. Each change is a guarded
UPDATE on the assignee the caller saw (`WHERE assignee_id IS <seen>`), so two people taking the
same case cannot both win, and each is one audit row naming the previous and the new assignee.
The workflow does end a holding: a transition into another unit's stage releases a holder who
does not serve that unit (`portal.services.cases`).

A unit head is a reviewer whose account has `unit_head` set (data the admin keeps); the unit
is the district and/or bureau the head serves.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, update
from sqlmodel import Session, col, select

from portal.db.audit import append_audit
from portal.db.tables import Application, User
from portal.services.access import actor_of, load_visible, visible_to
from portal.services.cases import audit_case, serves_stage, workflow_of
from portal.services.context import Portal
from portal.services.errors import Conflict, FieldProblem, Forbidden, NotFound, Refused, ValidationFailed
from portal.workflows import Actor, CaseContext

_APPLICATION = Application.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Colleague:
    """A reviewer a case can be given to, as shown in the assign list."""

    id: int
    display_name: str


@dataclass(frozen=True)
class Member:
    """A reviewer of the unit a head manages, with how many cases they hold (what a move would move)."""

    id: int
    display_name: str
    holds: int


@dataclass(frozen=True)
class MoveOutcome:
    """One case of a bulk move: `moved`, or the reason it stayed (`changed`: someone acted first)."""

    application_id: int
    outcome: str


def _serves_case(portal: Portal, user: User, application: Application) -> bool:
    """An active reviewer of the unit responsible for the case's stage: who may hold it now."""
    return serves_stage(user, application, workflow_of(portal, application)[1])


def _same_unit(head: User, other: User) -> bool:
    return (head.district is not None and head.district == other.district) or (
        head.bureau is not None and head.bureau == other.bureau
    )


def _assignee_is(seen: int | None) -> ColumnElement[bool]:
    column = _APPLICATION.c.assignee_id
    return column.is_(None) if seen is None else column == seen  # type: ignore[no-any-return]


def _set_assignee(
    session: Session, actor: Actor, application: Application, seen: int | None, new: int | None, event: str
) -> None:
    """Move the case from `seen` to `new` if nobody moved it since; audit who gave it to whom."""
    result = session.execute(
        update(_APPLICATION)
        .where(_APPLICATION.c.id == application.id, _assignee_is(seen))
        .values(assignee_id=new)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the case was claimed or reassigned by someone else; reload and try again")
    audit_case(session, actor, application, event, {"from_assignee": seen, "to_assignee": new})


def _reviewer_on(session: Session, actor: Actor, application_id: int) -> Application:
    if actor.role not in ("reviewer", "admin"):
        raise Forbidden("仅审核人员可以认领案件", "only reviewers take cases")
    return load_visible(session, actor, application_id)


def is_closed(portal: Portal, application: Application) -> bool:
    """A case in a terminal stage has no work left: nobody takes it or is given it."""
    return workflow_of(portal, application)[1].final


def _refuse_if_closed(portal: Portal, application: Application) -> None:
    if is_closed(portal, application):
        raise Refused(
            "case_closed",
            "该案件已办结，无需认领或指派",
            "The case is closed; there is no work to take or give.",
        )


def colleagues(portal: Portal, actor: Actor, application_id: int) -> list[Colleague]:
    """The reviewers this case can be given to (those who serve its district or lead unit),
    first those who can take a step at its current stage (the bureau's at the expert stage, not
    the district's who passed it on); none once it is closed."""
    with portal.reading() as session:
        application = _reviewer_on(session, actor, application_id)
        if is_closed(portal, application):
            return []
        users = session.exec(select(User).where(User.role == "reviewer").order_by(col(User.id))).all()
        workflow, stage = workflow_of(portal, application)
        case = CaseContext(
            enterprise_id=application.enterprise_id,
            district=application.district,
            lead_unit=application.lead_unit,
        )
        serving = [u for u in users if _serves_case(portal, u, application)]
        serving.sort(key=lambda u: not workflow.acts_at(stage.name, actor_of(u), case))
        return [Colleague(u.id or 0, u.display_name) for u in serving]


def may_claim(portal: Portal, actor: Actor, application: Application) -> bool:
    """Whether the case page offers this actor 认领: an open case, and a reviewer of the unit
    responsible for its stage (or the admin)."""
    if is_closed(portal, application) or actor.role not in ("reviewer", "admin"):
        return False
    with portal.reading() as session:
        return _claimant_serves(session, portal, actor, application)


def _claimant_serves(session: Session, portal: Portal, actor: Actor, application: Application) -> bool:
    if actor.role == "admin":
        return True
    user = session.get(User, actor.user_id)
    return user is not None and _serves_case(portal, user, application)


def claim(portal: Portal, actor: Actor, application_id: int) -> None:
    """Take an unassigned case; refused (409) when a colleague holds it, or when another unit
    is responsible for its stage (a district's reviewer and a case the bureau now reviews)."""
    with portal.transaction() as session:
        application = _reviewer_on(session, actor, application_id)
        _refuse_if_closed(portal, application)
        if application.assignee_id == actor.user_id:
            return
        if application.assignee_id is not None:
            raise Refused("already_assigned", "该案件已由其他人员认领", "a colleague already holds this case")
        if not _claimant_serves(session, portal, actor, application):
            raise Refused(
                "other_unit_stage",
                "该案件当前阶段由其他单位办理，不能认领",
                "another unit handles the case at this stage, so it cannot be claimed here",
            )
        _set_assignee(session, actor, application, None, actor.user_id, "case_claimed")


def assign(portal: Portal, actor: Actor, application_id: int, to_user_id: int, seen: int | None) -> None:
    """Give the case to a colleague (or reassign it), if it is still with `seen`, the holder shown."""
    with portal.transaction() as session:
        application = _reviewer_on(session, actor, application_id)
        _refuse_if_closed(portal, application)
        target = session.get(User, to_user_id)
        if target is None or not _serves_case(portal, target, application):
            raise NotFound("reviewer", to_user_id)
        if application.assignee_id == to_user_id:
            return
        event = "case_assigned" if seen is None else "case_reassigned"
        _set_assignee(session, actor, application, seen, to_user_id, event)


def unclaim(portal: Portal, actor: Actor, application_id: int) -> None:
    """Put the case back in the queue: its holder, a head of the holder's unit, or the admin."""
    with portal.transaction() as session:
        application = _reviewer_on(session, actor, application_id)
        holder = application.assignee_id
        if holder is None:
            return
        if holder != actor.user_id and not _heads(session, actor, holder):
            raise Refused(
                "not_assignee",
                "只有认领人或科室负责人可以退回该案件",
                "only the holder or their head can release it",
            )
        _set_assignee(session, actor, application, holder, None, "case_unclaimed")


def _heads(session: Session, actor: Actor, user_id: int) -> bool:
    if actor.role == "admin":
        return True
    head, other = session.get(User, actor.user_id), session.get(User, user_id)
    return bool(head and other and head.unit_head and _same_unit(head, other))


def unit_members(portal: Portal, actor: Actor) -> list[Member]:
    """The reviewers of the unit this actor heads (none unless the account is a unit head), each
    with the number of cases they hold that the head sees: the cases `move_cases` would move."""
    with portal.reading() as session:
        head = session.get(User, actor.user_id)
        if head is None or not (head.unit_head or actor.role == "admin"):
            return []
        users = session.exec(
            select(User).where(User.role == "reviewer", col(User.active)).order_by(col(User.id))
        ).all()
        held = dict(
            session.exec(
                select(col(Application.assignee_id), func.count())
                .where(col(Application.assignee_id).is_not(None), visible_to(actor))
                .group_by(col(Application.assignee_id))
            ).all()
        )
        return [
            Member(u.id or 0, u.display_name, held.get(u.id, 0))
            for u in users
            if actor.role == "admin" or _same_unit(head, u)
        ]


def move_cases(portal: Portal, actor: Actor, from_user_id: int, to_user_id: int) -> list[MoveOutcome]:
    """A unit head moves every case an absent colleague holds to another colleague.

    Each case is its own transaction, so one that a colleague took meanwhile (`changed`) or
    that the new holder cannot serve (`out_of_scope`) stays, and the rest still move. A colleague
    who holds nothing is a field error (`nothing_held`): a move of no case is no move.
    """
    with portal.reading() as session:
        if not _heads(session, actor, from_user_id) or not _heads(session, actor, to_user_id):
            raise Forbidden(
                "仅科室负责人可以批量转交本单位人员的案件", "only the unit's head moves its members' cases"
            )
        target = session.get(User, to_user_id)
        held = session.exec(
            select(Application.id)
            .where(Application.assignee_id == from_user_id, visible_to(actor))
            .order_by(col(Application.id))
        ).all()
    if not held:
        raise ValidationFailed([FieldProblem("from_user", "the colleague holds no case", "nothing_held")])
    outcomes = []
    for application_id in held:
        assert application_id is not None and target is not None
        outcomes.append(
            MoveOutcome(application_id, _move_one(portal, actor, application_id, from_user_id, target))
        )
    return outcomes


def _move_one(portal: Portal, actor: Actor, application_id: int, from_user_id: int, target: User) -> str:
    try:
        with portal.transaction() as session:
            application = load_visible(session, actor, application_id)
            if not _serves_case(portal, target, application):
                return "out_of_scope"
            _set_assignee(session, actor, application, from_user_id, target.id, "case_reassigned")
    except Conflict:
        return "changed"
    return "moved"


def holder_names(portal: Portal, user_ids: set[int]) -> dict[int, str]:
    """Display names of case holders, for the queue's and the case's assignee column."""
    if not user_ids:
        return {}
    with portal.reading() as session:
        users = session.exec(select(User).where(col(User.id).in_(user_ids))).all()
        return {u.id or 0: u.display_name for u in users}


def set_unit_head(portal: Portal, actor: Actor, user_id: int, head: bool) -> None:
    """The admin names (or stops naming) a reviewer the head of their unit; audited."""
    if actor.role != "admin":
        raise Forbidden("仅管理员可以指定单位负责人", "only the admin names unit heads")
    with portal.transaction() as session:
        user = session.get(User, user_id)
        if user is None or user.role != "reviewer":
            raise NotFound("reviewer", user_id)
        user.unit_head = head
        session.add(user)
        append_audit(
            session, actor_id=actor.user_id, actor_role=actor.role, subject_type="user",
            subject_id=user_id, event="unit_head_set" if head else "unit_head_unset",
        )  # fmt: skip
