"""The SLA sweep: mark and escalate overdue stages, and fire timed events such as closing a notice.

Deadlines live in the database, so a sweep run by cron after a restart sees exactly what a
sweep before it saw. Each action is its own transaction guarded by the case version, and
an escalation records `escalated_for_stage` in the same commit as its audit row: running
the sweep twice, or two sweeps at once, escalates a stage visit once. A case waiting for an
amendment (`reply_within`) is reminded, and its reviewers told when the reply is overdue,
once per stage visit each: the notification's dedupe key is the record.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import cast

from sqlalchemy import or_
from sqlmodel import Session, col, select

from portal.db.tables import Application
from portal.services.cases import advance, audit_case, bump, case_context, party_recipients, workflow_of
from portal.services.context import Portal
from portal.services.errors import BadStoredState, Refused, StaleVersion
from portal.services.listings import sweep_listings
from portal.services.notifications import notify
from portal.workflows.context import SYSTEM_ACTOR
from portal.workflows.sla import (
    Escalation,
    OpenCase,
    ReplyOverdue,
    ReplyReminder,
    TimedAdvance,
    plan_sweep,
)
from portal.workflows.spec import Label

ESCALATED = "sla_escalated"
"""The audit event of an escalation (the dashboard counts them)."""


@dataclass(frozen=True)
class TimedMove:
    """A case a stage's timer moved on, with both stages as people read them (the CLI prints them)."""

    case_id: int
    source: str
    target: str
    source_label: Label
    target_label: Label


@dataclass
class SweepReport:
    """What one sweep did; `skipped` lists cases that changed under it (they are retried next run)."""

    today: date
    escalated: list[int] = field(default_factory=list)
    advanced: list[TimedMove] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    broken: list[tuple[int, str]] = field(default_factory=list)
    # Register entries (procurement catalogue) reminded of their expiry, and those that expired.
    reminded_listings: list[int] = field(default_factory=list)
    expired_listings: list[int] = field(default_factory=list)
    # Cases whose applicant was reminded of the reply-by date, and whose reviewers were told it passed.
    reply_reminded: list[int] = field(default_factory=list)
    reply_overdue: list[int] = field(default_factory=list)


def _open_cases(portal: Portal) -> tuple[list[tuple[OpenCase, int]], list[tuple[int, str]]]:
    """Cases in a stage with a deadline or a timer (with the version the plan was made at),
    and stored rows the pack cannot interpret, which the sweep reports instead of skipping.
    """
    timed = {
        (name, state.name)
        for name, workflow in portal.workflows.items()
        for state in workflow.states
        if state.sla_working_days is not None or state.timer is not None or state.reply_within is not None
    }
    known_states = {state.name for workflow in portal.workflows.values() for state in workflow.states}
    query = select(Application).where(
        or_(
            col(Application.state).in_(sorted({state for _, state in timed})),
            col(Application.state).not_in(sorted(known_states)),
            col(Application.workflow).not_in(sorted(portal.workflows)),
        )
    )
    cases: list[tuple[OpenCase, int]] = []
    broken: list[tuple[int, str]] = []
    with portal.reading() as session:
        for row in session.exec(query).all():
            try:
                workflow_of(portal, row)
            except BadStoredState as exc:
                broken.append((cast(int, row.id), exc.problem))
                continue
            if (row.workflow, row.state) not in timed or row.stage_entered_at is None:
                continue
            case = OpenCase(
                case_id=cast(int, row.id),
                workflow=row.workflow,
                state=row.state,
                entered_on=portal.clock.local_date(row.stage_entered_at),
                deadline=row.due_on,
                escalated=row.escalated_for_stage == row.state,
                context=case_context(session, portal, row, SYSTEM_ACTOR),
            )
            cases.append((case, row.version))
    return cases, broken


def sweep(portal: Portal) -> SweepReport:
    """Run every action due today; safe to run any number of times a day."""
    today = portal.today()
    planned, broken = _open_cases(portal)
    report = SweepReport(today, broken=broken)
    versions = {case.case_id: version for case, version in planned}
    workflows = {case.case_id: portal.workflows[case.workflow] for case, _ in planned}
    for action in plan_sweep([case for case, _ in planned], portal.workflows, portal.calendar, today):
        try:
            if isinstance(action, TimedAdvance):
                _advance(portal, action, versions[action.case_id])
                workflow = workflows[action.case_id]
                report.advanced.append(
                    TimedMove(
                        action.case_id,
                        action.source,
                        action.target,
                        workflow.state(action.source).label,
                        workflow.state(action.target).label,
                    )
                )
            elif isinstance(action, ReplyReminder):
                if _remind_reply(portal, action, versions[action.case_id]):
                    report.reply_reminded.append(action.case_id)
            elif isinstance(action, ReplyOverdue):
                if _tell_reply_overdue(portal, action, versions[action.case_id]):
                    report.reply_overdue.append(action.case_id)
            else:
                _escalate(portal, action, versions[action.case_id])
                report.escalated.append(action.case_id)
        except (StaleVersion, Refused):
            report.skipped.append(action.case_id)
        except BadStoredState as exc:
            report.broken.append((action.case_id, exc.problem))
    listings = sweep_listings(portal)
    report.reminded_listings, report.expired_listings = listings.reminded, listings.expired
    return report


