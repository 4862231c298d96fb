"""Every figure of the supervision dashboard against an independent hand-written SQL query.

The same generated year of cases (tests/support/supervision_data.py) is read twice: by
`portal.services.supervision` (SQLAlchemy Core, GROUP BY, windows, the calendar as a VALUES
table) and by plain SQL written here without any of its helpers. Working days are counted
here in Python with `WorkingCalendar.working_days_between` over raw visit rows paired by a
self-join, so neither the pairing nor the calendar arithmetic is shared with the code under
test. On SQLite and PostgreSQL, for the city, for one district, and for a narrower period.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from portal.db.engine import make_engine
from portal.services import supervision
from portal.services.context import Portal
from portal.services.enterprises import create_staff_user
from portal.services.errors import Forbidden
from portal.services.supervision_banks import CALLS, BankChoice, list_bank_records
from portal.services.supervision_sets import NO_TRACK, Selection
from portal.services.supervision_sql import period_of
from portal.settings import Settings
from portal.workflows import Actor
from tests.support.supervision_data import generate

TODAY = dt.date(2026, 11, 27)
# The whole generated year and beyond (bank queries and escalations are stamped with the real
# time of the run), and a narrower window that cuts through visits and months.
PERIODS = [(dt.date(2026, 1, 1), dt.date(2027, 12, 31)), (dt.date(2026, 3, 10), dt.date(2026, 7, 20))]
SCOPES = [None, "tianhe"]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    databases: Any = request.getfixturevalue("databases")
    url = databases.migrated(request.param)
    data: Path = tmp_path_factory.mktemp("supervision")
    portal = Portal.from_settings(
        Settings(DATABASE_URL=url, PORTAL_DATA_DIR=str(data)), engine=make_engine(url)
    )
    portal = replace(portal, clock=portal.clock.pinned_to(TODAY))
    generate(portal, 400)
    yield portal
    portal.engine.dispose()
    databases.drop(url)


def _actor(portal: Portal, district: str | None) -> Actor:
    name = f"sup_{district or 'city'}"
    from portal.services.enterprises import actor_for_username
    from portal.services.errors import NotFound

    try:
        return actor_for_username(portal, name)
    except NotFound:
        create_staff_user(
            portal,
            None,
            username=name,
            password="Sup-Passw0rd-2026!",
            display_name=name,
            role="supervisor",
            district=district,
        )
        return actor_for_username(portal, name)


def _sql(portal: Portal, query: str, **params: object) -> list[tuple[Any, ...]]:
    with portal.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query), params).all()]


def _bounds(portal: Portal, start: dt.date, end: dt.date) -> dict[str, object]:
    """The period's UTC bounds as each database stores instants (naive text on SQLite)."""
    period = period_of(start, end, portal.calendar.zone)
    if portal.engine.dialect.name == "sqlite":
        return {
            "lo": period.start_at.replace(tzinfo=None).isoformat(sep=" "),
            "hi": period.end_at.replace(tzinfo=None).isoformat(sep=" "),
        }
    return {"lo": period.start_at, "hi": period.end_at}


def _scope(district: str | None, column: str = "a.district") -> str:
    return f" AND {column} = :district" if district else ""


def _local(portal: Portal, column: str) -> str:
    if portal.engine.dialect.name == "sqlite":
        return f"date({column}, '+8 hours')"  # Asia/Shanghai has had no daylight saving since 1991
    return f"CAST(({column} AT TIME ZONE 'Asia/Shanghai') AS date)"


def _month(portal: Portal, column: str) -> str:
    return f"substr(CAST({_local(portal, column)} AS TEXT), 1, 7)"


