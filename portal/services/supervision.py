"""监管评估: the supervision dashboard's figures, aggregated in SQL for a period and a scope.

A supervisor reads the city or one district (their account's district); the admin reads the
city. Each figure is a GROUP BY over one of `supervision_sets`' case sets, or over the bank
and expert tables, so the page costs a fixed number of queries whatever the number of cases.
Durations are working days on the pack's calendar; medians and 90th percentiles are read off
the per-duration counts the database returns, never off case rows.

What is not stored is not invented: screening runs keep their counts per measure but not per
district, so a district's screening funnel starts at the notice; an anonymous self-check has no
enterprise, so it counts for the city and leads to no case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ColumnElement, case, cast, func, null, select, text, true, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from portal.db.tables import (
    AuditEvent,
    ExpertAssignment,
    ExpertScore,
    Notification,
    Objection,
    RunStatus,
    ScreeningRun,
    SelfCheckResult,
)
from portal.db.types import money_sum
from portal.rules import Outcome as RuleOutcome
from portal.screening.run import OUTCOMES as SCREENING_OUTCOMES
from portal.services.context import Portal
from portal.services.errors import Forbidden
from portal.services.notifications import SCREENING_KIND, screening_prefix
from portal.services.sla import ESCALATED
from portal.services.supervision_banks import BankChoice, records
from portal.services.supervision_sets import (
    APPROVED,
    A,
    AnyQuery,
    Cases,
    D,
    E,
    Selection,
    district_scope,
    table_of,
)
from portal.services.supervision_sql import Period, period_of
from portal.workflows import Actor

Key = tuple[Any, ...]
CASE_LIST_LIMIT = 200
WORK_MEM = "64MB"
PARALLEL = 3  # sections read at once on PostgreSQL (each holds a pooled connection meanwhile)


def default_period(portal: Portal) -> tuple[dt.date, dt.date]:
    """This calendar year to today, by the pack's clock."""
    today = portal.today()
    return today.replace(month=1, day=1), today


