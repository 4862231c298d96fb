"""Expert review: assignment with conflict-of-interest refusal, the declaration, scoring, consensus.

Declaring and scoring are workflow events (self-loops on `expert_review`), so each one bumps
the case version and is audited like any other transition. The score that brings the
panel's consensus to the pass mark also fires `pass_mark_reached` as the system actor in the
same transaction, so the case enters public notice with that score or not at all. A panel
that fails the pass mark is the lead unit's call (reject or return), so the lead unit is told.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from sqlmodel import Session, col, select

from portal.db.tables import (
    Application,
    AuditEvent,
    Enterprise,
    ExpertAssignment,
    ExpertConflict,
    ExpertScore,
    User,
)
from portal.services.access import is_lead_unit_staff, load_visible
from portal.services.cases import advance, audit_case, bump, score_totals, workflow_of
from portal.services.context import Portal
from portal.services.decisions import grant_excess
from portal.services.errors import Conflict, FieldProblem, Forbidden, NotFound, Refused, ValidationFailed
from portal.services.notifications import notify
from portal.workflows import Actor
from portal.workflows.conflicts import ApplicantParties, ExpertAffiliation, conflict_reasons
from portal.workflows.context import SYSTEM_ACTOR
from portal.workflows.errors import RubricScoreError
from portal.workflows.rubric import Consensus

DECLARE_EVENT, SCORE_EVENT, PASS_EVENT = "declare_no_conflict", "score", "pass_mark_reached"
MAX_COMMENT = 2000


@dataclass(frozen=True)
class Scored:
    """One expert's stored total, the panel's consensus after it, and where the case now stands."""

    total: Decimal
    consensus: Consensus
    version: int
    state: str


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().upper() == b.strip().upper()


def conflicts_of(session: Session, expert: User, application: Application) -> tuple[str, ...]:
    """Why `expert` may not judge `application` (empty: no conflict)."""
    enterprise = session.get(Enterprise, application.enterprise_id)
    if enterprise is None or expert.id is None:
        raise NotFound("enterprise", application.enterprise_id)
    declared = session.exec(select(ExpertConflict).where(col(ExpertConflict.expert_id) == expert.id)).all()
    # A declared tie to an employer counts as a tie to the enterprise with that code.
    declared_ids = frozenset(
        enterprise.id if _same(c.employer, enterprise.uscc) else c.enterprise_id
        for c in declared
        if c.enterprise_id is not None or _same(c.employer, enterprise.uscc)
    )
    affiliation = ExpertAffiliation(
        expert_id=expert.id,
        enterprise_id=expert.enterprise_id,
        employer_uscc=expert.employer,
        declared_enterprise_ids=cast(frozenset[int], declared_ids),
    )
    applicant = ApplicantParties(enterprise_id=application.enterprise_id, uscc=enterprise.uscc)
    return conflict_reasons(affiliation, applicant)


def _require_lead_unit(actor: Actor, application: Application) -> None:
    if is_lead_unit_staff(actor, application):
        return
    raise Refused(
        "wrong_jurisdiction",
        "仅牵头单位审核人员可以管理评审专家",
        "only the lead unit's reviewers manage the panel",
    )


def assign_expert(
    portal: Portal, actor: Actor, application_id: int, expert_id: int, expected_version: int
) -> ExpertAssignment:
    """Put an expert on the panel; one with any conflict of interest is refused, naming why."""
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        _require_lead_unit(actor, application)
        _, state = workflow_of(portal, application)
        if state.kind not in ("review", "expert"):
            raise Refused(
                "not_in_review", "仅评审阶段可以指派专家", "experts are assigned during review only"
            )
        assignment = _assign(session, portal, actor, application, expert_id)
        version = bump(session, application, expected_version, {"updated_at": portal.now()})
        audit_case(
            session, actor, application, "expert_assigned", {"expert_id": expert_id, "version": version}
        )
        _tell_expert(session, application, assignment)
        return assignment


def _tell_expert(session: Session, application: Application, assignment: ExpertAssignment) -> None:
    notify(
        session,
        kind="expert_assignment",
        recipient_user_id=assignment.expert_id,
        link=f"/expert/{application.id}",
        dedupe_key=f"assign:{assignment.id}",
        message="note.expert_assigned",
        params={"id": application.id, "measure": application.measure_id},
    )


def _assign(
    session: Session, portal: Portal, actor: Actor, application: Application, expert_id: int
) -> ExpertAssignment:
    """Add one expert to the panel inside the caller's transaction; a conflicted expert is refused."""
    application_id = cast(int, application.id)
    expert = session.get(User, expert_id)
    if expert is None or expert.role != "expert" or not expert.active:
        raise NotFound("expert", expert_id)
    reasons = conflicts_of(session, expert, application)
    if reasons:
        raise Refused(
            "conflict_of_interest",
            "该专家与申报单位存在利益冲突，不能指派",
            f"the expert has a conflict of interest ({', '.join(reasons)})",
            detail=",".join(reasons),
        )
    taken = session.exec(
        select(ExpertAssignment.id)
        .where(col(ExpertAssignment.application_id) == application_id)
        .where(col(ExpertAssignment.expert_id) == expert_id)
    ).first()
    if taken is not None:
        raise Conflict(f"expert {expert_id} is already on the panel of application {application_id}")
    assignment = ExpertAssignment(
        application_id=application_id,
        expert_id=expert_id,
        assigned_by=actor.user_id,
        assigned_at=portal.now(),
    )
    session.add(assignment)
    session.flush()
    return assignment