def _money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("district", SCOPES)
@pytest.mark.parametrize("span", PERIODS, ids=["year", "window"])
def test_every_figure_matches_hand_written_sql(
    world: Portal, span: tuple[dt.date, dt.date], district: str | None
) -> None:
    portal = world
    board = supervision.read_dashboard(portal, _actor(portal, district), *span)
    p = {**_bounds(portal, *span), "district": district}
    drafts = "('draft')"
    disbursing = "('disbursed')"

    received = _sql(
        portal,
        f"""
        SELECT a.measure_id, a.track, a.district, a.workflow, a.state, count(*)
        FROM application a
        WHERE coalesce(a.submitted_at, a.created_at) >= :lo AND coalesce(a.submitted_at, a.created_at) < :hi
          AND a.state NOT IN {drafts} {_scope(district)}
        GROUP BY a.measure_id, a.track, a.district, a.workflow, a.state""",
        **p,
    )
    assert board.received == {tuple(r[:5]): r[5] for r in received}
    assert board.received

    notified = _sql(
        portal,
        f"""
        SELECT m, count(*) FROM (
          SELECT DISTINCT n.enterprise_id, a.measure_id AS m
          FROM notification n JOIN enterprise e ON e.id = n.enterprise_id,
               (SELECT DISTINCT measure_id FROM application) a
          WHERE n.kind = 'screening' AND n.dedupe_key LIKE 'screening:' || a.measure_id || ':%'
            AND n.created_at >= :lo AND n.created_at < :hi {_scope(district, "e.district")}
        ) t GROUP BY m""",
        **p,
    )
    assert board.notified == dict(notified)

    cohorts: dict[tuple[str, str], list[int]] = {}
    told = """EXISTS (SELECT 1 FROM notification n WHERE n.kind = 'screening'
               AND n.enterprise_id = a.enterprise_id
               AND n.dedupe_key LIKE 'screening:' || a.measure_id || ':%'
               AND n.created_at >= :lo AND n.created_at < :hi)"""
    offered = """EXISTS (SELECT 1 FROM transition t
               WHERE t.application_id = a.id AND t.to_state = 'awaiting_confirmation'
               AND t.at >= :lo AND t.at < :hi AND t.at = (SELECT min(t2.at) FROM transition t2
               WHERE t2.application_id = a.id AND t2.to_state = 'awaiting_confirmation'))"""
    checked = """EXISTS (SELECT 1 FROM self_check_result c WHERE c.enterprise_id = a.enterprise_id
               AND c.measure_id = a.measure_id AND c.outcome = 'eligible'
               AND c.checked_at >= :lo AND c.checked_at < :hi AND c.checked_at <= a.created_at)"""
    # The screening and self-check funnels count enterprises; 免申即享 offers count cases.
    for cohort, where, unit in (
        ("notified", told, "a.enterprise_id"),
        ("self_checked", checked, "a.enterprise_id"),
        ("offered", offered, "a.id"),
    ):
        for row in _sql(
            portal,
            f"""
            SELECT a.measure_id, count(DISTINCT {unit}),
              count(DISTINCT CASE WHEN a.submitted_at IS NOT NULL THEN {unit} END),
              count(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM transition t WHERE t.application_id = a.id
                  AND t.from_state = 'awaiting_confirmation' AND t.to_state NOT IN ('withdrawn', 'rejected',
                  'disbursed', 'status_granted')) THEN {unit} END),
              count(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM decision d WHERE d.application_id = a.id
                  AND d.outcome = 'approved') THEN {unit} END),
              count(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM transition t WHERE t.application_id = a.id
                  AND t.to_state IN {disbursing}) THEN {unit} END)
            FROM application a WHERE {where} {_scope(district)} GROUP BY a.measure_id""",
            **p,
        ):
            cohorts[(cohort, row[0])] = [int(v) for v in row[1:]]
    assert board.cohorts == cohorts

    self_checks = _sql(
        portal,
        f"""
        SELECT c.measure_id, count(*), sum(CASE WHEN c.outcome = 'eligible' THEN 1 ELSE 0 END),
          count(DISTINCT CASE WHEN c.outcome = 'eligible' THEN c.enterprise_id END)
        FROM self_check_result c {"JOIN enterprise e ON e.id = c.enterprise_id" if district else ""}
        WHERE c.checked_at >= :lo AND c.checked_at < :hi {_scope(district, "e.district")}
        GROUP BY 1""",
        **p,
    )
    assert board.self_checks == {m: [n, int(ok), firms] for m, n, ok, firms in self_checks}

    runs = _sql(portal, "SELECT counts FROM screening_run WHERE status = 'succeeded' AND finished_at >= :lo "
                "AND finished_at < :hi", **p)  # fmt: skip
    screened: dict[str, list[int]] = {}
    for (counts,) in runs:
        for measure, by_outcome in (counts if isinstance(counts, dict) else json.loads(counts)).items():
            mine = screened.setdefault(measure, [0, 0])
            mine[0] += sum(by_outcome.values())
            mine[1] += by_outcome["eligible"]
    assert board.screened == ({} if district else {m: c for m, c in screened.items() if c[0]})

    _check_sla(portal, board, p, district, span)

    approved = _sql(
        portal,
        f"""
        SELECT a.measure_id, a.district, {_month(portal, "d.decided_at")}, count(*),
          sum(coalesce(d.granted_amount, 0)),
          sum(CASE WHEN EXISTS (SELECT 1 FROM transition t WHERE t.application_id = a.id
            AND t.to_state IN {disbursing})
              THEN 1 ELSE 0 END),
          sum(CASE WHEN EXISTS (SELECT 1 FROM transition t WHERE t.application_id = a.id
            AND t.to_state IN {disbursing})
              THEN coalesce(d.granted_amount, 0) ELSE 0 END)
        FROM decision d JOIN application a ON a.id = d.application_id
        WHERE d.outcome = 'approved' AND d.decided_at >= :lo AND d.decided_at < :hi {_scope(district)}
        GROUP BY 1, 2, 3""",
        **p,
    )
    assert board.approved == {
        (m, d, mo): [n, _money(s), int(pn), _money(ps)] for m, d, mo, n, s, pn, ps in approved
    }
    paid = _sql(
        portal,
        f"""
        SELECT a.measure_id, a.district, {_month(portal, "f.at")}, count(*),
          sum(coalesce(d.granted_amount, 0))
        FROM application a
        JOIN (SELECT application_id, min(at) AS at FROM transition
          WHERE to_state IN {disbursing} GROUP BY application_id) f
          ON f.application_id = a.id
        LEFT JOIN decision d ON d.application_id = a.id
        WHERE f.at >= :lo AND f.at < :hi {_scope(district)} GROUP BY 1, 2, 3""",
        **p,
    )
    assert board.disbursed == {(m, d, mo): [n, _money(s)] for m, d, mo, n, s in paid}

    queries = _sql(
        portal,
        f"""
        SELECT b.name, l.product, l.outcome, count(*) FROM bank_access_log l
        LEFT JOIN bank b ON b.id = l.bank_id LEFT JOIN enterprise e ON e.id = l.enterprise_id
        WHERE l.at >= :lo AND l.at < :hi {_scope(district, "e.district")} GROUP BY 1, 2, 3""",
        **p,
    )
    by_outcome: dict[tuple[object, ...], int] = {}
    for (bank, product, outcome, _), n in board.bank_queries.items():
        by_outcome[(bank, product, outcome)] = by_outcome.get((bank, product, outcome), 0) + n
    assert by_outcome == {tuple(r[:3]): r[3] for r in queries}
    consents = _sql(
        portal,
        f"""
        SELECT b.name, count(*) FROM bank_consent c JOIN bank b ON b.id = c.bank_id
          JOIN enterprise e ON e.id = c.enterprise_id
        WHERE c.granted_at >= :lo AND c.granted_at < :hi {_scope(district, "e.district")} GROUP BY 1""",
        **p,
    )
    assert board.consents == dict(consents)
    loans = _sql(
        portal,
        f"""
        SELECT b.name, l.product, l.state, count(*), sum(l.amount) FROM loan l JOIN bank b ON b.id = l.bank_id
        JOIN enterprise e ON e.id = l.enterprise_id
        WHERE l.created_at >= :lo AND l.created_at < :hi {_scope(district, "e.district")}
        GROUP BY 1, 2, 3""",
        **p,
    )
    assert board.loans == {(b, pr, s): [n, _money(t)] for b, pr, s, n, t in loans}
    exposure = _sql(
        portal,
        f"""
        SELECT l.state, count(*), sum(l.amount) FROM loan l JOIN enterprise e ON e.id = l.enterprise_id
        WHERE l.workflow = 'bank_loan' {_scope(district, "e.district")} GROUP BY 1""",
        **p,
    )
    assert board.exposure == {s: [n, _money(t)] for s, n, t in exposure}

    panels = _sql(
        portal,
        f"""
        SELECT a.measure_id, count(*) FROM application a
        JOIN (SELECT application_id, min(assigned_at) AS at FROM expert_assignment GROUP BY application_id) x
          ON x.application_id = a.id
        WHERE x.at >= :lo AND x.at < :hi {_scope(district)} GROUP BY 1""",
        **p,
    )
    assert board.panels == dict(panels)
    conflicts = _sql(
        portal,
        f"""
        SELECT a.measure_id, count(*) FROM application a WHERE EXISTS (SELECT 1 FROM expert_assignment x
          WHERE x.application_id = a.id AND x.conflicted AND x.excluded_at >= :lo AND x.excluded_at < :hi)
          {_scope(district)} GROUP BY 1""",
        **p,
    )
    assert board.conflicts == dict(conflicts)
    scored = _sql(
        portal,
        f"""
        SELECT a.measure_id, x.assigned_at, s.submitted_at FROM expert_score s
        JOIN expert_assignment x ON x.id = s.assignment_id JOIN application a ON a.id = x.application_id
        WHERE s.submitted_at >= :lo AND s.submitted_at < :hi {_scope(district)}""",
        **p,
    )
    spans: dict[str, Counter[int]] = {}
    for measure, assigned, submitted in scored:
        spans.setdefault(measure, Counter())[_working_days(portal, assigned, submitted)] += 1
    assert board.score_days == {m: dict(c) for m, c in spans.items()}
    objections = _sql(
        portal,
        f"""
        SELECT a.measure_id, count(*), sum(CASE WHEN o.sustained THEN 1 ELSE 0 END),
          sum(CASE WHEN o.sustained = false THEN 1 ELSE 0 END)
        FROM objection o JOIN application a ON a.id = o.application_id
        WHERE o.filed_at >= :lo AND o.filed_at < :hi {_scope(district)} GROUP BY 1""",
        **p,
    )
    assert board.objections == {m: [n, int(u), int(d)] for m, n, u, d in objections}
    if span == PERIODS[0] and district is None:  # no figure is checked only while empty
        assert {cohort for cohort, _ in board.cohorts} == {"notified", "self_checked", "offered"}
        assert board.screened and board.self_checks
        for figure in (
            board.notified,
            board.approved,
            board.disbursed,
            board.bank_queries,
            board.consents,
            board.loans,
            board.exposure,
            board.panels,
            board.conflicts,
            board.score_days,
            board.objections,
        ):
            assert figure


