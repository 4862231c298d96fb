"""The case sets behind the supervision dashboard's figures, as SQL over `application`.

Every case figure on the dashboard counts one of these sets (grouped by measure, track,
district, stage or month), and its drill-down lists the same set with the group's values as
filters, so a figure and the cases behind it cannot disagree. Nothing here loads a case row: a
set is a FROM/WHERE, built once per query.

Which stages wait for 免申即享 confirmation, disburse or end a case comes from the workflows'
state kinds and flags, never from state names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args
from typing import cast as typed

from sqlalchemy import ColumnElement, Select, Table, and_, cast, exists, func, literal, or_, select, true
from sqlalchemy.sql.selectable import Subquery
from sqlmodel import SQLModel

from portal.db.tables import (
    Application,
    AuditEvent,
    Decision,
    Enterprise,
    ExpertAssignment,
    ExpertScore,
    Notification,
    Objection,
    SelfCheckResult,
    Transition,
)
from portal.rules import Outcome as RuleOutcome
from portal.services.context import Portal
from portal.services.errors import Forbidden
from portal.services.notifications import SCREENING_KIND
from portal.services.sla import ESCALATED
from portal.services.supervision_sql import Period, WorkingDays, local_date, month_of, period_of, working_days
from portal.workflows import Actor

CaseSet = Literal[
    "received", "notified", "offered", "approved", "paid", "overdue", "escalated", "visits", "late",
    "objection", "upheld", "dismissed", "panel", "conflict", "scored", "self_checked",
]  # fmt: skip
CASE_SETS: tuple[str, ...] = get_args(CaseSet)
# What became of a set's cases since, at any time: the funnels' later steps.
Outcome = Literal["", "applied", "confirmed", "approved", "paid"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
APPROVED = "approved"
# The track filter that selects the cases with no track (a value no pack's track code can take).
NO_TRACK = "-"


def district_scope(actor: Actor) -> str | None:
    """The district a reader is limited to (None: the whole city); Forbidden for other roles."""
    if actor.role == "admin":
        return None
    if actor.role == "supervisor":
        return actor.district
    raise Forbidden(
        "仅监管人员和管理员可以查看监管评估", "only supervisors and the admin see the supervision dashboard"
    )


def table_of(model: type[SQLModel]) -> Table:
    """A model's table, for SQL Core: the dashboard selects columns, never model instances."""
    return typed(Table, model.__table__)  # type: ignore[attr-defined]


A = table_of(Application)
E = table_of(Enterprise)
T = table_of(Transition)
D = table_of(Decision)
AnyQuery = Select[Any]


@dataclass(frozen=True)
class Selection:
    """One figure's cases: a set in a period, narrowed by the figure's row and column values.

    `state` is the stage the figure is about: the stage visited (visits, late, escalated), else
    the case's current stage. `month` (YYYY-MM) narrows the period to one month.
    """

    case_set: CaseSet
    period: Period
    district_scope: str | None
    outcome: Outcome = ""
    measure: str = ""
    track: str = ""
    district: str = ""
    unit: str = ""
    workflow: str = ""
    state: str = ""
    month: str = ""

    def narrowed(self, **values: str) -> Selection:
        return replace(self, **values)  # type: ignore[arg-type]


def _in_states(
    workflow: ColumnElement[str], state: ColumnElement[str], by_workflow: dict[str, set[str]]
) -> ColumnElement[bool]:
    tests = [and_(workflow == name, state.in_(sorted(names))) for name, names in sorted(by_workflow.items())]
    return or_(*tests) if tests else literal(False)