def _my_assignment(session: Session, actor: Actor, application_id: int) -> ExpertAssignment:
    row = session.exec(
        select(ExpertAssignment)
        .where(col(ExpertAssignment.application_id) == application_id)
        .where(col(ExpertAssignment.expert_id) == actor.user_id)
        .where(col(ExpertAssignment.excluded_at).is_(None))
    ).first()
    if row is None:
        raise NotFound("application", application_id)
    return row


def declare(portal: Portal, actor: Actor, application_id: int, statement: str, expected_version: int) -> int:
    """The expert signs the no-conflict declaration, which opens the documents; returns the new version."""
    if not statement.strip():
        raise ValidationFailed([FieldProblem("statement", "the declaration text is required")])
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        assignment = _my_assignment(session, actor, application_id)
        expert = session.get(User, actor.user_id)
        assert expert is not None
        reasons = conflicts_of(session, expert, application)
        if reasons:
            raise Refused(
                "conflict_of_interest",
                "存在利益冲突，不能签署无利益冲突声明",
                f"you have a conflict of interest ({', '.join(reasons)})",
                detail=",".join(reasons),
            )
        moved = advance(
            session,
            portal,
            application,
            actor,
            DECLARE_EVENT,
            comment=statement,
            expected_version=expected_version,
        )
        assignment.declared_at = portal.now()
        assignment.declaration_text = statement
        session.add(assignment)
        return moved.version


def score(
    portal: Portal,
    actor: Actor,
    application_id: int,
    scores: Mapping[str, Decimal | int],
    expected_version: int,
    comments: Mapping[str, str] | None = None,
) -> Scored:
    """Store one expert's rubric scores and comments (once, then locked); a passing panel moves
    the case to public notice."""
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        # The sheet is checked against the rubric of the case's measure, so it is read first.
        rubric = portal.rubric_for(application.measure_id)
        try:
            total = rubric.total(scores)
        except RubricScoreError as exc:
            raise ValidationFailed([FieldProblem("scores", str(exc), "range")]) from None
        known = {criterion.id for criterion in rubric.criteria}
        kept = {k: v.strip() for k, v in (comments or {}).items() if k in known and v.strip()}
        too_long = [
            FieldProblem(f"comment:{k}", f"at most {MAX_COMMENT} characters", "too_long")
            for k, v in kept.items()
            if len(v) > MAX_COMMENT
        ]
        if too_long:
            raise ValidationFailed(too_long)
        assignment = _my_assignment(session, actor, application_id)
        if session.exec(
            select(ExpertScore.id).where(col(ExpertScore.assignment_id) == assignment.id)
        ).first():
            raise Refused(
                "already_scored",
                "您已提交过对该申报的评分，评分提交后不能修改",
                "You have already scored this application; submitted scores cannot be changed.",
            )
        moved = advance(
            session,
            portal,
            application,
            actor,
            SCORE_EVENT,
            comment=None,
            expected_version=expected_version,
            audit_payload={"total": total, "scores": dict(scores)},
        )
        session.add(
            ExpertScore(
                assignment_id=cast(int, assignment.id),
                scores=dict(scores),
                comments=kept or None,
                total=total,
                submitted_at=portal.now(),
            )
        )
        session.flush()
        totals, excluded = score_totals(session, application_id)
        result = rubric.consensus(totals, excluded)
        if result.outcome == "passed" and _grant_may_go_on_notice(portal, session, application):
            moved = advance(
                session,
                portal,
                application,
                SYSTEM_ACTOR,
                PASS_EVENT,
                comment=None,
                expected_version=moved.version,
                audit_payload={"mean": result.mean, "counted_expert_ids": list(result.counted_expert_ids)},
            )
        elif result.outcome == "failed":
            _tell_lead_unit_failed(session, application, result)
        return Scored(total, result, moved.version, moved.to_state)