def _instant(value: object) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _working_days(portal: Portal, start: object, end: object) -> int:
    local = portal.clock.local_date
    return portal.calendar.working_days_between(local(_instant(start)), local(_instant(end)))


def _check_sla(portal: Portal, board: Any, p: dict[str, object], district: str | None, span: Any) -> None:
    # A visit: a move into a stage, and the next move of the case (self-loops are no moves).
    visits = _sql(
        portal,
        f"""
        SELECT a.workflow, t.to_state, a.district, a.lead_unit, t.at, n.at
        FROM transition t JOIN application a ON a.id = t.application_id
        JOIN transition n ON n.application_id = t.application_id AND n.from_state <> n.to_state
          AND (n.at > t.at OR (n.at = t.at AND n.id > t.id))
        WHERE t.from_state <> t.to_state
          AND NOT EXISTS (SELECT 1 FROM transition m WHERE m.application_id = t.application_id
              AND m.from_state <> m.to_state AND (m.at > t.at OR (m.at = t.at AND m.id > t.id))
              AND (m.at < n.at OR (m.at = n.at AND m.id < n.id)))
          AND n.at >= :lo AND n.at < :hi
          AND t.to_state IN ('submitted', 'district_review', 'bureau_review', 'expert_review', 'approved')
          {_scope(district)}""",
        **p,
    )
    expected: dict[tuple[Any, ...], Counter[int]] = {}
    for workflow, state, where, unit, entered, left in visits:
        expected.setdefault((workflow, state, where, unit), Counter())[
            _working_days(portal, entered, left)
        ] += 1
    assert board.visits == {k: dict(v) for k, v in expected.items()}
    overdue = _sql(
        portal,
        f"""SELECT a.workflow, a.state, count(*) FROM application a WHERE a.overdue
        {_scope(district)} GROUP BY 1, 2""",
        **p,
    )
    assert board.overdue == {(w, s): n for w, s, n in overdue}
    escalated = _sql(
        portal,
        f"""
        SELECT a.workflow, e.to_state, count(*) FROM audit_event e
          JOIN application a ON CAST(a.id AS TEXT) = e.subject_id
        WHERE e.subject_type = 'application' AND e.event = 'sla_escalated' AND e.at >= :lo AND e.at < :hi
        {_scope(district)} GROUP BY 1, 2""",
        **p,
    )
    assert board.escalations == {(w, s): n for w, s, n in escalated}
    if span == PERIODS[0] and district is None:  # the generated world has some of each
        assert board.visits and board.overdue and board.escalations


