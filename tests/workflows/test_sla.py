"""Deadlines, the amendment pause, and what the SLA sweep plans from stored values."""

from dataclasses import replace
from datetime import date

import pytest
from wf_helpers import BASE_CASE

from portal.workflows import CaseContext, UnknownState, Workflow, WorkingCalendar, stage_deadline
from portal.workflows.errors import UnknownWorkflow
from portal.workflows.sla import (
    Escalation,
    OpenCase,
    ReplyOverdue,
    ReplyReminder,
    TimedAdvance,
    plan_sweep,
    remaining_working_days,
    reply_due_on,
    reply_remind_on,
    resumed_deadline,
    timer_due_on,
)
from portal.workflows.spec import ReplyPeriod

D = date


def open_case(**changes: object) -> OpenCase:
    base = OpenCase(
        case_id=1,
        workflow="municipal",
        state="district_review",
        entered_on=D(2025, 9, 26),
        deadline=D(2025, 10, 16),
        escalated=False,
        context=BASE_CASE,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_stage_deadline_counts_working_days(
    workflows: dict[str, Workflow], calendar: WorkingCalendar
) -> None:
    wf = workflows["municipal"]
    # District review entered Fri 26 Sep 2025: Sun 28 (worked), 29, 30 Sep, then 9, 10, 11 (Sat,
    # worked), 13–16 Oct; the eight-day National Day holiday does not count.
    assert stage_deadline(wf.state("district_review"), D(2025, 9, 26), calendar) == D(2025, 10, 16)
    assert stage_deadline(wf.state("returned_for_amendment"), D(2025, 9, 26), calendar) is None
    assert stage_deadline(wf.state("disbursed"), D(2025, 9, 26), calendar) is None


def test_the_reply_date_counts_the_calendar_file(
    workflows: dict[str, Workflow], calendar: WorkingCalendar
) -> None:
    amending = workflows["municipal"].state("returned_for_amendment")  # 15 working days
    # Returned Fri 26 Sep 2025: Sun 28 (worked), 29, 30 Sep, the National Day holiday (1–8 Oct)
    # skipped, 9, 10, 11 (Sat, worked), 13–17, 20–23 Oct.
    assert reply_due_on(amending, D(2025, 9, 26), calendar) == D(2025, 10, 23)
    # Returned Fri 4 Dec 2026: three weekends skipped, to Fri 25 Dec.
    assert reply_due_on(amending, D(2026, 12, 4), calendar) == D(2026, 12, 25)
    natural = replace(amending, reply_within=ReplyPeriod(15, "calendar_days"))
    assert reply_due_on(natural, D(2025, 9, 26), calendar) == D(2025, 10, 11)  # a Saturday worked
    # A period whose last day is a rest day ends on the next working day (民法典 第二百零三条):
    # 5 Oct 2025 falls in the National Day holiday, so 9 Oct; Sun 13 Dec 2026, so Mon 14 Dec.
    assert reply_due_on(natural, D(2025, 9, 20), calendar) == D(2025, 10, 9)
    nine = replace(amending, reply_within=ReplyPeriod(9, "calendar_days"))
    assert reply_due_on(nine, D(2026, 12, 4), calendar) == D(2026, 12, 14)
    assert reply_due_on(workflows["municipal"].state("district_review"), D(2025, 9, 26), calendar) is None


def test_the_reminder_comes_working_days_before_the_reply_date(
    workflows: dict[str, Workflow], calendar: WorkingCalendar
) -> None:
    amending = workflows["municipal"].state("returned_for_amendment")  # 15 days, remind 3 before
    # Returned Tue 8 Dec 2026: reply by Tue 29 Dec; three working days back, over the weekend of
    # 26–27 Dec, is Thu 24 Dec.
    assert reply_due_on(amending, D(2026, 12, 8), calendar) == D(2026, 12, 29)
    assert reply_remind_on(amending, D(2026, 12, 8), calendar) == D(2026, 12, 24)
    assert (
        reply_remind_on(
            replace(amending, reply_within=ReplyPeriod(15, "working_days")), D(2026, 12, 8), calendar
        )
        is None
    )
    # A reminder never falls on the day of the request itself.
    short = replace(amending, reply_within=ReplyPeriod(2, "calendar_days", 1))
    assert reply_remind_on(short, D(2026, 12, 11), calendar) == D(2026, 12, 12)
    returned = open_case(state="returned_for_amendment", entered_on=D(2026, 12, 8), deadline=None)
    plan = {
        day: plan_sweep([returned], workflows, calendar, D(2026, 12, day)) for day in (23, 24, 28, 29, 30, 31)
    }
    assert plan[23] == []
    assert plan[24] == plan[28] == plan[29] == [ReplyReminder(1, D(2026, 12, 29))]
    assert plan[30] == plan[31] == [ReplyOverdue(1, D(2026, 12, 29))]


def test_amendment_pauses_and_resumes_the_clock(calendar: WorkingCalendar) -> None:
    deadline = D(2025, 10, 17)
    left = remaining_working_days(calendar, deadline, paused_on=D(2025, 10, 9))
    assert left == 7  # 10, 11 (Sat, worked), 13, 14, 15, 16, 17 Oct
    # Resubmitted on Fri 23 Jan 2026, the seven days run to Tue 3 Feb.
    assert resumed_deadline(calendar, left, D(2026, 1, 23)) == D(2026, 2, 3)
    # Resubmitted just before Spring Festival 2026: 13, 14 (Sat, worked), 24–27 Feb, 28 (Sat, worked).
    assert resumed_deadline(calendar, left, D(2026, 2, 12)) == D(2026, 2, 28)
    assert remaining_working_days(calendar, deadline, paused_on=D(2025, 10, 20)) == 0


def test_escalation_fires_once_when_overdue(
    workflows: dict[str, Workflow], calendar: WorkingCalendar
) -> None:
    case = open_case()
    assert plan_sweep([case], workflows, calendar, D(2025, 10, 16)) == []  # due today: not late yet
    actions = plan_sweep([case], workflows, calendar, D(2025, 10, 21))
    assert actions == [
        Escalation(
            case_id=1,
            state="district_review",
            deadline=D(2025, 10, 16),
            overdue_working_days=3,
            responsible="district",
            notify="bureau",
        )
    ]
    # The service records the escalation with the audit event; a later sweep (or the same
    # one after a restart, reading the same rows) plans nothing more for this stage visit.
    assert plan_sweep([replace(case, escalated=True)], workflows, calendar, D(2025, 10, 22)) == []
    # Planning is a function of stored values only: repeating it gives the same answer.
    assert plan_sweep([case], workflows, calendar, D(2025, 10, 21)) == actions


def test_paused_and_clockless_stages_are_not_escalated(
    workflows: dict[str, Workflow], calendar: WorkingCalendar
) -> None:
    late = D(2025, 12, 1)
    paused = open_case(state="returned_for_amendment")
    no_deadline = open_case(state="draft", deadline=None)
    # The paused stage is not escalated; only its reply period, long past, is reported.
    assert plan_sweep([paused, no_deadline], workflows, calendar, late) == [ReplyOverdue(1, D(2025, 10, 23))]


def test_notice_closes_after_seven_calendar_days(
    workflows: dict[str, Workflow], calendar: WorkingCalendar
) -> None:
    wf = workflows["municipal"]
    entered = D(2026, 9, 30)
    assert timer_due_on(wf.state("public_notice"), entered) == D(2026, 10, 7)
    case = open_case(
        state="public_notice",
        entered_on=entered,
        deadline=None,
        context=replace(BASE_CASE, notice_elapsed=False),
    )
    assert plan_sweep([case], workflows, calendar, D(2026, 10, 6)) == []
    assert plan_sweep([case], workflows, calendar, D(2026, 10, 7)) == [
        TimedAdvance(case_id=1, event="close_notice", source="public_notice", target="approved")
    ]


@pytest.mark.parametrize(
    "objection",
    [replace(BASE_CASE, objection_pending=True), replace(BASE_CASE, objection_sustained=True)],
    ids=["pending", "sustained"],
)
def test_objection_holds_the_notice(
    workflows: dict[str, Workflow], calendar: WorkingCalendar, objection: CaseContext
) -> None:
    case = open_case(state="public_notice", entered_on=D(2025, 3, 3), deadline=None, context=objection)
    assert plan_sweep([case], workflows, calendar, D(2025, 4, 1)) == []


def test_unknown_workflow_or_state_in_a_row(
    workflows: dict[str, Workflow], calendar: WorkingCalendar
) -> None:
    with pytest.raises(UnknownWorkflow):
        plan_sweep([open_case(workflow="gone")], workflows, calendar, D(2025, 10, 21))
    with pytest.raises(UnknownState):
        plan_sweep([open_case(state="archived")], workflows, calendar, D(2025, 10, 21))
