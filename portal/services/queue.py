"""The reviewers' queue as one SQL query: search, filters, sort and keyset pagination.

Pages are cut with a keyset (`WHERE (key, id) > (last key, last id)`), never OFFSET, so the
hundredth page of a 100,000-case queue costs what the first does. Every sort key puts cases
without a value (no deadline, no amount) last whichever way it runs, and ties are broken by the
case id, so each case appears on exactly one page even when many share a deadline.

The deadline a case sorts by is the one its row shows: a case waiting for the applicant's
amendment in a stage with a reply period (`reply_within`) sorts by its reply-by day, not by the
paused stage deadline it keeps for when the review resumes, and a case in a timed stage without
a deadline (a public notice) by the day its timed event follows. Those days are derived, never
stored (`reply_due_on`, `timer_due_on`, from the day the case entered the stage), so the query
computes them with a CASE whose branches are the runs of entry days that share a day
(`_due_column`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, Literal

from sqlalchemy import ColumnElement, Date, and_, case, literal, or_
from sqlmodel import Session, col, select

from portal.db.tables import Application, Enterprise
from portal.rules import Rule
from portal.services.access import visible_to
from portal.services.context import Portal
from portal.workflows import Actor
from portal.workflows.sla import reply_due_on, timer_due_on
from portal.workflows.spec import StateSpec
from portal.workflows.working_days import WorkingCalendar

SortKey = Literal["due", "submitted", "amount", "stage"]
SORT_KEYS: tuple[SortKey, ...] = ("due", "submitted", "amount", "stage")
# Whose cases: any (""), the reviewer's own ("me"), or nobody's yet ("none").
Holder = Literal["", "me", "none"]
HOLDERS: tuple[Holder, ...] = ("", "me", "none")
PAGE_SIZE = 50
EXPORT_LIMIT = 20_000


@dataclass(frozen=True)
class QueueQuery:
    """What the reviewer asked for; empty strings mean "any". `after` is the previous page's cursor."""

    q: str = ""
    state: str = ""
    district: str = ""
    measure: str = ""
    track: str = ""
    holder: Holder = ""
    sort: SortKey = "due"
    descending: bool = False
    after: str = ""


@dataclass(frozen=True)
class QueuePage:
    """One page of (case, enterprise) pairs and the cursor of the next page (None on the last)."""

    rows: list[tuple[Application, Enterprise]]
    next_cursor: str | None


def stage_order(portal: Portal) -> dict[str, int]:
    """Each stage's position in the workflow files, so sorting by stage follows the process."""
    order: dict[str, int] = {}
    for workflow in portal.workflows.values():
        for state in workflow.states:
            order.setdefault(state.name, len(order))
    return order


def takes(actor: Actor, roles: frozenset[str], jurisdiction: str) -> bool:
    """Whether the actor's role and jurisdiction could fire a transition with these rules.

    The case-level check (this district, this lead unit) is the workflow's; this answers
    "is this the kind of step this reviewer does", to offer only those stages and actions.
    """
    if actor.role == "admin":
        return True
    scopes = {"none"} | ({"district"} if actor.district else set()) | ({"bureau"} if actor.bureau else set())
    return actor.role in roles and jurisdiction in scopes


def my_measures(portal: Portal, actor: Actor) -> list[Rule]:
    """The measures this actor works on (each one's latest version), in the pack's order: theirs
    (every measure for a district's reviewer, their unit's for a bureau's) and with a workflow
    step of the actor's kind (`takes`). What the queue's filters and bulk actions are built from,
    so a bureau's reviewer is not offered another unit's workflow."""
    admin = actor.role == "admin"
    chosen = []
    for measure in portal.pack.measure_ids():
        rule = portal.pack.versions(measure)[-1]
        workflow = portal.workflows.get(rule.workflow or "")
        mine = admin or actor.district is not None or rule.lead_unit == actor.bureau
        if (
            workflow is not None
            and mine
            and any(takes(actor, e.roles, e.jurisdiction) for e in workflow.transitions)
        ):
            chosen.append(rule)
    return chosen


def districts_seen(portal: Portal, actor: Actor) -> set[str] | None:
    """The districts whose cases this actor may see, from the scopes `visible_to` grants: their
    own district, and those their unit's cases come from (a district-level bureau's are one
    district's). None for an admin, who sees every district."""
    if actor.role == "admin":
        return None
    districts = {actor.district} if actor.district else set()
    if actor.bureau is not None:
        statement = (
            select(col(Application.district))
            .distinct()
            .where(visible_to(actor), col(Application.lead_unit) == actor.bureau)
        )
        with portal.reading() as session:
            districts.update(session.exec(statement).all())
    return districts