@pytest.mark.parametrize("district", SCOPES)
def test_each_drill_down_lists_the_cases_a_figure_counts(world: Portal, district: str | None) -> None:
    """The cases behind a figure are as many as the figure says (one case per row of the set)."""
    portal = world
    actor = _actor(portal, district)
    board = supervision.read_dashboard(portal, actor, *PERIODS[0])
    period = board.period
    base = Selection("received", period, district)
    for (measure, track, where, workflow, state), n in list(board.received.items())[:6]:
        chosen = replace(
            base, measure=measure, track=track or NO_TRACK, district=where, workflow=workflow, state=state
        )
        lines, total, _ = supervision.list_cases(portal, actor, chosen)
        assert total == n and {line.measure_id for line in lines} == {measure}
    # The figure by track, its untagged row ("未标注方向") included: each drills down to its cases.
    by_track: Counter[str | None] = Counter()
    for (_, track, _, _, _), n in board.received.items():
        by_track[track] += n
    assert None in by_track and len(by_track) > 2
    for track, n in by_track.items():
        assert supervision.list_cases(portal, actor, replace(base, track=track or NO_TRACK))[1] == n, track
    for (cohort, measure), (everyone, _, _, approved, paid) in board.cohorts.items():
        for outcome, count in (("", everyone), ("approved", approved), ("paid", paid)):
            chosen = replace(base, case_set=cohort, measure=measure, outcome=outcome)  # type: ignore[arg-type]
            _, cases, firms = supervision.list_cases(portal, actor, chosen)
            assert (cases if cohort == "offered" else firms) == count
    by_measure: Counter[str] = Counter()
    for (measure, _, _), (n, _, _, _) in board.approved.items():
        by_measure[measure] += n
    for measure, n in by_measure.items():
        assert (
            supervision.list_cases(portal, actor, replace(base, case_set="approved", measure=measure))[1] == n
        )
    for (workflow, state), n in board.overdue.items():
        chosen = replace(base, case_set="overdue", workflow=workflow, state=state)
        assert supervision.list_cases(portal, actor, chosen)[1] == n
    for measure, n in board.panels.items():
        assert supervision.list_cases(portal, actor, replace(base, case_set="panel", measure=measure))[1] == n
    visited: Counter[tuple[str, str]] = Counter()
    for (workflow, state, _, _), counts in board.visits.items():
        visited[(workflow, state)] += sum(counts.values())
    for (workflow, state), n in visited.items():
        chosen = replace(base, case_set="visits", workflow=workflow, state=state)
        assert 0 < supervision.list_cases(portal, actor, chosen)[1] <= n  # a case may visit a stage twice