def _advance(portal: Portal, action: TimedAdvance, version: int) -> None:
    with portal.transaction() as session:
        application = session.get(Application, action.case_id)
        assert application is not None  # planned from a stored row moments ago; cases are never deleted
        advance(
            session, portal, application, SYSTEM_ACTOR, action.event, comment=None, expected_version=version
        )


def _escalate(portal: Portal, action: Escalation, version: int) -> None:
    with portal.transaction() as session:
        application = session.get(Application, action.case_id)
        assert application is not None
        _, state = workflow_of(portal, application)
        # The version guard makes a concurrent sweep (or a reviewer acting now) win cleanly.
        bump(session, application, version, {"overdue": True, "escalated_for_stage": action.state})
        # The version guard also means the stage is still `action.state`, which the row records.
        audit_case(
            session,
            SYSTEM_ACTOR,
            application,
            ESCALATED,
            {
                "deadline": action.deadline,
                "overdue_working_days": action.overdue_working_days,
                "responsible": action.responsible,
                "escalated_to": action.notify,
                "version": version + 1,
            },
        )
        recipients = party_recipients(application, action.notify)
        if recipients is None:
            return
        notify(
            session,
            kind="escalation",
            **recipients,
            link=f"/applications/{application.id}",
            message="note.escalation",
            params={
                "id": application.id,
                "measure": application.measure_id,
                "workflow": application.workflow,
                "state": state.name,
                "deadline": action.deadline.isoformat(),
                "days": action.overdue_working_days,
            },
            dedupe_key=f"escalation:{application.id}:{action.state}:{application.stage_entered_at}",
        )


def _waiting(session: Session, case_id: int, version: int) -> Application:
    """The case as planned, still waiting for the answer, held until the note commits.

    A resubmission (or any other step) since the plan was made is a StaleVersion, and the note is
    not sent. The row is read FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the
    write lock), so a resubmission cannot commit between this check and the note's commit: it
    waits for the note, which was then sent while the case was still waiting, and the version it
    compares is unchanged by it. Without the lock, a plain read would let the resubmission land
    after the check and the reminder go out for a case that has left the stage.
    """
    application = session.exec(
        select(Application)
        .where(col(Application.id) == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if application.version != version:
        raise StaleVersion("application", case_id, version, application.version)
    return application


def _reply_params(application: Application, reply_by: date) -> dict[str, object]:
    return {
        "id": application.id,
        "measure": application.measure_id,
        "workflow": application.workflow,
        "state": application.state,
        "deadline": reply_by.isoformat(),
    }


def _remind_reply(portal: Portal, action: ReplyReminder, version: int) -> bool:
    """Remind the enterprise, as the amendment request told it, that its answer is still awaited."""
    with portal.transaction() as session:
        application = _waiting(session, action.case_id, version)
        return notify(
            session,
            kind="case_update",
            enterprise_id=application.enterprise_id,
            link=f"/applications/{application.id}",
            message="note.reply_reminder",
            params=_reply_params(application, action.reply_by),
            dedupe_key=f"reply_reminder:{application.id}:{application.stage_entered_at}",
        )


def _tell_reply_overdue(portal: Portal, action: ReplyOverdue, version: int) -> bool:
    """Tell the unit that asked for the amendment (the jurisdiction of the edge it used) that
    the reply-by day passed; what to do about it is its call."""
    with portal.transaction() as session:
        application = _waiting(session, action.case_id, version)
        workflow, state = workflow_of(portal, application)
        asked = (
            next(
                (
                    edge.jurisdiction
                    for edge in workflow.transitions_from(application.returned_from)
                    if edge.target == state.name
                ),
                None,
            )
            if application.returned_from is not None
            else None
        )
        recipients = party_recipients(application, asked)
        if recipients is None:
            return False
        return notify(
            session,
            kind="work_item",
            **recipients,
            link=f"/applications/{application.id}",
            message="note.reply_overdue",
            params=_reply_params(application, action.reply_by),
            dedupe_key=f"reply_overdue:{application.id}:{application.stage_entered_at}",
        )