@dataclass(frozen=True)
class Spread:
    """Per-duration counts (working days → cases) and what a reader wants of them."""

    counts: Mapping[int, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def percentile(self, share: Decimal) -> int | None:
        """The smallest duration that at least `share` of the cases did not exceed (nearest rank)."""
        total = self.total
        if total == 0:
            return None
        rank, seen = max(1, -(-int(share * total * 100) // 100)), 0
        for days in sorted(self.counts):
            seen += self.counts[days]
            if seen >= rank:
                return days
        return max(self.counts)

    def within(self, limit: int) -> int:
        return sum(n for days, n in self.counts.items() if days <= limit)


def merge(spreads: Iterable[Mapping[int, int]]) -> Spread:
    total: dict[int, int] = {}
    for counts in spreads:
        for days, n in counts.items():
            total[days] = total.get(days, 0) + n
    return Spread(total)


@dataclass
class Dashboard:
    """Every figure of one reading, keyed by codes; the web layer turns codes into labels."""

    period: Period
    district_scope: str | None
    # (measure, track, district, workflow, state) → cases received in the period
    received: dict[Key, int] = field(default_factory=dict)
    # measure → [rows screened, rows eligible] by the screening runs finished in the period (city only)
    screened: dict[str, list[int]] = field(default_factory=dict)
    # measure → (enterprise, measure) pairs told by a screening notice in the period
    notified: dict[str, int] = field(default_factory=dict)
    # (cohort, measure) → [all, applied, confirmed, approved, paid]: enterprises told by a screening
    # notice in the period (cohort notified), enterprises that started a case after a self-check
    # found them eligible in it (cohort self_checked), or 免申即享 cases offered in it (cohort offered)
    cohorts: dict[Key, list[int]] = field(default_factory=dict)
    # measure → [checks, eligible, enterprises found eligible]: self-checks in the period (the
    # checks and eligible outcomes include anonymous ones, city-wide only; enterprises are signed in)
    self_checks: dict[str, list[int]] = field(default_factory=dict)
    # (workflow, state, district, lead_unit) → working days → completed visits in the period
    visits: dict[Key, dict[int, int]] = field(default_factory=dict)
    overdue: dict[Key, int] = field(default_factory=dict)  # (workflow, state) → cases overdue today
    escalations: dict[Key, int] = field(default_factory=dict)  # (workflow, state) → escalations
    # (measure, district, month) → [cases, amount, disbursed cases, disbursed amount]
    approved: dict[Key, list[Any]] = field(default_factory=dict)
    disbursed: dict[Key, list[Any]] = field(
        default_factory=dict
    )  # (measure, district, month) → [cases, amount]
    # (bank, product, outcome, kind of call) → queries (the kind: `supervision_banks.call_of_row`)
    bank_queries: dict[Key, int] = field(default_factory=dict)
    consents: dict[str, int] = field(default_factory=dict)  # bank → consents granted
    loans: dict[Key, list[Any]] = field(default_factory=dict)  # (bank, product, state) → [loans, principal]
    exposure: dict[str, list[Any]] = field(default_factory=dict)  # loan state → [loans, principal], today
    panels: dict[str, int] = field(default_factory=dict)  # measure → panels formed
    conflicts: dict[str, int] = field(
        default_factory=dict
    )  # measure → cases with a conflicted expert excluded
    score_days: dict[str, dict[int, int]] = field(default_factory=dict)  # measure → working days → scores
    objections: dict[str, list[int]] = field(default_factory=dict)  # measure → [filed, upheld, dismissed]


Section = Callable[[Session, Cases, Selection, Dashboard], None]


def _rows(session: Session, query: Any) -> Sequence[Any]:
    return session.execute(query).all()


def read_dashboard(portal: Portal, actor: Actor, start: dt.date, end: dt.date) -> Dashboard:
    """All figures for `start`..`end` (inclusive local dates) within the reader's scope.

    On PostgreSQL the sections run side by side, each in its own read-only transaction (a
    dashboard may mix snapshots a moment apart); SQLite reads them one after the other.
    """
    scope = district_scope(actor)
    period = period_of(start, end, portal.calendar.zone)
    board = Dashboard(period, scope)
    base = Selection("received", period, scope)
    sections = (_sla, _cohorts, _received, _money, _experts, _banks, _self_checks)
    dialect = portal.engine.dialect.name

    def run(section: Section) -> None:
        with portal.reading() as session:
            if dialect == "postgresql":
                # Stage visits sort every transition and the aggregates hash every case: in
                # memory, not in temporary files, for this read-only transaction only.
                session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
            section(session, Cases(portal, dialect), base, board)

    if dialect != "postgresql":
        for section in sections:
            run(section)
        return board
    with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="supervision") as pool:
        for done in [pool.submit(run, section) for section in sections]:
            done.result()
    return board


def _received(session: Session, sets: Cases, base: Selection, board: Dashboard) -> None:
    query, _ = sets.select(base)
    keys = (A.c.measure_id, A.c.track, A.c.district, A.c.workflow, A.c.state)
    for *key, n in _rows(session, query.add_columns(*keys, func.count()).group_by(*keys)):
        board.received[tuple(key)] = n


def _flag(test: Any) -> Any:
    return func.coalesce(func.sum(case((test, 1), else_=0)), 0)


def _cohorts(session: Session, sets: Cases, base: Selection, board: Dashboard) -> None:
    n = table_of(Notification)
    measures = sorted(sets.portal.pack.measure_ids())
    told = case(
        *[
            (func.substr(n.c.dedupe_key, 1, len(screening_prefix(m))) == screening_prefix(m), m)
            for m in measures
        ],
        else_=None,
    )
    pairs = (
        select(n.c.enterprise_id, told.label("measure"))
        .join(E, E.c.id == n.c.enterprise_id)
        .where(n.c.kind == SCREENING_KIND, base.period.holds(n.c.created_at))
    )
    if base.district_scope is not None:
        pairs = pairs.where(E.c.district == base.district_scope)
    distinct = pairs.distinct().subquery("told")
    counted = (
        select(distinct.c.measure, func.count())
        .where(distinct.c.measure.is_not(None))
        .group_by(distinct.c.measure)
    )
    board.notified = {measure: count for measure, count in _rows(session, counted)}
    if base.district_scope is None:  # a run screens a file or the register, not one district's firms
        _screened(session, sets, base, board, measures)
    disbursed = sets.entered(sets.disbursing, "disbursed_ever")
    confirmed = sets.confirmed()
    flags = (
        true(),
        A.c.submitted_at.is_not(None),
        confirmed.c.application_id.is_not(None),
        D.c.id.is_not(None),
        disbursed.c.application_id.is_not(None),
    )
    # The screening and self-check funnels count enterprises, as their first steps do (an
    # enterprise may hold more than one case for a measure); a 免申即享 offer is one case each.
    cohorts = (("notified", A.c.enterprise_id), ("self_checked", A.c.enterprise_id), ("offered", A.c.id))
    for cohort, counted_by in cohorts:
        query, _ = sets.select(base.narrowed(case_set=cohort))
        query = (
            query.outerjoin(D, (D.c.application_id == A.c.id) & (D.c.outcome == APPROVED))
            .outerjoin(disbursed, disbursed.c.application_id == A.c.id)
            .outerjoin(confirmed, confirmed.c.application_id == A.c.id)
            .add_columns(A.c.measure_id, *[func.count(func.distinct(case((f, counted_by)))) for f in flags])
            .group_by(A.c.measure_id)
        )
        for measure, *counts in _rows(session, query):
            board.cohorts[(cohort, measure)] = [int(c) for c in counts]


def _self_checks(session: Session, sets: Cases, base: Selection, board: Dashboard) -> None:
    c = table_of(SelfCheckResult)
    eligible = c.c.outcome == RuleOutcome.ELIGIBLE.value
    query = (
        select(
            c.c.measure_id,
            func.count(),
            _flag(eligible),
            func.count(func.distinct(case((eligible, c.c.enterprise_id)))),
        )
        .where(base.period.holds(c.c.checked_at))
        .group_by(c.c.measure_id)
    )
    if base.district_scope is not None:  # only a signed-in enterprise's check has a district
        query = query.join(E, E.c.id == c.c.enterprise_id).where(E.c.district == base.district_scope)
    board.self_checks = {m: [int(n), int(ok), int(firms)] for m, n, ok, firms in _rows(session, query)}


def _screened(session: Session, sets: Cases, base: Selection, board: Dashboard, measures: list[str]) -> None:
    """Rows screened and found eligible per measure by the screening runs finished in the period."""
    run = table_of(ScreeningRun)
    counts = type_coerce(run.c.counts, JSONB if sets.dialect == "postgresql" else JSON)
    columns = [
        func.coalesce(func.sum(counts[(measure, outcome)].as_integer()), 0)
        for measure in measures
        for outcome in SCREENING_OUTCOMES
    ]
    found = session.execute(
        select(*columns).where(
            run.c.status == RunStatus.SUCCEEDED.value, base.period.holds(run.c.finished_at)
        )
    ).one()
    width = len(SCREENING_OUTCOMES)
    for i, measure in enumerate(measures):
        mine = dict(zip(SCREENING_OUTCOMES, found[i * width : (i + 1) * width], strict=True))
        if any(mine.values()):
            board.screened[measure] = [sum(int(n) for n in mine.values()), int(mine["eligible"])]


def _sla(session: Session, sets: Cases, base: Selection, board: Dashboard) -> None:
    visit = sets.visits(base.district_scope)
    span = sets.working_days(visit.c.entered, visit.c.left)
    days = span.days
    keys = (visit.c.workflow, visit.c.state, visit.c.district, visit.c.lead_unit)
    query = select(*keys, days, func.count()).select_from(visit)
    for table, on in span.joins:
        query = query.join(table, on)
    query = query.where(
        base.period.holds(visit.c.left),
        span.known,
        sets.timed(visit.c.workflow, visit.c.state, days, late=False),
    )
    for *key, spent, count in _rows(session, query.group_by(*keys, days)):
        board.visits.setdefault(tuple(key), {})[int(spent)] = count
    overdue, _ = sets.select(base.narrowed(case_set="overdue"))
    stage = (A.c.workflow, A.c.state)
    board.overdue = {
        (w, s): c for w, s, c in _rows(session, overdue.add_columns(*stage, func.count()).group_by(*stage))
    }
    audit = table_of(AuditEvent)
    escalated = (
        select(A.c.workflow, audit.c.to_state, func.count())
        .select_from(audit)
        .join(A, audit.c.subject_id == cast(A.c.id, audit.c.subject_id.type))
        .where(
            audit.c.subject_type == "application",
            audit.c.event == ESCALATED,
            base.period.holds(audit.c.at),
        )
        .group_by(A.c.workflow, audit.c.to_state)
    )
    if base.district_scope is not None:
        escalated = escalated.where(A.c.district == base.district_scope)
    board.escalations = {(w, s): c for w, s, c in _rows(session, escalated)}


def _money(session: Session, sets: Cases, base: Selection, board: Dashboard) -> None:
    disbursed = sets.entered(sets.disbursing, "disbursed_ever")
    approved, decided = sets.select(base.narrowed(case_set="approved"))
    assert decided is not None
    month = sets.month(decided)
    paid = disbursed.c.application_id.is_not(None)
    amount = func.coalesce(D.c.granted_amount, 0)
    query = (
        approved.outerjoin(disbursed, disbursed.c.application_id == A.c.id)
        .add_columns(
            A.c.measure_id,
            A.c.district,
            month,
            func.count(),
            func.sum(amount),
            _flag(paid),
            func.sum(case((paid, amount), else_=0)),
        )
        .group_by(A.c.measure_id, A.c.district, month)
    )
    for measure, district, when, *figures in _rows(session, query):
        board.approved[(measure, district, when)] = [
            figures[0],
            money_sum(figures[1]),
            figures[2],
            money_sum(figures[3]),
        ]
    paid_cases, moved = sets.select(base.narrowed(case_set="paid"))
    assert moved is not None
    month = sets.month(moved)
    query = (
        paid_cases.outerjoin(D, D.c.application_id == A.c.id)
        .add_columns(
            A.c.measure_id, A.c.district, month, func.count(), func.sum(func.coalesce(D.c.granted_amount, 0))
        )
        .group_by(A.c.measure_id, A.c.district, month)
    )
    for measure, district, when, count, total in _rows(session, query):
        board.disbursed[(measure, district, when)] = [count, money_sum(total)]


def _banks(session: Session, sets: Cases, base: Selection, board: Dashboard) -> None:
    """Each bank figure groups one record set of `supervision_banks` (what its drill-down lists)."""
    flow = sets.portal.city.banking.loan_workflow

    def grouped(kind: str, keys: tuple[str, ...], *figures: str) -> Sequence[Any]:
        chosen = BankChoice(kind, base.period, base.district_scope)  # type: ignore[arg-type]
        query, c = records(chosen, flow)
        counted = [func.count(), *[func.sum(c[f]) for f in figures]]
        return _rows(
            session, query.add_columns(*[c[k] for k in keys], *counted).group_by(*[c[k] for k in keys])
        )

    board.bank_queries = {
        (b, p, o, c): n for b, p, o, c, n in grouped("queries", ("bank", "product", "state", "call"))
    }
    board.consents = {b: n for b, n in grouped("consents", ("bank",))}
    board.loans = {
        (b, p, s): [n, money_sum(t)]
        for b, p, s, n, t in grouped("loans", ("bank", "product", "state"), "amount")
    }
    board.exposure = {s: [n, money_sum(t)] for s, n, t in grouped("exposure", ("state",), "amount")}


def _scores(sets: Cases, chosen: Selection) -> tuple[AnyQuery, ColumnElement[int]]:
    """The expert scores submitted in the period within the scope, one row each with no columns
    yet, and each score's working days from the expert's assignment to it: what the expert figure
    counts and times, and what its drill-down counts on the cases it lists."""
    x, s = table_of(ExpertAssignment), table_of(ExpertScore)
    span = sets.working_days(x.c.assigned_at, s.c.submitted_at)
    query = select().select_from(s).join(x, x.c.id == s.c.assignment_id).join(A, A.c.id == x.c.application_id)
    for table, on in span.joins:
        query = query.join(table, on)
    period = sets.within_month(chosen.period, chosen.month) if chosen.month else chosen.period
    query = query.where(period.holds(s.c.submitted_at), span.known)
    if chosen.district_scope is not None:
        query = query.where(A.c.district == chosen.district_scope)
    return query, span.days


def _experts(session: Session, sets: Cases, base: Selection, board: Dashboard) -> None:
    for name, target in (("panel", board.panels), ("conflict", board.conflicts)):
        query, _ = sets.select(base.narrowed(case_set=name))
        target.update(
            dict(_rows(session, query.add_columns(A.c.measure_id, func.count()).group_by(A.c.measure_id)))
        )
    query, days = _scores(sets, base)
    for measure, spent, count in _rows(
        session, query.add_columns(A.c.measure_id, days, func.count()).group_by(A.c.measure_id, days)
    ):
        board.score_days.setdefault(measure, {})[int(spent)] = count
    o = table_of(Objection)
    objections = (
        select(
            A.c.measure_id,
            func.count(),
            _flag(o.c.sustained.is_(True)),
            _flag(o.c.sustained.is_(False)),
        )
        .select_from(o)
        .join(A, A.c.id == o.c.application_id)
        .where(base.period.holds(o.c.filed_at))
        .group_by(A.c.measure_id)
    )
    if base.district_scope is not None:
        objections = objections.where(A.c.district == base.district_scope)
    board.objections = {m: [int(f), int(u), int(d)] for m, f, u, d in _rows(session, objections)}


# The sets whose figures sum money: the approving decision's granted amount (核定金额) of each case.
MONEY_SETS = frozenset({"approved", "paid"})


@dataclass(frozen=True)
class CaseLine:
    """One case behind a figure, as the drill-down lists it; `granted` (the approving decision's
    amount, as the money figures sum it) in a money set only."""

    id: int
    measure_id: str
    enterprise: str
    uscc: str
    district: str
    workflow: str
    state: str
    received: dt.datetime
    granted: Decimal | None = None


def _granted(application_id: Any) -> Any:
    """The case's granted amount: its decision's, as `_money` sums it (one decision per case)."""
    g = D.alias("granted")
    return select(g.c.granted_amount).where(g.c.application_id == application_id).scalar_subquery()


def list_cases(
    portal: Portal, actor: Actor, chosen: Selection, after: int = 0
) -> tuple[list[CaseLine], int, int]:
    """The cases behind one figure (id order, a page after `after`), and how many cases and
    enterprises there are in all (the screening funnel counts enterprises)."""
    if district_scope(actor) != chosen.district_scope:
        raise Forbidden("超出您的监管范围", "outside your supervision scope")
    with portal.reading() as session:
        sets = Cases(portal, session.get_bind().dialect.name)
        query, _ = sets.select(chosen)
        total, firms = session.execute(
            query.add_columns(func.count(func.distinct(A.c.id)), func.count(func.distinct(A.c.enterprise_id)))
        ).one()
        rows = session.execute(
            query.add_columns(
                A.c.id,
                A.c.measure_id,
                E.c.name,
                E.c.uscc,
                A.c.district,
                A.c.workflow,
                A.c.state,
                func.coalesce(A.c.submitted_at, A.c.created_at),
                _granted(A.c.id) if chosen.case_set in MONEY_SETS else null(),
            )
            .where(A.c.id > after)
            .distinct()
            .order_by(A.c.id)
            .limit(CASE_LIST_LIMIT)
        ).all()
    lines = [
        CaseLine(
            id=row[0],
            measure_id=row[1],
            enterprise=row[2],
            uscc=row[3],
            district=row[4],
            workflow=row[5],
            state=row[6],
            received=row[7],
            granted=money_sum(row[8]) if row[8] is not None else None,
        )
        for row in rows
    ]
    return lines, int(total), int(firms)


def granted_total(portal: Portal, actor: Actor, chosen: Selection) -> Decimal | None:
    """What the cases of a money set were granted in all, each case once (the figure's amount);
    None for a set that is not about money."""
    if chosen.case_set not in MONEY_SETS:
        return None
    if district_scope(actor) != chosen.district_scope:
        raise Forbidden("超出您的监管范围", "outside your supervision scope")
    with portal.reading() as session:
        query, _ = Cases(portal, session.get_bind().dialect.name).select(chosen)
        cases = query.add_columns(A.c.id.label("id")).distinct().subquery("cases")
        total = session.execute(select(func.sum(_granted(cases.c.id))).select_from(cases)).scalar()
    return money_sum(total)


def scores_total(portal: Portal, actor: Actor, chosen: Selection) -> int | None:
    """How many expert scores the cases of a `scored` figure received in the period (the figure's
    number: a case scored by three experts counts three); None for any other set."""
    if chosen.case_set != "scored":
        return None
    if district_scope(actor) != chosen.district_scope:
        raise Forbidden("超出您的监管范围", "outside your supervision scope")
    with portal.reading() as session:
        sets = Cases(portal, session.get_bind().dialect.name)
        cases, _ = sets.select(chosen)
        query, _ = _scores(sets, chosen)
        listed = cases.add_columns(A.c.id.label("id")).distinct().subquery("listed")
        found = query.join(listed, listed.c.id == A.c.id).add_columns(func.count())
        return int(session.execute(found).scalar_one())