def _tell_lead_unit_failed(session: Session, application: Application, result: Consensus) -> None:
    """The panel's mean is below the pass mark: rejecting or returning the case is a reviewer's call."""
    notify(
        session,
        kind="work_item",
        role="reviewer",
        bureau=application.lead_unit,
        link=f"/applications/{application.id}",
        message="note.panel_failed",
        params={"id": application.id, "mean": str(result.mean)},
        dedupe_key=f"panel_failed:{application.id}:{len(result.counted_expert_ids)}",
    )


def _panel_seat(session: Session, application_id: int, expert_id: int) -> ExpertAssignment:
    """An expert's assignment to a case, excluded or not, as the lead unit manages the panel."""
    assignment = session.exec(
        select(ExpertAssignment)
        .where(col(ExpertAssignment.application_id) == application_id)
        .where(col(ExpertAssignment.expert_id) == expert_id)
    ).first()
    if assignment is None:
        raise NotFound("assignment", expert_id)
    return assignment


def _take_off_panel(
    session: Session,
    portal: Portal,
    actor: Actor,
    application: Application,
    seat: ExpertAssignment,
    reason: str,
    event: str,
    expected_version: int,
    *,
    conflicted: bool,
) -> int:
    """Mark `seat` excluded with its reason, bump the case and audit `event`; returns the new version.

    The one way a seat leaves the panel (recusal, a conflict found later, lateness): the row stays
    so the panel table shows who left and why, and the consensus leaves the seat out.
    """
    seat.conflicted = seat.conflicted or conflicted
    seat.excluded_at = portal.now()
    seat.reason = reason.strip()[:MAX_COMMENT]
    session.add(seat)
    session.flush()
    version = bump(session, application, expected_version, {"updated_at": portal.now()})
    audit_case(
        session,
        actor,
        application,
        event,
        {"expert_id": seat.expert_id, "version": version},
        comment=seat.reason,
    )
    return version


def exclude_conflicted(
    portal: Portal, actor: Actor, application_id: int, expert_id: int, reason: str, expected_version: int
) -> Consensus:
    """A conflict found later: the expert leaves the panel and their score stops counting."""
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", "say what the conflict is", "required")])
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        _require_lead_unit(actor, application)
        seat = _panel_seat(session, application_id, expert_id)
        version = _take_off_panel(
            session,
            portal,
            actor,
            application,
            seat,
            reason,
            "expert_excluded",
            expected_version,
            conflicted=True,
        )
        totals, excluded = score_totals(session, application_id)
        result = portal.rubric_for(application.measure_id).consensus(totals, excluded)
        if (
            result.outcome == "passed"
            and _offers(portal, application, PASS_EVENT)
            and _grant_may_go_on_notice(portal, session, application)
        ):
            advance(
                session,
                portal,
                application,
                SYSTEM_ACTOR,
                PASS_EVENT,
                comment=None,
                expected_version=version,
                audit_payload={"mean": result.mean, "counted_expert_ids": list(result.counted_expert_ids)},
            )
        return result


def _grant_may_go_on_notice(portal: Portal, session: Session, application: Application) -> bool:
    """Whether the amount set on the case is within what may be granted, so that the panel's
    pass can publish it. If not, the case waits in expert review: its page says why, and the
    lead unit concludes the review by hand once it has set the amount again (the expert's score
    is kept either way, never refused for something the expert cannot change)."""
    return grant_excess(portal, session, application) is None


def _offers(portal: Portal, application: Application, event: str) -> bool:
    """Whether the case's current stage has an edge for `event` (guards are checked when firing)."""
    workflow, _ = workflow_of(portal, application)
    return any(edge.event == event for edge in workflow.transitions_from(application.state))


def panel(portal: Portal, actor: Actor, application_id: int) -> Consensus:
    """The panel's current consensus as the actor may see it."""
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        totals, excluded = score_totals(session, application_id)
        return portal.rubric_for(application.measure_id).consensus(totals, excluded)