@pytest.mark.parametrize("district", SCOPES)
def test_each_bank_figure_drills_down_to_its_records(world: Portal, district: str | None) -> None:
    """Every bank figure's row lists as many records as it counts; None keys ("") included."""
    portal = world
    actor = _actor(portal, district)
    board = supervision.read_dashboard(portal, actor, *PERIODS[0])
    base = BankChoice("queries", board.period, district)

    def listed(**chosen: object) -> int:
        return list_bank_records(portal, actor, replace(base, **chosen))[1]  # type: ignore[arg-type]

    for (bank, product, outcome, call), n in board.bank_queries.items():
        assert listed(kind="queries", bank=bank or "", product=product or "", state=outcome, call=call) == n
    assert listed(kind="queries") == sum(board.bank_queries.values())
    for call in CALLS:  # the calls by kind (eligibility query, loan registration, ...)
        n = sum(n for (_, _, _, of), n in board.bank_queries.items() if of == call)
        assert listed(kind="queries", call=call) == n, call
    for bank, n in board.consents.items():
        assert listed(kind="consents", bank=bank) == n
    for (bank, product, state), (n, _) in board.loans.items():
        records, total = list_bank_records(
            portal, actor, replace(base, kind="loans", bank=bank, product=product, state=state)
        )
        assert total == n and {(r.bank, r.state) for r in records} == {(bank, state)}
    for state, (n, amount) in board.exposure.items():
        records, total = list_bank_records(portal, actor, replace(base, kind="exposure", state=state))
        assert total == n and sum(r.amount or 0 for r in records) == amount
    if district is None:
        assert board.bank_queries and board.consents and board.loans and board.exposure
        with pytest.raises(Forbidden):
            list_bank_records(portal, _actor(portal, "tianhe"), base)