def workflows_of(measures: Sequence[Rule]) -> list[str]:
    """The workflows `measures` run (e.g. `my_measures`), in their order."""
    return list(dict.fromkeys(rule.workflow for rule in measures if rule.workflow))


@dataclass(frozen=True)
class _Derived:
    """How a stage's row day follows from the day a case entered it, and whether a stored
    deadline comes first (a timed stage's event day shows only when it has none)."""

    day: Callable[[dt.date], dt.date | None]
    after_deadline: bool


def _derived_stages(portal: Portal) -> dict[tuple[str, str], _Derived]:
    """The (workflow, stage) pairs whose row shows a day derived from the case's entry."""
    derived: dict[tuple[str, str], _Derived] = {}
    for name, workflow in portal.workflows.items():
        for state in workflow.states:
            if state.reply_within is not None:
                derived[(name, state.name)] = _Derived(partial(_reply_by, state, portal.calendar), False)
            elif state.timer is not None:
                derived[(name, state.name)] = _Derived(partial(timer_due_on, state), True)
    return derived


def _reply_by(state: StateSpec, calendar: WorkingCalendar, entered_on: dt.date) -> dt.date | None:
    return reply_due_on(state, entered_on, calendar)


def due_key(portal: Portal, application: Application) -> dt.date | None:
    """The day a case is due by, as its row shows it: the reply-by day while it waits for an
    amendment with a reply period, else the stage deadline, else a timed stage's event day
    (None without any)."""
    derived = _derived_stages(portal).get((application.workflow, application.state))
    if derived is None or application.stage_entered_at is None:
        return application.due_on
    if derived.after_deadline and application.due_on is not None:
        return application.due_on
    return derived.day(portal.clock.local_date(application.stage_entered_at))


def _due_column(portal: Portal, session: Session) -> Any:
    """`due_key` in SQL: the stored deadline, or the day derived from the local day the case
    entered its stage.

    One branch per run of entry days that share a day, over the days on which the cases now in
    those stages entered (and today, open-ended, for a case entering while the page is read). A
    derived day never falls as the entry day advances, so two entry days with the same one share
    it with every day between them: the branches grow with the cases' distinct entry days, not
    with how long the oldest has waited.
    """
    stages = _derived_stages(portal)
    if not stages:
        return col(Application.due_on)
    waiting = or_(
        *(and_(col(Application.workflow) == w, col(Application.state) == s) for w, s in sorted(stages))
    )
    entered = col(Application.stage_entered_at)
    rows = session.exec(
        select(col(Application.workflow), col(Application.state), entered)
        .where(waiting, entered.is_not(None))
        .distinct()
    ).all()
    today, clock = portal.today(), portal.clock
    days: dict[tuple[str, str], set[dt.date]] = {}
    for workflow, state, at in rows:
        if at is None:  # filtered out above; the column is nullable
            continue
        days.setdefault((workflow, state), {today}).add(clock.local_date(at))
    branches: list[tuple[ColumnElement[bool], dt.date | None]] = []
    for (workflow, state), entry_days in sorted(days.items()):
        derived = stages[(workflow, state)]
        runs = _runs(derived.day, sorted(entry_days))
        for index, (first, last, due) in enumerate(runs):
            since = entered >= clock.start_of(first)
            on_days = (
                since
                if index == len(runs) - 1
                else and_(since, entered < clock.start_of(last + dt.timedelta(days=1)))
            )
            when = and_(col(Application.workflow) == workflow, col(Application.state) == state, on_days)
            if derived.after_deadline:
                when = and_(when, col(Application.due_on).is_(None))
            branches.append((when, due))
    if not branches:
        return col(Application.due_on)
    return case(*((when, literal(due, Date())) for when, due in branches), else_=col(Application.due_on))


def _runs(
    day_of: Callable[[dt.date], dt.date | None], days: Sequence[dt.date]
) -> list[tuple[dt.date, dt.date, dt.date | None]]:
    """`days` (ascending) as (first day, last day, derived day) runs of one derived day each."""
    runs: list[tuple[dt.date, dt.date, dt.date | None]] = []
    for day in days:
        due = day_of(day)
        if runs and runs[-1][2] == due:
            runs[-1] = (runs[-1][0], day, due)
        else:
            runs.append((day, day, due))
    return runs


def _sort_column(portal: Portal, session: Session, key: SortKey) -> Any:
    if key == "stage":
        return case(stage_order(portal), value=col(Application.state), else_=len(stage_order(portal)))
    if key == "due":
        return _due_column(portal, session)
    return {
        "submitted": col(Application.submitted_at),
        "amount": col(Application.granted_amount),
    }[key]