def recuse(portal: Portal, actor: Actor, application_id: int, reason: str, expected_version: int) -> int:
    """The expert declares a conflict and leaves the panel (before scoring); the lead unit is told.

    Returns the new version. The lead unit then replaces the expert.
    """
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", "say what the conflict is", "required")])
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        assignment = _my_assignment(session, actor, application_id)
        if session.exec(
            select(ExpertScore.id).where(col(ExpertScore.assignment_id) == assignment.id)
        ).first():
            raise Refused(
                "already_scored",
                "您已提交评分，不能再申请回避；如存在利益冲突，请告知牵头单位",
                "You have already scored this application, so you can no longer recuse yourself; "
                "tell the lead unit about the conflict.",
            )
        version = _take_off_panel(
            session,
            portal,
            actor,
            application,
            assignment,
            reason,
            "expert_recused",
            expected_version,
            conflicted=True,
        )
        notify(
            session,
            kind="work_item",
            role="reviewer",
            bureau=application.lead_unit,
            link=f"/review/{application_id}#panel",
            message="note.expert_recused",
            params={"id": application_id},
            dedupe_key=f"recused:{assignment.id}",
        )
        return version


def response_due(portal: Portal, assignment: ExpertAssignment, measure_id: str) -> date:
    """The last working day an assigned expert has to score before the lead unit may replace them
    (the case's measure's rubric says how many working days they have)."""
    return portal.calendar.add_working_days(
        portal.clock.local_date(assignment.assigned_at), portal.rubric_for(measure_id).response_working_days
    )


def _is_late(portal: Portal, session: Session, seat: ExpertAssignment, measure_id: str) -> bool:
    """Assigned, past the day they had to score by, and no sheet in."""
    scored = session.exec(select(ExpertScore.id).where(col(ExpertScore.assignment_id) == seat.id)).first()
    return scored is None and portal.today() > response_due(portal, seat, measure_id)


def _tell_removed(session: Session, application: Application, seat: ExpertAssignment) -> None:
    """The expert taken off a case for not scoring in time is told; the case is no longer theirs."""
    notify(
        session,
        kind="expert_assignment",
        recipient_user_id=seat.expert_id,
        link="/expert",
        dedupe_key=f"removed_late:{seat.id}",
        message="note.expert_removed_late",
        params={"id": application.id, "measure": application.measure_id, "comment": seat.reason or ""},
    )


def remove_late(
    portal: Portal, actor: Actor, application_id: int, expert_id: int, reason: str, expected_version: int
) -> int:
    """Take off the panel an expert who has not scored by their deadline; returns the new version.

    The seat stays on record, marked excluded with the reason, and the expert loses the case. An
    expert whose sheet is in is never removed for lateness (a conflict found later is
    `exclude_conflicted`). The lead unit then assigns someone else, now or once the pool has one.
    """
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", "say why the expert is removed", "required")])
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        _require_lead_unit(actor, application)
        seat = _panel_seat(session, application_id, expert_id)
        if seat.excluded_at is not None or not _is_late(portal, session, seat, application.measure_id):
            raise Refused(
                "not_late",
                "仅可移出逾期未评分的专家",
                "only an expert who has not scored by their deadline can be removed for lateness",
            )
        version = _take_off_panel(
            session,
            portal,
            actor,
            application,
            seat,
            reason,
            "expert_removed_late",
            expected_version,
            conflicted=False,
        )
        _tell_removed(session, application, seat)
        return version


def _replaced(session: Session, application_id: int) -> set[int]:
    """The experts whose seat on this case's panel has already been given to someone else."""
    payloads = session.exec(
        select(AuditEvent.payload)
        .where(col(AuditEvent.subject_id) == str(application_id))
        .where(col(AuditEvent.event) == "expert_replaced")
    ).all()
    return {int(p["expert_id"]) for p in payloads if p and "expert_id" in p}


def replace_expert(
    portal: Portal,
    actor: Actor,
    application_id: int,
    expert_id: int,
    new_expert_id: int,
    reason: str,
    expected_version: int,
) -> ExpertAssignment:
    """Swap a panel member who declared a conflict, or who has not scored in time, for another expert.

    One transaction: the old member leaves the panel (their assignment stays, marked excluded, with
    the reason) and the new one is assigned with the same conflict check as any assignment.
    """
    with portal.transaction() as session:
        application = load_visible(session, actor, application_id)
        _require_lead_unit(actor, application)
        old = _panel_seat(session, application_id, expert_id)
        late = _is_late(portal, session, old, application.measure_id)
        if not (old.conflicted or late) or expert_id in _replaced(session, application_id):
            raise Refused(
                "not_replaceable",
                "仅可更换声明利益冲突或逾期未评分、且尚未被更换的专家",
                "only an expert who declared a conflict or has not scored in time, and is not replaced yet, "
                "can be replaced",
            )
        removed_now = old.excluded_at is None
        if removed_now:
            old.excluded_at = portal.now()
            old.reason = (reason.strip() or "逾期未评分")[:MAX_COMMENT]
            session.add(old)
        new = _assign(session, portal, actor, application, new_expert_id)
        version = bump(session, application, expected_version, {"updated_at": portal.now()})
        audit_case(
            session,
            actor,
            application,
            "expert_replaced",
            {"expert_id": expert_id, "new_expert_id": new_expert_id, "late": late, "version": version},
            comment=reason.strip() or None,
        )
        _tell_expert(session, application, new)
        if removed_now:
            _tell_removed(session, application, old)
        return new