class Cases:
    """The SQL of the sets for one portal (its pack's workflows and calendar) and SQL dialect."""

    def __init__(self, portal: Portal, dialect: str) -> None:
        self.portal = portal
        self.dialect = dialect
        self.draft = self._states(lambda s: s.kind == "draft")
        self.confirmation = self._states(lambda s: s.kind == "confirmation")
        self.disbursing = self._states(lambda s: s.issues_letter == "disbursement")
        self.terminal = self._states(lambda s: s.final)
        self.sla_days = {
            (name, state.name): state.sla_working_days
            for name, workflow in portal.workflows.items()
            for state in workflow.states
            if state.sla_working_days is not None
        }

    def _states(self, test: Any) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for name, workflow in self.portal.workflows.items():
            for state in workflow.states:
                if test(state):
                    found.setdefault(name, set()).add(state.name)
        return found

    def local(self, instant: ColumnElement[dt.datetime]) -> ColumnElement[dt.date]:
        return local_date(instant, self.dialect, self.portal.calendar)

    def month(self, instant: ColumnElement[dt.datetime]) -> ColumnElement[str]:
        return month_of(self.local(instant))

    def within_month(self, period: Period, month: str) -> Period:
        """The part of `period` in `month` (YYYY-MM): empty when they do not meet."""
        try:
            first = dt.date.fromisoformat(f"{month}-01") if len(month) == 7 else None
        except ValueError:
            first = None
        if first is None:
            return period
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        start, end = max(first, period.start), min(last, period.end)
        return period_of(start, max(end, start - dt.timedelta(days=1)), self.portal.calendar.zone)

    # -- moments --------------------------------------------------------------------------

    def entered(self, by_workflow: dict[str, set[str]], name: str) -> Subquery:
        """(application_id, at): when each case first entered one of these states."""
        return (
            select(T.c.application_id, func.min(T.c.at).label("at"))
            .join(A, A.c.id == T.c.application_id)
            .where(_in_states(A.c.workflow, T.c.to_state, by_workflow))
            .group_by(T.c.application_id)
            .subquery(name)
        )

    def confirmed(self) -> Subquery:
        """Cases that left 免申即享 confirmation onward (not to a terminal state, as a decline does)."""
        return (
            select(T.c.application_id)
            .join(A, A.c.id == T.c.application_id)
            .where(
                _in_states(A.c.workflow, T.c.from_state, self.confirmation),
                ~_in_states(A.c.workflow, T.c.to_state, self.terminal),
            )
            .distinct()
            .subquery("confirmed")
        )

    def visits(self, district_scope: str | None) -> Subquery:
        """Every completed stage visit (application_id, workflow, district, lead_unit, state, entered,
        left) of the cases in scope; self-loops are no visit. The case's columns are joined before
        the window, so the planner hashes the join instead of probing a case per visit."""
        moves = (
            select(
                T.c.application_id,
                A.c.workflow,
                A.c.district,
                A.c.lead_unit,
                T.c.to_state.label("state"),
                T.c.at.label("entered"),
                func.lead(T.c.at)
                .over(partition_by=T.c.application_id, order_by=(T.c.at, T.c.id))
                .label("left"),
            )
            .join(A, A.c.id == T.c.application_id)
            .where(T.c.from_state != T.c.to_state)
        )
        if district_scope is not None:
            moves = moves.where(A.c.district == district_scope)
        inner = moves.subquery("moves")
        return select(inner).where(inner.c.left.is_not(None)).subquery("visit")

    def working_days(self, start: ColumnElement[dt.datetime], end: ColumnElement[dt.datetime]) -> WorkingDays:
        """Working days from `start`'s local date to `end`'s (a span outside the calendar is left out)."""
        return working_days(self.local(start), self.local(end), self.portal.calendar, self.dialect)

    def timed(
        self, workflow: ColumnElement[str], state: ColumnElement[str], days: ColumnElement[int], *, late: bool
    ) -> ColumnElement[bool]:
        """The stage has a deadline (and, with `late`, the visit took longer than it)."""
        tests = [
            and_(workflow == w, state == s, days > n if late else true())
            for (w, s), n in sorted(self.sla_days.items())
        ]
        return or_(*tests) if tests else literal(False)

    # -- the sets -------------------------------------------------------------------------

    def select(self, chosen: Selection) -> tuple[AnyQuery, ColumnElement[dt.datetime] | None]:
        """FROM/WHERE of the chosen cases (joined to their enterprise) with no columns yet, and the
        moment each case entered the set (None for a set that is a state of today)."""
        query: AnyQuery = select().select_from(A.join(E, E.c.id == A.c.enterprise_id))
        period = self.within_month(chosen.period, chosen.month) if chosen.month else chosen.period
        query, moment = self._set(query, chosen, period)
        query = self._outcome(query, chosen.outcome)
        if chosen.district_scope is not None:
            query = query.where(A.c.district == chosen.district_scope)
        if chosen.track == NO_TRACK:
            query = query.where(A.c.track.is_(None))
        for value, column in (
            (chosen.measure, A.c.measure_id),
            (chosen.track if chosen.track != NO_TRACK else "", A.c.track),
            (chosen.district, A.c.district),
            (chosen.unit, A.c.lead_unit),
            (chosen.workflow, A.c.workflow),
        ):
            if value:
                query = query.where(column == value)
        return query, moment

    def _set(
        self, query: AnyQuery, chosen: Selection, period: Period
    ) -> tuple[AnyQuery, ColumnElement[dt.datetime] | None]:
        name = chosen.case_set
        if chosen.state and name not in ("visits", "late", "escalated"):
            query = query.where(A.c.state == chosen.state)
        if name == "received":
            received = func.coalesce(A.c.submitted_at, A.c.created_at)
            return query.where(
                period.holds(received), ~_in_states(A.c.workflow, A.c.state, self.draft)
            ), received
        if name == "self_checked":
            # Cases an enterprise started after its self-check found it eligible for the measure.
            c = table_of(SelfCheckResult)
            checked = exists().where(
                c.c.enterprise_id == A.c.enterprise_id,
                c.c.measure_id == A.c.measure_id,
                c.c.outcome == RuleOutcome.ELIGIBLE.value,
                period.holds(c.c.checked_at),
                c.c.checked_at <= A.c.created_at,
            )
            return query.where(checked), None
        if name == "overdue":
            return query.where(A.c.overdue.is_(True)), None
        if name == "notified":
            n = table_of(Notification)
            prefix = literal(f"{SCREENING_KIND}:") + A.c.measure_id + literal(":")
            told = exists().where(
                n.c.kind == SCREENING_KIND,
                n.c.enterprise_id == A.c.enterprise_id,
                func.substr(n.c.dedupe_key, 1, func.length(prefix)) == prefix,
                period.holds(n.c.created_at),
            )
            return query.where(told), None
        if name in ("offered", "paid"):
            moved = self.entered(self.confirmation if name == "offered" else self.disbursing, f"{name}_at")
            return query.join(moved, moved.c.application_id == A.c.id).where(
                period.holds(moved.c.at)
            ), moved.c.at
        if name == "approved":
            return query.join(D, D.c.application_id == A.c.id).where(
                D.c.outcome == APPROVED, period.holds(D.c.decided_at)
            ), D.c.decided_at
        if name == "escalated":
            audit = table_of(AuditEvent)
            stage = [audit.c.to_state == chosen.state] if chosen.state else []
            raised = exists().where(
                audit.c.subject_type == "application",
                audit.c.subject_id == cast(A.c.id, audit.c.subject_id.type),
                audit.c.event == ESCALATED,
                period.holds(audit.c.at),
                *stage,
            )
            return query.where(raised), None
        if name in ("visits", "late"):
            visit = self.visits(chosen.district_scope)
            span = self.working_days(visit.c.entered, visit.c.left)
            inner = select(visit.c.application_id)
            for table, on in span.joins:
                inner = inner.join(table, on)
            inner = inner.where(
                period.holds(visit.c.left),
                span.known,
                self.timed(visit.c.workflow, visit.c.state, span.days, late=name == "late"),
            )
            if chosen.state:
                inner = inner.where(visit.c.state == chosen.state)
            return query.where(A.c.id.in_(inner)), None
        if name in ("objection", "upheld", "dismissed"):
            o = table_of(Objection)
            ruling = {
                "objection": [],
                "upheld": [o.c.sustained.is_(True)],
                "dismissed": [o.c.sustained.is_(False)],
            }
            return query.where(
                exists().where(o.c.application_id == A.c.id, period.holds(o.c.filed_at), *ruling[name])
            ), None
        x = table_of(ExpertAssignment)
        if name == "panel":
            first = select(x.c.application_id, func.min(x.c.assigned_at).label("at")).group_by(
                x.c.application_id
            )
            formed = first.subquery("panel")
            return query.join(formed, formed.c.application_id == A.c.id).where(
                period.holds(formed.c.at)
            ), formed.c.at
        if name == "conflict":
            return query.where(
                exists().where(
                    x.c.application_id == A.c.id, x.c.conflicted.is_(True), period.holds(x.c.excluded_at)
                )
            ), None
        s = table_of(ExpertScore)
        return query.where(
            exists().where(
                x.c.application_id == A.c.id, s.c.assignment_id == x.c.id, period.holds(s.c.submitted_at)
            )
        ), None

    def _outcome(self, query: AnyQuery, outcome: str) -> AnyQuery:
        if outcome == "applied":
            return query.where(A.c.submitted_at.is_not(None))
        if outcome == "approved":
            return query.where(exists().where(D.c.application_id == A.c.id, D.c.outcome == APPROVED))
        if outcome == "paid":
            return query.where(
                A.c.id.in_(select(self.entered(self.disbursing, "disbursed_ever").c.application_id))
            )
        if outcome == "confirmed":
            return query.where(A.c.id.in_(select(self.confirmed().c.application_id)))
        return query