def _encode(value: object, case_id: int) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else None if value is None else str(value)
    return base64.urlsafe_b64encode(json.dumps([text, case_id]).encode()).decode().rstrip("=")


def _decode(key: SortKey, cursor: str) -> tuple[object, int] | None:
    """The cursor's (value, id), or None for a cursor that is not one of ours (then: first page)."""
    try:
        text, case_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(case_id, int) or not (text is None or isinstance(text, str)):
            return None
        if text is None:
            return None, case_id
        parse: dict[SortKey, Callable[[str], object]] = {
            "due": dt.date.fromisoformat,
            "submitted": dt.datetime.fromisoformat,
            "amount": Decimal,
            "stage": int,
        }
        value = parse[key](text)
        return value, case_id
    except (ValueError, TypeError, InvalidOperation, json.JSONDecodeError):
        return None


def _after(column: Any, descending: bool, value: object, case_id: int) -> ColumnElement[bool]:
    """The rows strictly after (value, id) in the order `column IS NULL, column [DESC], id [DESC]`."""
    next_id = col(Application.id) < case_id if descending else col(Application.id) > case_id
    if value is None:
        return and_(column.is_(None), next_id)
    beyond = column < value if descending else column > value
    return or_(beyond, and_(column == value, next_id), column.is_(None))


def _search(text: str) -> ColumnElement[bool]:
    """A case number (with or without `#`), part of an enterprise name, or the start of a USCC."""
    needle = text.strip()
    matches = [
        col(Enterprise.name).icontains(needle, autoescape=True),
        col(Enterprise.uscc).istartswith(needle, autoescape=True),
    ]
    number = needle.removeprefix("#")
    if number.isdigit() and len(number) < 12:
        matches.append(col(Application.id) == int(number))
    return or_(*matches)


def _filtered(portal: Portal, actor: Actor, query: QueueQuery) -> Any:
    statement = (
        select(Application, Enterprise)
        .join(Enterprise, col(Enterprise.id) == col(Application.enterprise_id))
        .where(visible_to(actor))
    )
    if query.q.strip():
        statement = statement.where(_search(query.q))
    for column, value in (
        (col(Application.state), query.state),
        (col(Application.district), query.district),
        (col(Application.measure_id), query.measure),
        (col(Application.track), query.track),
    ):
        if value:
            statement = statement.where(column == value)
    if query.holder == "me":
        statement = statement.where(col(Application.assignee_id) == actor.user_id)
    elif query.holder == "none":
        statement = statement.where(col(Application.assignee_id).is_(None))
    return statement


def _ordered(portal: Portal, session: Session, statement: Any, query: QueueQuery) -> Any:
    column = _sort_column(portal, session, query.sort)
    direction = (
        (column.desc(), col(Application.id).desc()) if query.descending else (column, col(Application.id))
    )
    return statement.order_by(column.is_(None), *direction)


def queue_page(portal: Portal, actor: Actor, query: QueueQuery, size: int = PAGE_SIZE) -> QueuePage:
    """One page of the cases this actor may see that match `query`, after its cursor."""
    statement = _filtered(portal, actor, query)
    cursor = _decode(query.sort, query.after) if query.after else None
    with portal.reading() as session:
        if cursor is not None:
            column = _sort_column(portal, session, query.sort)
            statement = statement.where(_after(column, query.descending, *cursor))
        statement = _ordered(portal, session, statement, query).limit(size + 1)
        rows = [(a, e) for a, e in session.exec(statement).all()]
    if len(rows) <= size:
        return QueuePage(rows, None)
    rows = rows[:size]
    last = rows[-1][0]
    assert last.id is not None
    return QueuePage(rows, _encode(_key_value(portal, query.sort, last), last.id))


def _key_value(portal: Portal, key: SortKey, application: Application) -> object:
    if key == "stage":
        order = stage_order(portal)
        return order.get(application.state, len(order))
    if key == "due":
        return due_key(portal, application)
    return {
        "submitted": application.submitted_at,
        "amount": application.granted_amount,
    }[key]


def queue_all(portal: Portal, actor: Actor, query: QueueQuery) -> list[tuple[Application, Enterprise]]:
    """Every matching case in the page's order, from the first (the exports), up to EXPORT_LIMIT."""
    with portal.reading() as session:
        statement = _ordered(portal, session, _filtered(portal, actor, query), query).limit(EXPORT_LIMIT)
        return [(a, e) for a, e in session.exec(statement).all()]


def matching_ids(portal: Portal, actor: Actor, query: QueueQuery) -> Any:
    """A SELECT of the ids of every case this actor may see that matches `query` (unordered, all)."""
    return _filtered(portal, actor, query).with_only_columns(col(Application.id))