@dataclass(frozen=True)
class PanelMember:
    """One assignment as the lead unit sees it: who, when, their declaration or refusal, their scores."""

    expert_id: int
    name: str
    assigned_at: datetime
    response_due: date
    declared_at: datetime | None
    declaration: str | None
    conflicted: bool
    excluded_at: datetime | None
    reason: str | None
    scores: dict[str, Decimal]
    comments: dict[str, str]
    total: Decimal | None
    submitted_at: datetime | None
    replaceable: bool
    late: bool
    """Still on the panel, unscored, past the day to score by: removable for lateness."""


@dataclass(frozen=True)
class PanelView:
    members: list[PanelMember]
    consensus: Consensus


def panel_view(portal: Portal, actor: Actor, application_id: int) -> PanelView:
    """The whole panel of a case for staff: members in assignment order and the consensus."""
    if actor.role not in ("reviewer", "admin"):
        raise Refused("wrong_role", "仅工作人员可以查看评审组", "only staff see the panel")
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        rows = session.exec(
            select(ExpertAssignment, User, ExpertScore)
            .join(User, col(User.id) == ExpertAssignment.expert_id)
            .outerjoin(ExpertScore, col(ExpertScore.assignment_id) == ExpertAssignment.id)
            .where(col(ExpertAssignment.application_id) == application_id)
            .order_by(col(ExpertAssignment.id))
        ).all()
        today = portal.today()
        replaced = _replaced(session, application_id)
        members = []
        for assignment, user, sheet in rows:
            due = response_due(portal, assignment, application.measure_id)
            members.append(
                PanelMember(
                    expert_id=assignment.expert_id,
                    name=user.display_name,
                    assigned_at=assignment.assigned_at,
                    response_due=due,
                    declared_at=assignment.declared_at,
                    declaration=assignment.declaration_text,
                    conflicted=assignment.conflicted,
                    excluded_at=assignment.excluded_at,
                    reason=assignment.reason,
                    scores={k: Decimal(str(v)) for k, v in (sheet.scores if sheet else {}).items()},
                    comments={k: str(v) for k, v in ((sheet.comments or {}) if sheet else {}).items()},
                    total=Decimal(sheet.total) if sheet else None,
                    submitted_at=sheet.submitted_at if sheet else None,
                    replaceable=assignment.expert_id not in replaced
                    and (assignment.conflicted or (sheet is None and today > due)),
                    late=assignment.excluded_at is None and sheet is None and today > due,
                )
            )
        totals, excluded = score_totals(session, application_id)
        return PanelView(members, portal.rubric_for(application.measure_id).consensus(totals, excluded))


def my_score(portal: Portal, actor: Actor, application_id: int) -> ExpertScore | None:
    """The expert's own submitted sheet (locked), or None before they score."""
    with portal.reading() as session:
        load_visible(session, actor, application_id)
        assignment = _my_assignment(session, actor, application_id)
        return session.exec(
            select(ExpertScore).where(col(ExpertScore.assignment_id) == assignment.id)
        ).first()


@dataclass(frozen=True)
class Candidate:
    """An active expert not yet on the case's panel, and every conflict that bars them from it
    (`conflict_reasons`; none: assignable)."""

    id: int
    name: str
    conflicts: tuple[str, ...]


def panel_candidates(portal: Portal, actor: Actor, application_id: int) -> list[Candidate]:
    """Who the lead unit may put on this case's panel, assignable first, then the conflicted with
    why: the picker's default is then one `assign_expert` accepts, and a barred expert is seen barred
    before anyone presses the button."""
    if actor.role not in ("reviewer", "admin"):
        raise Forbidden("仅工作人员可以查看专家库", "only staff see the expert roster")
    with portal.reading() as session:
        application = load_visible(session, actor, application_id)
        seated = set(
            session.exec(
                select(ExpertAssignment.expert_id).where(
                    col(ExpertAssignment.application_id) == application_id
                )
            ).all()
        )
        roster = session.exec(
            select(User).where(col(User.role) == "expert").where(col(User.active)).order_by(col(User.id))
        ).all()
        candidates = [
            Candidate(cast(int, e.id), e.display_name, conflicts_of(session, e, application))
            for e in roster
            if e.id not in seated
        ]
    return sorted(candidates, key=lambda c: bool(c.conflicts))
