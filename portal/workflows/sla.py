"""Stage deadlines and what the SLA sweep must do, computed from plain values.

Deadlines live in the database (timers in memory die with the process); these functions
only compute them. The sweep is made idempotent by its caller: an escalation is planned
only for a case whose current stage visit has no escalation on record yet, and the caller
records one in the same transaction as the audit event.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from portal.workflows.context import SYSTEM_ACTOR, CaseContext
from portal.workflows.errors import UnknownWorkflow
from portal.workflows.spec import Party, StateSpec
from portal.workflows.workflow import Workflow
from portal.workflows.working_days import WorkingCalendar


def stage_deadline(state: StateSpec, entered_on: date, calendar: WorkingCalendar) -> date | None:
    """The last working day for the stage entered on `entered_on`, or None if it has no SLA."""
    if state.sla_working_days is None:
        return None
    return calendar.add_working_days(entered_on, state.sla_working_days)


def remaining_working_days(calendar: WorkingCalendar, deadline: date, paused_on: date) -> int:
    """Working days left when the clock pauses (for amendment); an overdue stage keeps 0."""
    return max(calendar.working_days_between(paused_on, deadline), 0)


def resumed_deadline(calendar: WorkingCalendar, remaining: int, resumed_on: date) -> date:
    """The deadline after resubmission: the days that were left, counted from the resumption."""
    return calendar.add_working_days(resumed_on, remaining)


def reply_due_on(state: StateSpec, entered_on: date, calendar: WorkingCalendar) -> date | None:
    """The last day to answer an amendment request made on `entered_on`, or None without a period."""
    period = state.reply_within
    if period is None:
        return None
    if period.counted == "working_days":
        return calendar.add_working_days(entered_on, period.days)
    due = entered_on + timedelta(days=period.days)
    # 民法典 第二百零三条: a period whose last day is a statutory rest day ends on the day after it.
    while not calendar.is_working_day(due):
        due += timedelta(days=1)
    return due


def reply_remind_on(state: StateSpec, entered_on: date, calendar: WorkingCalendar) -> date | None:
    """The day the applicant is reminded that its answer is still awaited: the stage's
    `remind_before_working_days` working days before `reply_due_on`, never the day of the request."""
    due = reply_due_on(state, entered_on, calendar)
    if due is None or state.reply_within is None or state.reply_within.remind_before_working_days is None:
        return None
    remind = calendar.working_day_before(due, state.reply_within.remind_before_working_days)
    return max(remind, entered_on + timedelta(days=1))


def timer_due_on(state: StateSpec, entered_on: date) -> date | None:
    """The first date the state's timed event may fire (e.g. the day after a 7-day notice)."""
    if state.timer is None:
        return None
    return entered_on + timedelta(days=state.timer.calendar_days)


def timer_last_day(state: StateSpec, entered_on: date) -> date | None:
    """The last day of a timed state's period, the day before its timed event may fire (a 7-day
    notice entered on D runs D to D+6); None for a state without a timer."""
    due = timer_due_on(state, entered_on)
    return due - timedelta(days=1) if due is not None else None


@dataclass(frozen=True, kw_only=True)
class OpenCase:
    """A case as the sweep sees it: its stage visit, stored deadline and guard facts."""

    case_id: int
    workflow: str
    state: str
    entered_on: date
    deadline: date | None
    escalated: bool
    context: CaseContext


@dataclass(frozen=True)
class Escalation:
    """Record an audit event and notify `notify` that `responsible` missed the deadline."""

    case_id: int
    state: str
    deadline: date
    overdue_working_days: int
    responsible: Party | None
    notify: Party | None


@dataclass(frozen=True)
class ReplyReminder:
    """Remind the applicant once that its answer to the amendment request is due by `reply_by`."""

    case_id: int
    reply_by: date


@dataclass(frozen=True)
class ReplyOverdue:
    """Tell the unit that asked for the amendment, once, that `reply_by` passed without an answer."""

    case_id: int
    reply_by: date


@dataclass(frozen=True)
class TimedAdvance:
    """Fire `event` as the system actor: the stage's timer has run out and its guards hold."""

    case_id: int
    event: str
    source: str
    target: str


def _timed_advance(case: OpenCase, workflow: Workflow, state: StateSpec, today: date) -> TimedAdvance | None:
    due_on = timer_due_on(state, case.entered_on)
    if state.timer is None or due_on is None or today < due_on:
        return None
    # The guards still decide: a pending or sustained objection holds the case for a reviewer.
    context = replace(case.context, notice_elapsed=True)
    for event in workflow.allowed_events(case.state, SYSTEM_ACTOR, context):
        if event.name == state.timer.event:
            return TimedAdvance(case.case_id, event.name, case.state, event.target)
    return None


SweepAction = Escalation | TimedAdvance | ReplyReminder | ReplyOverdue


def _reply_action(
    case: OpenCase, state: StateSpec, calendar: WorkingCalendar, today: date
) -> SweepAction | None:
    """While the case waits for an amendment: the reminder from its day up to the reply-by day,
    the overdue note from the day after. The caller sends each once per stage visit."""
    reply_by = reply_due_on(state, case.entered_on, calendar)
    if reply_by is None:
        return None
    if today > reply_by:
        return ReplyOverdue(case.case_id, reply_by)
    remind_on = reply_remind_on(state, case.entered_on, calendar)
    if remind_on is not None and today >= remind_on:
        return ReplyReminder(case.case_id, reply_by)
    return None


def plan_sweep(
    cases: Iterable[OpenCase],
    workflows: Mapping[str, Workflow],
    calendar: WorkingCalendar,
    today: date,
) -> list[SweepAction]:
    """The actions due on `today`, one at most per case; a case that advances is not escalated."""
    actions: list[SweepAction] = []
    for case in cases:
        workflow = workflows.get(case.workflow)
        if workflow is None:
            raise UnknownWorkflow(case.workflow)
        state = workflow.state(case.state)
        advance = _timed_advance(case, workflow, state, today)
        if advance is not None:
            actions.append(advance)
            continue
        reply = _reply_action(case, state, calendar, today)
        if reply is not None:
            actions.append(reply)
            continue
        if state.paused_sla or case.deadline is None or case.escalated or today <= case.deadline:
            continue
        actions.append(
            Escalation(
                case_id=case.case_id,
                state=case.state,
                deadline=case.deadline,
                overdue_working_days=calendar.working_days_between(case.deadline, today),
                responsible=state.responsible,
                notify=state.escalate_to,
            )
        )
    return actions
